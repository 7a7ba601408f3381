"""Raw retention: raw measurements past the horizon go, rollups stay, and a window reaching
back there is answered to the hour, saying so."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from roomtemp.domain.measurements import Measurement, format_ts
from roomtemp.settings import Settings
from roomtemp.storage.memory import InMemoryStore
from tests.http.conftest import NOW, app_client

RETENTION = timedelta(days=30)
HORIZON = datetime(2026, 10, 28, 12, 0, tzinfo=UTC)  # NOW - 30 days, on the hour


class WatchedStore(InMemoryStore):
    """Says when the pruning job, which runs at start-up, has pruned."""

    def __init__(self) -> None:
        super().__init__()
        self.pruned = asyncio.Event()

    async def delete_raw_before(self, cutoff: datetime) -> int:
        deleted = await super().delete_raw_before(cutoff)
        self.pruned.set()
        return deleted


@pytest.fixture
def memory_store() -> WatchedStore:
    return WatchedStore()


@pytest.fixture
async def retaining(memory_store: WatchedStore) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(database_url="memory://", raw_retention=RETENTION)
    day = HORIZON - timedelta(days=5)
    old = [
        Measurement("hall", day - timedelta(minutes=m), 290.0 + m % 7) for m in range(0, 300, 10)
    ]
    recent = [Measurement("hall", NOW - timedelta(minutes=m), 300.0) for m in range(10)]
    await memory_store.add(old + recent)
    async with app_client(settings, store=memory_store) as client:
        await memory_store.pruned.wait()
        yield client


async def pruning_should_delete_raw_measurements_past_the_horizon(
    retaining: httpx.AsyncClient, memory_store: InMemoryStore
) -> None:
    assert await memory_store.raw("hall", HORIZON - timedelta(days=10), HORIZON, 1000) == []
    assert len(await memory_store.raw("hall", HORIZON, NOW + timedelta(seconds=1), 1000)) == 10


async def a_window_within_the_horizon_should_stay_exact(retaining: httpx.AsyncClient) -> None:
    body = (await retaining.get("/measurements/hall/average/PT1H")).json()
    assert (body["count"], body["exact"]) == (10, True)


async def a_window_reaching_past_the_horizon_should_be_exact_to_the_hour_and_say_so(
    retaining: httpx.AsyncClient,
) -> None:
    # Readings every 10 minutes, 07:10 to 12:00, on 23 October: five days before the horizon.
    # A window from 11:07 to 16:00 is widened to whole hours at both ends (11:00, and the
    # hour that 16:00 begins), and so counts 11:00 as well as 11:10 ... 12:00.
    end = datetime(2026, 10, 23, 16, 0, tzinfo=UTC)
    params = {"end": format_ts(end)}
    body = (await retaining.get("/measurements/hall/average/PT4H53M", params=params)).json()
    assert body["exact"] is False
    assert (body["start"], body["end"]) == ("2026-10-23T11:00:00Z", "2026-10-23T16:59:59.999999Z")
    assert body["count"] == 7
