"""Bad input, over real HTTP to the real server: always its 4xx as problem+json, never a 500,
and the data stored before is intact afterwards."""

import http.client
import json
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from tests.blackbox.server import Server, running_server
from tests.conftest import fresh_schema

SEEDED = [290.5, 291.5, 293.0]


@dataclass(frozen=True)
class Case:
    name: str
    status: int
    code: str
    body: bytes = b""
    path: str = "/measurements/hall"
    method: str = "POST"
    content_type: str | None = "application/json"


def _v(value: str) -> bytes:
    return b'{"v": ' + value.encode() + b"}"


CASES = [
    Case("malformed JSON", 400, "malformed_json", b'{"v": 29'),
    Case("truncated JSON", 400, "malformed_json", b'{"v": 293.4, "u": "K", "ts": "2026-'),
    Case("empty body", 400, "malformed_json", b""),
    Case("form text", 400, "malformed_json", b"v=293.4"),
    Case("invalid UTF-8 in the body", 400, "malformed_json", b'{"v": 1, "u": "\xff"}'),
    Case("lone surrogate escape", 400, "malformed_json", b'{"v": 1, "u": "\\ud800"}'),
    Case(
        "deep nesting", 422, "invalid_measurement", b'{"v": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"
    ),
    Case("an array, not an object", 422, "invalid_measurement", b"[293.4]"),
    Case("NaN", 400, "malformed_json", _v("NaN")),
    Case("Infinity", 400, "malformed_json", _v("Infinity")),
    Case("-Infinity", 400, "malformed_json", _v("-Infinity")),
    Case("a number too large for a double", 422, "invalid_measurement", _v("1e999")),
    Case("a 5000-digit integer", 422, "invalid_measurement", _v("1" + "0" * 5000)),
    Case("a string for v", 422, "invalid_measurement", _v('"293.4"')),
    Case("a boolean for v", 422, "invalid_measurement", _v("true")),
    Case("null for v", 422, "invalid_measurement", _v("null")),
    Case("no v", 422, "invalid_measurement", b'{"u": "K"}'),
    Case("seconds for ts", 422, "invalid_measurement", b'{"v": 293.4, "ts": 1764248400}'),
    Case("milliseconds for ts", 422, "invalid_measurement", b'{"v": 293.4, "ts": 1764248400000}'),
    Case(
        "digits in a string for ts", 422, "invalid_measurement", b'{"v": 293.4, "ts": "1764248400"}'
    ),
    Case("words for ts", 422, "invalid_measurement", b'{"v": 293.4, "ts": "yesterday"}'),
    Case(
        "ts in year 1", 422, "invalid_measurement", b'{"v": 1, "ts": "0001-01-01T00:00:00+01:00"}'
    ),
    Case(
        "ts in year 9999",
        422,
        "invalid_measurement",
        b'{"v": 1, "ts": "9999-12-31T23:59:59-05:00"}',
    ),
    Case("an unknown unit", 422, "invalid_measurement", b'{"v": 20, "u": "X"}'),
    Case("a misspelt field", 422, "invalid_measurement", b'{"v": 20, "unit": "C"}'),
    Case("below absolute zero", 422, "invalid_measurement", b'{"v": -300, "u": "C"}'),
    Case("above the ceiling", 422, "invalid_measurement", _v("5000")),
    Case("newline in the room id", 422, "invalid_measurement", _v("290"), "/measurements/hall%0A"),
    Case("NUL in the room id", 422, "invalid_measurement", _v("290"), "/measurements/hall%00"),
    Case("DEL in the room id", 422, "invalid_measurement", _v("290"), "/measurements/hall%7F"),
    Case(
        "C1 control in the room id",
        422,
        "invalid_measurement",
        _v("290"),
        "/measurements/hall%C2%85",
    ),
    Case(
        "invalid UTF-8 in the room id", 422, "invalid_parameter", _v("290"), "/measurements/hall%FF"
    ),
    Case(
        "129-character room id", 422, "invalid_measurement", _v("290"), "/measurements/" + "a" * 129
    ),
    Case("text/plain", 415, "unsupported_media_type", _v("290"), content_type="text/plain"),
    Case(
        "form content type",
        415,
        "unsupported_media_type",
        _v("290"),
        content_type="application/x-www-form-urlencoded",
    ),
    Case("a body over 64 KiB", 413, "body_too_large", b'{"v": 1, "x": "' + b"x" * 70_000 + b'"}'),
    Case("wrong method", 405, "method_not_allowed", method="DELETE"),
    Case("months", 422, "invalid_duration", method="GET", path="/measurements/hall/average/P1M"),
    Case(
        "a zero window",
        422,
        "invalid_duration",
        method="GET",
        path="/measurements/hall/average/PT0S",
    ),
    Case(
        "not a duration",
        422,
        "invalid_duration",
        method="GET",
        path="/measurements/hall/average/15min",
    ),
    Case(
        "an unknown unit asked",
        422,
        "invalid_request",
        method="GET",
        path="/measurements/hall/average/PT1H?unit=X",
    ),
    Case(
        "end not a timestamp",
        422,
        "invalid_parameter",
        method="GET",
        path="/measurements/hall/average/PT1H?end=soon",
    ),
    Case(
        "GET a 129-character room",
        422,
        "invalid_parameter",
        method="GET",
        path=f"/measurements/{'a' * 129}/average/PT1H",
    ),
]


