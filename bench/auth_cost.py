"""What access control costs per request, in-process: the single-write route driven directly
with ASGI messages (no sockets, no server), over the in-memory store, with and without a
token to check. `python -m bench.auth_cost`; a few seconds, CPU only.

It runs on a tree without access control too (the token is then ignored), for a before/after.
"""

import asyncio
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from roomtemp.http.app import create_app
from roomtemp.settings import Settings
from roomtemp.storage.memory import InMemoryStore

REQUESTS = 20_000
ROUNDS = 7
ADMIN_TOKEN = "a-token-for-the-benchmark-only"


def bodies(count: int) -> list[bytes]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        b'{"v": 293.4, "ts": "' + (start + timedelta(seconds=n)).isoformat().encode() + b'"}'
        for n in range(count)
    ]


async def drive(app: Any, token: str | None, payloads: list[bytes]) -> float:
    """Seconds per request, over `payloads` posted one after another."""
    headers = [(b"content-type", b"application/json"), (b"host", b"localhost")]
    if token:
        headers.append((b"authorization", b"Bearer " + token.encode()))
    statuses = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    started = time.perf_counter()
    for payload in payloads:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/measurements/hall",
            "raw_path": b"/measurements/hall",
            "query_string": b"",
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
        }
        message = {"type": "http.request", "body": payload, "more_body": False}

        async def receive(message: dict[str, Any] = message) -> dict[str, Any]:
            return message

        await app(scope, receive, send)
    elapsed = time.perf_counter() - started
    assert set(statuses) == {201}, set(statuses)
    return elapsed / len(payloads)


async def measure(
    label: str, settings: Settings, token: str | None, stored: tuple[Any, ...] = ()
) -> float:
    per_request = []
    for _ in range(ROUNDS):
        store = InMemoryStore()
        for record in stored:
            await store.add_token(record)
        app = create_app(settings, store=store)
        async with app.router.lifespan_context(app):
            per_request.append(await drive(app, token, bodies(REQUESTS)))
    best, median = min(per_request) * 1e6, statistics.median(per_request) * 1e6
    print(f"{label:<44} best {best:6.1f} us/request, median {median:6.1f}")
    return best


async def main() -> None:
    common: dict[str, Any] = {
        "database_url": "memory://",
        "shared_commits": False,
        "access_log": False,
    }
    anonymous = await measure("no token exists (anonymous, loopback)", Settings(**common), None)
    try:
        from roomtemp.domain.access import Scope, mint
    except ImportError:  # a tree without access control
        return
    token, record = mint("sensor", frozenset({Scope.WRITE}), datetime.now(UTC))
    stored = await measure("a stored write token checked", Settings(**common), token, (record,))
    admin = Settings(**common, admin_token=ADMIN_TOKEN)
    await measure("ROOMTEMP_ADMIN_TOKEN checked", admin, ADMIN_TOKEN)
    limited = Settings(**common, rate_limit="1000000/second")
    await measure("a stored write token, rate-limited", limited, token, (record,))
    print(f"checking a stored token: +{stored - anonymous:.1f} us/request, end to end")
    gate_alone(token, record)


def gate_alone(token: str, record: Any) -> None:
    """The gate's decision by itself, without the app around it: steadier than a difference
    of two whole-request figures on a noisy machine."""
    from roomtemp.http.auth import Gatekeeper

    settings = Settings(database_url="memory://")
    scope = {
        "method": "POST",
        "path": "/measurements/hall",
        "headers": [
            (b"host", b"localhost"),
            (b"content-type", b"application/json"),
            (b"authorization", b"Bearer " + token.encode()),
        ],
    }
    for label, tokens in (("anonymous", []), ("a stored write token", [record])):
        gatekeeper = Gatekeeper(settings)
        gatekeeper.load(tokens)
        timings = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            for _ in range(REQUESTS):
                assert gatekeeper.refusal(scope) is None
            timings.append((time.perf_counter() - started) / REQUESTS * 1e6)
        print(f"the gate alone, {label:<28} best {min(timings):6.2f} us/request")


if __name__ == "__main__":
    asyncio.run(main())
