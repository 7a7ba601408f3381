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


async def a_measurement_before_the_horizon_should_be_refused_on_every_write_path(
    retaining: httpx.AsyncClient, memory_store: InMemoryStore
) -> None:
    before = format_ts(HORIZON - timedelta(microseconds=1))
    single = await retaining.post("/measurements/hall", json={"v": 290.0, "ts": before})
    batch = await retaining.post(
        "/measurements",
        json=[
            {"room_id": "hall", "v": 290.0, "ts": format_ts(HORIZON)},
            {"room_id": "hall", "v": 290.0, "ts": before},
        ],
    )
    for refused in (single, batch):
        assert refused.status_code == 422, refused.text
        assert refused.json()["code"] == "before_retention"
    assert batch.json()["errors"][0]["index"] == 1
    assert await memory_store.raw("hall", HORIZON, HORIZON + timedelta(hours=1), 10) == []
    at_horizon = await retaining.post(
        "/measurements/hall", json={"v": 290.0, "ts": format_ts(HORIZON)}
    )
    assert at_horizon.status_code == 201, at_horizon.text


async def a_pruned_measurement_posted_again_should_be_refused_not_counted_twice(
    memory_store: WatchedStore,
) -> None:
    """The defect as found: P1D retention, a measurement 3 days old posted, pruned at start-up,
    posted again: it was stored again, and the week's average counted it twice."""
    old = {"v": 290.0, "ts": format_ts(NOW - timedelta(days=3))}
    await memory_store.add([Measurement("hall", NOW - timedelta(days=3), 290.0)])
    settings = Settings(database_url="memory://", raw_retention=timedelta(days=1))
    async with app_client(settings, store=memory_store) as client:
        await memory_store.pruned.wait()
        assert await memory_store.raw("hall", NOW - timedelta(days=4), NOW, 10) == []
        again = await client.post("/measurements/hall", json=old)
        assert again.status_code == 422
        assert again.json()["code"] == "before_retention"
        average = (await client.get("/measurements/hall/average/P7D")).json()
        assert average["count"] == 1