def send(
    server: Server, method: str, path: str, body: bytes = b"", content_type: str | None = None
) -> tuple[int, str, bytes]:
    """One request over a fresh connection, bytes exactly as given: (status, content type, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        headers = {"Content-Type": content_type} if content_type else {}
        connection.request(method, path, body=body if method == "POST" else None, headers=headers)
        response = connection.getresponse()
        return response.status, response.getheader("content-type", ""), response.read()
    finally:
        connection.close()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def seeded_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """One server per backend for the whole table, holding three measurements of `hall`."""
    database: AbstractContextManager[str]
    if request.param == "sqlite":
        database = nullcontext(f"sqlite:///{tmp_path_factory.mktemp('bad') / 'roomtemp.sqlite3'}")
    else:
        database = fresh_schema(request.getfixturevalue("postgres_server_url"))
    with database as url, running_server(url, "--migrate") as server:
        now = datetime.now(UTC)
        for minutes, value in enumerate(SEEDED, start=1):
            body = json.dumps({"v": value, "ts": (now - timedelta(minutes=minutes)).isoformat()})
            assert (
                send(server, "POST", "/measurements/hall", body.encode(), "application/json")[0]
                == 201
            )
        yield server


def assert_hall_intact(server: Server) -> None:
    status, _, body = send(server, "GET", "/measurements/hall/average/PT1H")
    assert status == 200, body
    average = json.loads(body)
    assert average["count"] == len(SEEDED)
    assert average["v"] == pytest.approx(sum(SEEDED) / len(SEEDED), rel=1e-12)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def bad_input_should_get_its_4xx_and_leave_stored_data_intact(
    seeded_server: Server, case: Case
) -> None:
    status, content_type, body = send(
        seeded_server, case.method, case.path, case.body, case.content_type
    )
    assert status == case.status, body[:500]
    assert content_type == "application/problem+json"
    problem = json.loads(body)
    assert (problem["status"], problem["code"]) == (case.status, case.code)
    assert_hall_intact(seeded_server)


@pytest.mark.parametrize(
    "room", ["Wohnzimmer Süd", "客厅", "🛋️ lounge", "O'Brien's; DROP TABLE rooms;--"]
)
def unicode_room_names_should_be_stored_and_found(seeded_server: Server, room: str) -> None:
    status, _, _ = send(
        seeded_server, "POST", f"/measurements/{quote(room)}", _v("291"), "application/json"
    )
    assert status == 201
    status, _, body = send(seeded_server, "GET", f"/measurements/{quote(room)}/average/PT1H")
    assert (status, json.loads(body)["count"]) == (200, 1)
    assert_hall_intact(seeded_server)
