"""Reads from a real streaming standby (pg_basebackup -R of a throwaway primary): used while it
keeps up, left for the primary when it lags more than allowed or is down, without errors."""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from roomtemp.domain.measurements import EARLIEST, LATEST, Measurement
from roomtemp.storage import MeasurementStore, migrate, open_store
from tests.blackbox.server import running_server
from tests.conftest import fresh_schema
from tests.throwaway_postgres import ThrowawayPostgres, start_standby, start_throwaway_postgres

ROOM = "Hall"
START = datetime(2026, 11, 1, tzinfo=UTC)


@dataclass
class Pair:
    primary: ThrowawayPostgres
    standby: ThrowawayPostgres

    def on_standby(self, url: str) -> str:
        return url.replace(f":{self.primary.port}/", f":{self.standby.port}/")


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    primary = start_throwaway_postgres()
    try:
        standby = start_standby(primary)
        try:
            yield Pair(primary, standby)
        finally:
            standby.remove()
    finally:
        primary.remove()


@pytest.fixture
def urls(pair: Pair) -> Iterator[tuple[str, str]]:
    """(primary, standby) URLs of a new schema, migrated."""
    with fresh_schema(pair.primary.url) as url:
        asyncio.run(migrate(url))
        yield url, pair.on_standby(url)


@asynccontextmanager
async def replay_paused(standby_url: str) -> AsyncIterator[None]:
    """The standby receives WAL but applies none of it: as one far behind."""
    connection = await asyncpg.connect(standby_url)
    try:
        await connection.execute("SELECT pg_wal_replay_pause()")
        yield
    finally:
        await connection.execute("SELECT pg_wal_replay_resume()")
        await connection.close()


async def stored_count(url: str) -> int:
    connection = await asyncpg.connect(url)
    try:
        count: int = await connection.fetchval("SELECT count(*) FROM measurements")
        return count
    finally:
        await connection.close()


async def until(check: Callable[[], Awaitable[bool]]) -> None:
    """Polls the database: there is no event to wait on for a standby's replay."""
    for _ in range(3000):  # 30 s at least
        if await check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("not within 30 s")


async def seen(store: MeasurementStore) -> int:
    return len(await store.raw(ROOM, EARLIEST, LATEST, 1000))


async def write(store: MeasurementStore, number: int) -> None:
    await store.add([Measurement(ROOM, START + timedelta(minutes=number), 290.0)])


async def reads_should_come_from_the_standby_while_it_lags_less_than_allowed(
    urls: tuple[str, str], report: Callable[[str], None]
) -> None:
    primary, standby = urls
    store = await open_store(primary, read_url=standby, read_max_lag=3600)
    try:
        await write(store, 0)
        written = time.monotonic()
        await until(lambda: _equals(stored_count(standby), 1))
        report(f"a write was visible on the standby {time.monotonic() - written:.3f} s later")
        async with replay_paused(standby):
            await write(store, 1)
            assert await stored_count(primary) == 2
            # The standby has not applied it, and lags less than an hour: reads stay there.
            assert await seen(store) == 1
        await until(lambda: _equals(seen(store), 2))
    finally:
        await store.close()


async def reads_should_go_to_the_primary_when_the_standby_lags_more_than_allowed(
    urls: tuple[str, str],
) -> None:
    primary, standby = urls
    store = await open_store(primary, read_url=standby, read_max_lag=0.2)
    try:
        await write(store, 0)
        await until(lambda: _equals(stored_count(standby), 1))
        async with replay_paused(standby):
            await write(store, 1)
            # Once it lags more than 0.2 s (checked every second), the primary answers.
            await until(lambda: _equals(seen(store), 2))
            assert await stored_count(standby) == 1
    finally:
        await store.close()


async def reads_should_go_to_the_primary_without_errors_when_the_standby_is_down(
    pair: Pair, urls: tuple[str, str]
) -> None:
    primary, standby = urls
    store = await open_store(primary, read_url=standby, read_max_lag=3600)
    try:
        await write(store, 0)
        await until(lambda: _equals(seen(store), 1))
        pair.standby.stop("immediate")
        try:
            for number in range(1, 6):
                await write(store, number)
                assert await seen(store) == number + 1  # every read answers, and is fresh
                assert (await store.rooms())[0].summary.count == number + 1
        finally:
            pair.standby.start()
    finally:
        await store.close()


async def _equals(count: Awaitable[int], expected: int) -> bool:
    return await count == expected


def serve_should_read_from_the_standby_named_by_its_settings(
    pair: Pair, urls: tuple[str, str]
) -> None:
    primary, standby = urls
    environment = {"ROOMTEMP_DATABASE_READ_URL": standby, "ROOMTEMP_READ_MAX_LAG": "PT1H"}
    average = f"/measurements/{ROOM}/average/P1D?end=2026-11-02T00:00:00Z"
    with running_server(primary, env=environment) as server:
        body = {"v": 290.0, "ts": START.isoformat()}
        assert httpx.post(f"{server.url}/measurements/{ROOM}", json=body).status_code == 201
        asyncio.run(until(lambda: _equals(stored_count(standby), 1)))

        async def write_while_paused() -> int:
            async with replay_paused(standby):
                later = {"v": 291.0, "ts": (START + timedelta(minutes=1)).isoformat()}
                async with httpx.AsyncClient(base_url=server.url) as client:
                    await client.post(f"/measurements/{ROOM}", json=later)
                    count: int = (await client.get(average)).json()["count"]
                    return count

        assert asyncio.run(write_while_paused()) == 1  # the standby's answer: one behind
        pair.standby.stop("immediate")
        try:
            assert httpx.get(f"{server.url}{average}").json()["count"] == 2  # the primary's
        finally:
            pair.standby.start()
