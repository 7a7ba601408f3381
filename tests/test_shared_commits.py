"""Shared commits: one transaction for many concurrent single writes, each still answered alone."""

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from roomtemp.domain.measurements import ConflictingMeasurements, Measurement
from roomtemp.shared_commits import SharedCommits
from roomtemp.storage import MeasurementStore
from roomtemp.storage.base import StorageUnavailable
from roomtemp.storage.memory import InMemoryStore
from tests.storage.test_contract import summary_of

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def at(seconds: float, room: str = "hall", kelvin: float = 290.0) -> Measurement:
    return Measurement(room, T0 + timedelta(seconds=seconds), kelvin)


class CountingStore(InMemoryStore):
    """Records the size of every transaction it is asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.groups: list[int] = []

    async def add_each(self, measurements: Sequence[Measurement]) -> list[int]:
        self.groups.append(len(measurements))
        await asyncio.sleep(0.01)  # a commit takes time: others queue up meanwhile
        return await super().add_each(measurements)


async def concurrent_writes_should_all_be_stored(store: MeasurementStore) -> None:
    shared = SharedCommits(store)
    await asyncio.gather(*(shared.add(at(second, f"room {second % 7}")) for second in range(300)))
    await shared.close()
    counts = [
        await summary_of(store, f"room {room}", T0, T0 + timedelta(hours=1)) for room in range(7)
    ]
    assert sum(stats.count for stats in counts if stats) == 300


async def concurrent_writes_should_share_few_transactions() -> None:
    store = CountingStore()
    shared = SharedCommits(store)
    await asyncio.gather(*(shared.add(at(second)) for second in range(1000)))
    await shared.close()
    assert store.groups == [512, 488]


async def a_lone_write_should_be_committed_without_waiting_for_company() -> None:
    store = CountingStore()
    shared = SharedCommits(store)
    await asyncio.wait_for(shared.add(at(0)), timeout=5)
    assert store.groups == [1]
    await shared.close()


async def a_conflict_should_fail_only_its_own_request(store: MeasurementStore) -> None:
    await store.add([at(0, kelvin=290.0)])
    shared = SharedCommits(store)
    results = await asyncio.gather(
        shared.add(at(1)),
        shared.add(at(0, kelvin=300.0)),
        shared.add(at(2)),
        return_exceptions=True,
    )
    await shared.close()
    assert results[0] is None
    assert isinstance(results[1], ConflictingMeasurements)
    assert results[2] is None
    stats = await summary_of(store, "hall", T0, T0 + timedelta(seconds=2))
    assert stats is not None
    assert (stats.count, stats.maximum) == (3, 290.0)


async def the_same_key_twice_at_once_should_store_it_once_and_refuse_another_value(
    store: MeasurementStore,
) -> None:
    shared = SharedCommits(store)
    results = await asyncio.gather(
        shared.add(at(0)),
        shared.add(at(0)),
        shared.add(at(0, kelvin=299.0)),
        return_exceptions=True,
    )
    await shared.close()
    assert list(results[:2]) == [None, None]
    assert isinstance(results[2], ConflictingMeasurements)
    stats = await summary_of(store, "hall", T0, T0)
    assert stats is not None
    assert (stats.count, stats.mean) == (1, 290.0)


async def a_request_that_goes_away_should_leave_its_group_committed() -> None:
    store = CountingStore()
    shared = SharedCommits(store)
    leaving, staying = (asyncio.create_task(shared.add(at(second))) for second in (0, 1))
    await asyncio.sleep(0.005)  # their group is in flight
    leaving.cancel()  # as when its client disconnects
    await asyncio.wait_for(staying, timeout=5)  # not for ever, should the writer stop
    await shared.close()
    assert leaving.cancelled()
    assert store.groups == [2]
    stats = await summary_of(store, "hall", T0, T0 + timedelta(seconds=1))
    assert stats is not None
    assert stats.count == 2  # its measurement too: the commit was not cut short


class FlakyStore(InMemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.down = True

    async def add_each(self, measurements: Sequence[Measurement]) -> list[int]:
        if self.down:
            self.down = False
            raise StorageUnavailable("connection refused")
        return await super().add_each(measurements)


async def a_failed_commit_should_fail_its_group_and_not_the_next() -> None:
    store = FlakyStore()
    shared = SharedCommits(store)
    with pytest.raises(StorageUnavailable):
        await shared.add(at(0))
    await shared.add(at(1))
    await shared.close()
    assert await summary_of(store, "hall", T0, T0) is None
    assert await summary_of(store, "hall", at(1).ts, at(1).ts) is not None


async def close_should_commit_what_is_queued() -> None:
    store = CountingStore()
    shared = SharedCommits(store)
    writes = [asyncio.create_task(shared.add(at(second))) for second in range(50)]
    await asyncio.sleep(0)  # let them queue
    await shared.close()
    await asyncio.gather(*writes)
    assert sum(store.groups) == 50
    with pytest.raises(RuntimeError, match="closed"):
        await shared.add(at(99))


class StalledStore(InMemoryStore):
    """A database that does not answer: each commit times out."""

    def __init__(self) -> None:
        super().__init__()
        self.commits = 0

    async def add_each(self, measurements: Sequence[Measurement]) -> list[int]:
        self.commits += 1
        await asyncio.sleep(0.05)
        raise StorageUnavailable("PostgreSQL is unavailable: TimeoutError")


async def writes_queued_behind_an_outage_should_learn_of_it_with_the_group_in_flight() -> None:
    store = StalledStore()
    shared = SharedCommits(store)
    first = asyncio.create_task(shared.add(at(0)))
    await asyncio.sleep(0.01)  # the first group is in flight
    queued = [asyncio.create_task(shared.add(at(second))) for second in range(1, 5)]
    outcomes = await asyncio.gather(first, *queued, return_exceptions=True)
    await shared.close()
    assert all(isinstance(outcome, StorageUnavailable) for outcome in outcomes)
    assert store.commits == 1  # not a second deadline's wait for the same answer


async def a_request_that_goes_away_should_not_stop_the_writer_when_its_group_fails() -> None:
    store = StalledStore()
    shared = SharedCommits(store)
    leaving, staying = (asyncio.create_task(shared.add(at(second))) for second in (0, 1))
    await asyncio.sleep(0.01)  # their group is in flight
    leaving.cancel()
    with pytest.raises(StorageUnavailable):
        await asyncio.wait_for(staying, timeout=5)  # not for ever, should the writer stop
    await shared.close()  # raises what stopped the writer, if anything did
    assert leaving.cancelled()
