"""The single write's front door answers exactly as the general stack does: the same status,
headers (but a new request id) and body, for valid and invalid single writes alike, and
leaves the same counts in the metrics."""

import json
from collections.abc import AsyncIterator, MutableMapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote, unquote

import pytest
from fastapi import FastAPI, Request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roomtemp.domain.access import Scope, mint
from roomtemp.domain.measurements import Measurement, format_ts
from roomtemp.http.app import create_app
from roomtemp.http.front_door import WithFrontDoor, single_write_segment
from roomtemp.http.services import services_of
from roomtemp.settings import Settings
from roomtemp.storage.base import WriteResult
from roomtemp.storage.memory import InMemoryStore
from tests.http.conftest import NOW

ADMIN = "an-admin-token-for-the-tests"
READ_TOKEN, READER = mint("reader", frozenset({Scope.READ}), NOW)
WRITE_TOKEN, WRITER = mint("writer", frozenset({Scope.WRITE}), NOW)
CONFIGURATIONS = {
    "anonymous": Settings(database_url="memory://"),
    "tokens": Settings(database_url="memory://", admin_token=ADMIN, rate_limit="6/hour"),
}
Answer = tuple[int, list[tuple[bytes, bytes]], bytes]


@dataclass(frozen=True)
class Posted:
    raw_path: bytes
    query: bytes
    headers: list[tuple[bytes, bytes]]
    chunks: list[bytes]


def _encoded(text: str) -> str:
    return quote(text, safe="")


segments = st.one_of(
    st.text(min_size=0, max_size=12).map(_encoded),
    st.binary(min_size=1, max_size=6).map(lambda raw: "".join(f"%{byte:02X}" for byte in raw)),
    st.sampled_from(
        ["Kitchen", "Living%20room", "a%2Fb", "x/average", "caf%C3%A9", "cafe%CC%81", "%00", "a b"]
    ),
)
timestamps = st.one_of(
    st.none(),
    st.timedeltas(min_value=timedelta(days=-3), max_value=timedelta(days=1)).map(
        lambda offset: format_ts(NOW + offset)
    ),
    st.sampled_from(
        ["2026-11-27T11:00:00", "2026-11-27T11:00:00+05:30", "0001-01-01T00:00:00Z", "later", ""]
    ),
)
measurements = st.fixed_dictionaries(
    {
        "v": st.one_of(
            st.floats(min_value=-500, max_value=2000, allow_nan=False), st.sampled_from([20, "20"])
        ),
    },
    optional={
        "u": st.sampled_from(["K", "C", "F", "c", "x", 1]),
        "ts": timestamps,
        "extra": st.just(1),
    },
)
bodies = st.one_of(
    measurements.map(lambda item: json.dumps(item).encode()),
    st.sampled_from([b"", b"{", b"[]", b'{"v": NaN}', b"\xff", b" " * 70_000 + b'{"v": 1}']),
)
headers = st.fixed_dictionaries(
    {},
    optional={
        b"content-type": st.sampled_from(
            [
                b"application/json",
                b"Application/JSON; charset=utf-8",
                b"application/x+json",
                b"text/plain",
                b"application/x-ndjson",
            ]
        ),
        b"authorization": st.sampled_from(
            [f"Bearer {token}".encode() for token in (ADMIN, READ_TOKEN, WRITE_TOKEN, "junk")]
            + [b"Basic eDp5", f"bearer {WRITE_TOKEN}".encode()]
        ),
        b"host": st.sampled_from([b"127.0.0.1:8000", b"localhost", b"evil.example"]),
        b"origin": st.sampled_from([b"http://127.0.0.1:8000", b"https://evil.example"]),
        b"sec-fetch-site": st.sampled_from([b"same-origin", b"cross-site"]),
        b"x-forwarded-for": st.just(b"10.0.0.1"),
        b"x-request-id": st.sampled_from([b"req-1", b"bad id\x01"]),
    },
)


@st.composite
def posts(draw: st.DrawFn) -> Posted:
    body = draw(bodies)
    cut = draw(st.integers(0, len(body)))
    fields = draw(headers)
    fields[b"content-length"] = str(len(body)).encode()
    return Posted(
        b"/measurements/" + draw(segments).encode(),
        draw(st.sampled_from([b"", b"", b"", b"x=1"])),
        list(fields.items()),
        [body[:cut], body[cut:]],
    )


