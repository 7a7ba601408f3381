"""The storage contract: every backend behaves the same, so the in-memory store is a proven fake."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from roomtemp.domain.columns import Columns
from roomtemp.domain.measurements import ConflictingMeasurements, Measurement
from roomtemp.domain.rollups import Summary, merge_all, plan
from roomtemp.storage import MeasurementStore
from roomtemp.storage.base import WriteResult

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


async def summary_of(
    store: MeasurementStore, room_id: str, since: datetime, until: datetime
) -> Summary | None:
    """since <= ts <= until summarised, as a window asks a store: in pieces, merged."""
    return merge_all(await store.summarise(room_id, plan(since, until).pieces))


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


async def add_should_store_new_measurements_and_count_them(store: MeasurementStore) -> None:
    result = await store.add([Measurement("hall", at(0), 290.0), Measurement("hall", at(1), 292.0)])
    assert result == WriteResult(stored=2, duplicates=0)
    stats = await summary_of(store, "hall", at(0), at(1))
    assert stats is not None
    assert (stats.count, stats.mean, stats.minimum, stats.maximum) == (2, 291.0, 290.0, 292.0)
    assert stats.first_ts == at(0)


async def add_should_treat_the_same_measurement_again_as_a_duplicate(
    store: MeasurementStore,
) -> None:
    await store.add([Measurement("hall", at(0), 290.0)])
    again = await store.add([Measurement("hall", at(0), 290.0), Measurement("hall", at(1), 291.0)])
    assert again == WriteResult(stored=1, duplicates=1)
    stats = await summary_of(store, "hall", at(0), at(1))
    assert stats is not None
    assert stats.count == 2


async def add_should_count_values_within_rounding_of_a_unit_conversion_as_the_same(
    store: MeasurementStore,
) -> None:
    await store.add([Measurement("hall", at(0), 20.0 + 273.15)])
    again = await store.add([Measurement("hall", at(0), 293.15 + 1e-12)])
    assert again == WriteResult(stored=0, duplicates=1)


async def add_should_refuse_a_different_value_at_a_stored_timestamp_and_store_nothing(
    store: MeasurementStore,
) -> None:
    await store.add([Measurement("hall", at(0), 290.0)])
    batch = [
        Measurement("hall", at(1), 291.0),
        Measurement("hall", at(0), 295.0),
        Measurement("kitchen", at(0), 293.0),
    ]
    with pytest.raises(ConflictingMeasurements) as conflict:
        await store.add(batch)
    assert conflict.value.indices == [1]
    assert not await store.has_room("kitchen")
    stats = await summary_of(store, "hall", at(0), at(10))
    assert stats is not None
    assert (stats.count, stats.mean) == (1, 290.0)


async def add_of_one_measurement_should_refuse_a_different_value_and_store_nothing(
    store: MeasurementStore,
) -> None:
    # The room is known by then: PostgreSQL writes one measurement of a known room by a
    # statement of its own, and looks for the conflict after it.
    await store.add([Measurement("hall", at(0), 290.0)])
    assert await store.add([Measurement("hall", at(1), 291.0)]) == WriteResult(1, 0)
    with pytest.raises(ConflictingMeasurements) as conflict:
        await store.add([Measurement("hall", at(0), 295.0)])
    assert conflict.value.indices == [0]
    stats = await summary_of(store, "hall", at(0), at(10))
    assert stats is not None
    assert (stats.count, stats.mean, stats.maximum) == (2, 290.5, 291.0)


async def add_should_keep_rooms_apart(store: MeasurementStore) -> None:
    await store.add([Measurement("hall", at(0), 290.0), Measurement("Living room", at(0), 300.0)])
    stats = await summary_of(store, "Living room", at(0), at(0))
    assert stats is not None
    assert (stats.count, stats.mean) == (1, 300.0)


async def window_should_include_both_of_its_ends(store: MeasurementStore) -> None:
    await store.add([Measurement("hall", at(minute), 290.0 + minute) for minute in range(5)])
    stats = await summary_of(store, "hall", at(1), at(3))
    assert stats is not None
    assert (stats.count, stats.mean, stats.first_ts) == (3, 292.0, at(1))


async def window_should_exclude_measurements_a_microsecond_outside(store: MeasurementStore) -> None:
    await store.add([Measurement("hall", at(1), 290.0)])
    micro = timedelta(microseconds=1)
    assert await summary_of(store, "hall", at(1) + micro, at(2)) is None
    assert await summary_of(store, "hall", at(0), at(1) - micro) is None


async def window_should_find_measurements_written_out_of_order(store: MeasurementStore) -> None:
    await store.add([Measurement("hall", at(5), 300.0)])
    await store.add([Measurement("hall", at(1), 290.0)])
    stats = await summary_of(store, "hall", at(0), at(10))
    assert stats is not None
    assert (stats.count, stats.first_ts, stats.minimum, stats.maximum) == (2, at(1), 290.0, 300.0)


async def window_should_be_none_for_an_unknown_room(store: MeasurementStore) -> None:
    assert await summary_of(store, "nowhere", at(0), at(10)) is None


async def timestamps_should_keep_microseconds_and_come_back_in_utc(store: MeasurementStore) -> None:
    ts = datetime(2026, 11, 27, 12, 0, 0, 123456, tzinfo=UTC)
    await store.add([Measurement("hall", ts, 290.0)])
    stats = await summary_of(store, "hall", ts, ts)
    assert stats is not None
    assert stats.first_ts == ts
    assert stats.first_ts.utcoffset() == timedelta(0)


async def values_should_come_back_bit_for_bit(store: MeasurementStore) -> None:
    value = 293.15000000000003
    await store.add([Measurement("hall", at(0), value)])
    stats = await summary_of(store, "hall", at(0), at(0))
    assert stats is not None
    assert stats.mean == value


async def has_room_should_say_whether_a_room_ever_had_a_measurement(
    store: MeasurementStore,
) -> None:
    assert not await store.has_room("hall")
    await store.add([Measurement("hall", at(0), 290.0)])
    assert await store.has_room("hall")
    assert not await store.has_room("Hall")


async def room_names_should_be_stored_as_given(store: MeasurementStore) -> None:
    names = ["Wohnzimmer Süd", "客厅", "🛋️ lounge", "a" * 128, "O'Brien's; DROP TABLE rooms"]
    await store.add([Measurement(name, at(0), 290.0) for name in names])
    for name in names:
        assert await store.has_room(name)
        assert await summary_of(store, name, at(0), at(0)) is not None


async def check_should_pass_on_a_working_store(store: MeasurementStore) -> None:
    await store.check()


async def add_each_should_store_all_but_the_conflicting_ones(store: MeasurementStore) -> None:
    await store.add([Measurement("hall", at(0), 290.0)])
    conflicts = await store.add_each(
        [
            Measurement("hall", at(1), 291.0),
            Measurement("hall", at(0), 295.0),
            Measurement("hall", at(0) + timedelta(seconds=1), 292.0),
            Measurement("kitchen", at(0), 293.0),
        ]
    )
    assert conflicts == [1]
    stats = await summary_of(store, "hall", at(0), at(10))
    assert stats is not None
    assert (stats.count, stats.minimum, stats.maximum) == (3, 290.0, 292.0)
    assert await store.has_room("kitchen")


async def add_each_should_take_a_duplicate_as_success(store: MeasurementStore) -> None:
    await store.add([Measurement("hall", at(0), 290.0)])
    assert await store.add_each([Measurement("hall", at(0), 290.0)]) == []


@pytest.mark.parametrize("size", [10, 2500])
async def add_of_a_large_batch_should_find_its_conflicts_by_index(
    store: MeasurementStore, size: int
) -> None:
    """Sizes on both sides of PostgreSQL's switch from arrays to COPY."""
    await store.add([Measurement("hall", at(3), 290.0), Measurement("hall", at(5), 290.0)])
    batch = [Measurement("hall", at(index), 290.0 + index % 7) for index in range(size)]
    with pytest.raises(ConflictingMeasurements) as conflict:
        await store.add(batch)
    assert conflict.value.indices == [index for index in (3, 5) if index % 7 != 0]
    batch = [m for index, m in enumerate(batch) if index not in (3, 5)]
    assert await store.add(batch) == WriteResult(stored=size - 2, duplicates=0)
    stats = await summary_of(store, "hall", at(0), at(size))
    assert stats is not None
    assert stats.count == size


