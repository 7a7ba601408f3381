"""Writers of the same keys at once on PostgreSQL: batches in any order, beside single writes
gathered into shared commits. They take their locks in one order, so none waits for another
in a cycle: every request is answered 2xx, and what is stored is what was acknowledged."""

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from roomtemp.domain.rollups import HOUR, Piece
from roomtemp.http.app import create_app
from roomtemp.settings import Settings
from roomtemp.storage import MeasurementStore, StorageUnavailable, migrate, open_store
from roomtemp.storage.postgres.store import COPY_FROM, _retried_once

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
ROOMS = ["hall", "kitchen", "attic"]
ROUNDS = 3
LARGE = 20 * COPY_FROM


def key(round_: int, number: int) -> tuple[str, datetime]:
    start = NOW - timedelta(days=ROUNDS - round_)
    return ROOMS[number % len(ROOMS)], start + timedelta(seconds=number)


def item(room: str, ts: datetime) -> dict[str, Any]:
    return {"room_id": room, "v": 290.0, "ts": ts.isoformat()}


@pytest.fixture
async def app_on_postgres(
    postgres_url: str,
) -> AsyncIterator[tuple[httpx.AsyncClient, MeasurementStore]]:
    await migrate(postgres_url)
    store = await open_store(postgres_url)
    settings = Settings(database_url=postgres_url, shared_commits=True)
    app = create_app(settings, store=store, clock=lambda: NOW)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # a 500 is a status
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://roomtemp.test") as client,
    ):
        yield client, store
    await store.close()


async def one_round(client: httpx.AsyncClient, round_: int, rng: random.Random) -> list[int]:
    """A large batch (COPY) newest first, a small one shuffled, and single writes of their
    keys in random order, spread over the second in which the large one is written."""
    keys = [key(round_, number) for number in range(LARGE)]
    large = [item(*k) for k in reversed(keys)]
    small = [item(*k) for k in rng.sample(keys, COPY_FROM // 2)]
    singles = rng.sample(keys, 300)

    async def post_large() -> int:
        return (await client.post("/measurements", json=large)).status_code

    async def post_small() -> int:
        await asyncio.sleep(rng.random())
        return (await client.post("/measurements", json=small)).status_code

    async def post_single(room: str, ts: datetime) -> int:
        await asyncio.sleep(rng.random())
        body = {"v": 290.0, "ts": ts.isoformat()}
        return (await client.post(f"/measurements/{room}", json=body)).status_code

    return await asyncio.gather(post_large(), post_small(), *(post_single(*k) for k in singles))


async def concurrent_writers_of_the_same_keys_should_all_be_answered_and_stored(
    app_on_postgres: tuple[httpx.AsyncClient, MeasurementStore],
) -> None:
    client, store = app_on_postgres
    rng = random.Random(4)
    statuses = [status for r in range(ROUNDS) for status in await one_round(client, r, rng)]
    assert set(statuses) <= {200, 201}, sorted(set(statuses))
    since, until = NOW - timedelta(days=ROUNDS + 1), NOW
    sent = [key(r, number) for r in range(ROUNDS) for number in range(LARGE)]
    for room in ROOMS:
        raw = [ts for ts, _ in await store.raw(room, since, until, 1_000_000)]
        assert raw == sorted(ts for sent_room, ts in sent if sent_room == room)
        # The rollups hold exactly what the raw rows do: nothing counted twice, nothing missed.
        from_raw, from_hours = await store.summarise(
            room, [Piece(since, until), Piece(since, until, HOUR)]
        )
        assert from_raw is not None
        assert from_hours is not None
        assert (from_hours.count, from_hours.total) == (from_raw.count, from_raw.total)


async def a_transaction_ended_by_postgresql_should_be_tried_again_once() -> None:
    attempts: list[int] = []

    async def deadlocked_once() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise asyncpg.DeadlockDetectedError("deadlock detected")
        return "stored"

    assert await _retried_once(deadlocked_once) == "stored"
    assert len(attempts) == 2


async def a_transaction_ended_twice_should_be_an_outage_not_an_error() -> None:
    async def never_serialised() -> None:
        raise asyncpg.SerializationError("could not serialize access")

    with pytest.raises(StorageUnavailable, match="twice"):
        await _retried_once(never_serialised)
