"""PostgreSQL frozen (SIGSTOP): its connections stay open and nothing answers. Requests that
need it answer 503 within 2 s, /healthz at once, and service resumes when it is continued."""

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from roomtemp.storage import migrate
from roomtemp.storage.postgres.store import COPY_FROM
from tests.blackbox.server import running_server
from tests.throwaway_postgres import ThrowawayPostgres

ANSWER_WITHIN = 2.0  # seconds, for a request that needs the frozen database
HEALTHZ_WITHIN = 0.5  # seconds: /healthz needs nothing but the process
RESUME_WITHIN = 10.0  # seconds after the database is continued
Answer = tuple[str, int, str | None, float]  # path, status, Retry-After, seconds


async def timed(client: httpx.AsyncClient, method: str, path: str, body: object = None) -> Answer:
    started = time.monotonic()
    response = await client.request(method, path, json=body)
    return (
        path,
        response.status_code,
        response.headers.get("retry-after"),
        time.monotonic() - started,
    )


def large_batch(room: str) -> list[dict[str, object]]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        {"room_id": room, "v": 290.0, "ts": (start + timedelta(seconds=n)).isoformat()}
        for n in range(COPY_FROM)
    ]


def needing_the_database(wave: int) -> list[tuple[str, str, object]]:
    return [
        ("GET", "/readyz", None),
        *(("POST", f"/measurements/room-{wave}-{n}", {"v": 290.0}) for n in range(6)),
        ("POST", "/measurements", [{"room_id": f"batch-{wave}", "v": 290.0}] * 3),
        ("POST", "/measurements", large_batch(f"large-{wave}")),  # a COPY, its deadline 60 s
        ("GET", "/measurements/hall/average/PT1H", None),
        ("GET", "/measurements/hall/series/P1D?bucket=PT1H", None),
        ("GET", "/measurements/hall", None),
        ("GET", "/rooms", None),
    ]


async def frozen_for_two_waves(
    base_url: str, postgres: ThrowawayPostgres
) -> tuple[list[Answer], list[Answer], float]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        assert (await client.post("/measurements/hall", json={"v": 290.0})).status_code == 201
        database: list[Answer] = []
        healthz: list[Answer] = []
        with postgres.frozen():
            stop = asyncio.Event()

            async def poke_healthz() -> None:
                while not stop.is_set():
                    healthz.append(await timed(client, "GET", "/healthz"))
                    await asyncio.sleep(0.05)

            poking = asyncio.create_task(poke_healthz())
            # Twice: the second wave meets the connections that the first left behind.
            for wave in range(2):
                database += await asyncio.gather(
                    *(timed(client, *request) for request in needing_the_database(wave))
                )
            stop.set()
            await poking
        continued = time.monotonic()
        while (await client.post("/measurements/hall", json={"v": 291.0})).status_code != 201:
            assert time.monotonic() - continued < RESUME_WITHIN
            await asyncio.sleep(0.1)
        resumed = time.monotonic() - continued
    return database, healthz, resumed


def a_frozen_database_should_answer_503_within_2_s_and_healthz_at_once(
    own_postgres: ThrowawayPostgres, tmp_path: Path, report: Callable[[str], None]
) -> None:
    asyncio.run(migrate(own_postgres.url))
    with (
        (tmp_path / "server.log").open("wb") as log,
        running_server(own_postgres.url, "--no-access-log", stderr=log) as server,
    ):
        database, healthz, resumed = asyncio.run(frozen_for_two_waves(server.url, own_postgres))
    slowest = max(seconds for *_, seconds in database)
    slowest_healthz = max(seconds for *_, seconds in healthz)
    report(
        f"{len(database)} requests needing the frozen database: slowest 503 {slowest:.3f} s;"
        f" {len(healthz)} /healthz, slowest {slowest_healthz:.3f} s;"
        f" a write stored {resumed:.2f} s after the database was continued"
    )
    assert {(status, retry_after) for _, status, retry_after, _ in database} == {(503, "2")}
    assert slowest < ANSWER_WITHIN
    assert {status for _, status, _, _ in healthz} == {200}
    assert slowest_healthz < HEALTHZ_WITHIN