async def an_empty_batch_of_columns_should_store_nothing(store: MeasurementStore) -> None:
    empty = Columns.of([])
    assert await store.add_columns(empty) == WriteResult(stored=0, duplicates=0)
    assert await store.rooms() == []


async def a_large_batch_partly_stored_already_should_count_the_duplicates(
    store: MeasurementStore,
) -> None:
    await store.add([Measurement("hall", at(index), 290.0) for index in range(0, 3000, 3)])
    batch = [Measurement("hall", at(index), 290.0) for index in range(3000)]
    assert await store.add(batch) == WriteResult(stored=2000, duplicates=1000)


async def overlapping_batches_written_at_once_should_both_succeed(store: MeasurementStore) -> None:
    """The second waits for the first, or they deadlock, rows being in opposite orders: either
    way each ends up stored once and both writes succeed."""
    first = [Measurement("hall", at(index), 290.0) for index in range(3000)]
    second = [Measurement("hall", at(index), 290.0) for index in reversed(range(1500, 4500))]
    results = await asyncio.gather(store.add(first), store.add(second))
    assert sum(result.stored for result in results) == 4500
    assert sum(result.duplicates for result in results) == 1500
    stats = await summary_of(store, "hall", at(0), at(4500))
    assert stats is not None
    assert stats.count == 4500


@pytest.mark.parametrize("size", [2, 2500])
async def a_key_repeated_within_one_add_should_count_once(
    store: MeasurementStore, size: int
) -> None:
    batch = [Measurement("hall", at(index), 290.0) for index in range(size - 1)]
    batch.append(Measurement("hall", at(0), 290.0))
    assert await store.add(batch) == WriteResult(stored=size - 1, duplicates=1)


@pytest.mark.parametrize("size", [2, 2500])
async def a_key_repeated_within_one_add_with_another_value_should_conflict(
    store: MeasurementStore, size: int
) -> None:
    batch = [Measurement("hall", at(index), 290.0) for index in range(size - 1)]
    batch.append(Measurement("hall", at(0), 291.0))
    with pytest.raises(ConflictingMeasurements) as conflict:
        await store.add(batch)
    assert conflict.value.indices == [size - 1]  # the value given first is the one kept
    assert not await store.has_room("hall")


async def add_each_should_keep_the_first_of_two_values_given_for_one_key(
    store: MeasurementStore,
) -> None:
    twice = [Measurement("hall", at(0), 290.0), Measurement("hall", at(0), 291.0)]
    assert await store.add_each(twice) == [1]
    stats = await summary_of(store, "hall", at(0), at(0))
    assert stats is not None
    assert (stats.count, stats.total) == (1, 290.0)