async def answer(
    app: FastAPI, posted: Posted, sent: list[MutableMapping[str, Any]] | None = None
) -> Answer:
    """What `app` answers, spoken to as uvicorn does (its path decoded from the raw one); the
    messages sent are left in `sent` too."""
    sent = [] if sent is None else sent
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "root_path": "",
        "path": unquote(posted.raw_path.decode("ascii")),
        "raw_path": posted.raw_path,
        "query_string": posted.query,
        "headers": posted.headers,
        "state": {},
    }
    chunks = list(posted.chunks)

    async def receive() -> dict[str, Any]:
        if not chunks:
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": chunks.pop(0), "more_body": bool(chunks)}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start, *body = sent
    return start["status"], list(start["headers"]), b"".join(part["body"] for part in body)


@asynccontextmanager
async def started(
    configuration: str, *, front_door: bool, store: InMemoryStore | None = None
) -> AsyncIterator[FastAPI]:
    store = store or InMemoryStore()
    if configuration == "tokens":
        for token in (READER, WRITER):
            await store.add_token(token)
    app = create_app(CONFIGURATIONS[configuration], store=store, clock=lambda: NOW)
    assert isinstance(app, WithFrontDoor)
    if not front_door:
        app.single_writes = None
    async with app.router.lifespan_context(app):
        yield app


def _masked(answer: Answer, posted: Posted) -> Answer:
    """A new request id is new each time; one the client gave must come back as it was."""
    given = dict(posted.headers).get(b"x-request-id") == b"req-1"
    status, fields, body = answer
    fields = [
        (name, b"new" if name == b"x-request-id" and not given else value) for name, value in fields
    ]
    return status, fields, body


def _counts(app: FastAPI) -> list[str]:
    """The app's counts of requests and measurements, in no particular order (the exposition
    lists a label set where it was first counted, and the door counts at the turn's end)."""
    exposition = services_of(Request({"type": "http", "app": app})).metrics.exposition()
    return sorted(
        line
        for line in exposition.decode().splitlines()
        if line.startswith(("roomtemp_http_requests_total", "roomtemp_measurements_stored_total"))
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    configuration=st.sampled_from(sorted(CONFIGURATIONS)), sequence=st.lists(posts(), max_size=8)
)
async def single_writes_should_be_answered_through_the_front_door_as_by_the_general_stack(
    configuration: str, sequence: list[Posted]
) -> None:
    async with AsyncExitStack() as stack:
        fast = await stack.enter_async_context(started(configuration, front_door=True))
        general = await stack.enter_async_context(started(configuration, front_door=False))
        for posted in sequence:
            through_door = _masked(await answer(fast, posted), posted)
            assert through_door == _masked(await answer(general, posted), posted)
        assert _counts(fast) == _counts(general)


def plain_single_writes_should_go_through_the_front_door() -> None:
    scope = {
        "type": "http",
        "method": "POST",
        "query_string": b"",
        "raw_path": b"/measurements/a%2Fb",
    }
    assert single_write_segment(scope) == b"a%2Fb"


def other_requests_should_go_to_the_general_stack() -> None:
    plain = {"type": "http", "method": "POST", "query_string": b"", "raw_path": b"/measurements/a"}
    for other in (
        {"method": "GET"},
        {"query_string": b"unit=F"},
        {"raw_path": b"/measurements/a/average/P1D"},
        {"raw_path": b"/measurements/"},
        {"raw_path": b"/measurements"},
        {"type": "websocket"},
    ):
        assert single_write_segment(plain | other) is None


class FailingStore(InMemoryStore):
    async def add(self, measurements: Sequence[Measurement]) -> WriteResult:
        raise RuntimeError("a bug in the store")


async def a_bug_should_be_answered_500_through_the_front_door_as_by_the_general_stack() -> None:
    posted = Posted(
        b"/measurements/Kitchen",
        b"",
        [(b"host", b"localhost"), (b"content-type", b"application/json")],
        [b'{"v": 291.5}'],
    )
    answers = []
    for front_door in (True, False):
        sent: list[MutableMapping[str, Any]] = []
        async with started("anonymous", front_door=front_door, store=FailingStore()) as app:
            with pytest.raises(RuntimeError, match="a bug in the store"):
                await answer(app, posted, sent)
            answers.append((sent, _counts(app)))
    through_door, through_general = answers
    assert through_door == through_general
    assert through_door[0][0]["status"] == 500
