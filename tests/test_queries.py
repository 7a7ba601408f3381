"""Property: whatever was written, in whatever order, and whatever is asked, the rollup-backed
answers equal what the raw measurements say, on every backend."""

import uuid
from bisect import bisect_right
from datetime import UTC, datetime, timedelta
from math import fsum
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roomtemp import queries
from roomtemp.domain.columns import Columns
from roomtemp.domain.measurements import (
    ConflictingMeasurements,
    EmptyWindow,
    Measurement,
    UnknownRoom,
)
from roomtemp.domain.rollups import HOUR, MICROSECOND, floor_to
from roomtemp.domain.series import bucket_edges
from roomtemp.storage import MeasurementStore
from roomtemp.storage.postgres import store as postgres_store

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
SPAN_MINUTES = 60 * 24 * 45  # writes spread over 45 days before T0

offsets = st.builds(
    lambda minutes, micros: timedelta(minutes=minutes, microseconds=micros),
    st.integers(-SPAN_MINUTES, 0),
    st.sampled_from([0, 0, 0, 1, 999_999, 30_000_000]),
)
values = st.integers(25_000, 35_000).map(lambda hundredths: hundredths / 100)
# A write is a batch of (offset, value), stored all or nothing (as a list or as columns, the
# batch path) or each on its own; some repeat keys, with the same value or another.
WAYS = ("add", "add_columns", "add_each")
writes = st.lists(
    st.tuples(st.lists(st.tuples(offsets, values), min_size=1, max_size=40), st.sampled_from(WAYS)),
    min_size=1,
    max_size=6,
)
windows = st.tuples(offsets, st.integers(0, SPAN_MINUTES)).map(
    lambda w: (T0 + w[0], T0 + w[0] + timedelta(minutes=w[1]))
)
# Zones a whole number of hours, half hours and quarter hours from UTC, with and without DST.
ZONES = [
    None,
    *map(
        ZoneInfo,
        [
            "Europe/Berlin",
            "Asia/Kolkata",  # +5:30
            "Asia/Kathmandu",  # +5:45
            "Pacific/Chatham",  # +12:45 / +13:45
            "Australia/Adelaide",  # +9:30 / +10:30
            "America/St_Johns",  # Newfoundland, -3:30 / -2:30
        ],
    ),
]
BUCKETS = [
    timedelta(minutes=minutes) for minutes in (7, 10, 15, 30, 45, 60, 180, 24 * 60, 2 * 24 * 60)
]
PROPERTY = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


async def write_all(
    store: MeasurementStore, room: str, batches: list[tuple[list[tuple[timedelta, float]], str]]
) -> dict[datetime, float]:
    """Write the batches as the service does (all or nothing, or each on its own) and keep
    what should now be stored."""
    stored: dict[datetime, float] = {}
    for items, way in batches:
        batch = [Measurement(room, T0 + offset, value) for offset, value in items]
        expected = dict(stored)
        conflicts = []
        for index, measurement in enumerate(batch):
            known = expected.setdefault(measurement.ts, measurement.kelvin)
            if known != measurement.kelvin:
                conflicts.append(index)
        if way != "add_each":
            try:
                if way == "add":
                    await store.add(batch)
                else:
                    with pytest.MonkeyPatch.context() as patch:
                        # As many as a batch of 100,000 would, through PostgreSQL's COPY path.
                        patch.setattr(postgres_store, "COPY_FROM", 1)
                        await store.add_columns(Columns.of(batch))
            except ConflictingMeasurements:
                assert conflicts
                continue
            assert not conflicts
        else:
            assert len(await store.add_each(batch)) == len(conflicts)
        stored = expected
    return stored


@PROPERTY
@given(batches=writes, asked=st.lists(windows, min_size=1, max_size=5))
async def a_window_should_equal_the_raw_measurements_in_it(
    store: MeasurementStore,
    batches: list[tuple[list[tuple[timedelta, float]], str]],
    asked: list[tuple[datetime, datetime]],
) -> None:
    room = f"room-{uuid.uuid4()}"
    stored = await write_all(store, room, batches)
    for since, until in asked:
        inside = sorted((ts, kelvin) for ts, kelvin in stored.items() if since <= ts <= until)
        if not inside:
            with pytest.raises(EmptyWindow if stored else UnknownRoom):
                await queries.window(store, room, since, until)
            continue
        found = (await queries.window(store, room, since, until)).summary
        kelvins = [kelvin for _, kelvin in inside]
        assert found.count == len(inside)
        assert found.mean == pytest.approx(fsum(kelvins) / len(kelvins), rel=1e-9)
        assert (found.minimum, found.maximum) == (min(kelvins), max(kelvins))
        assert (found.first_ts, found.last_ts) == (inside[0][0], inside[-1][0])


@PROPERTY
@given(
    batches=writes,
    window=windows,
    bucket=st.sampled_from(BUCKETS),
    zone=st.sampled_from(ZONES),
)
async def a_series_should_equal_the_raw_measurements_bucket_by_bucket(
    store: MeasurementStore,
    batches: list[tuple[list[tuple[timedelta, float]], str]],
    window: tuple[datetime, datetime],
    bucket: timedelta,
    zone: ZoneInfo | None,
) -> None:
    room = f"room-{uuid.uuid4()}"
    stored = await write_all(store, room, batches)
    since, until = window
    edges = bucket_edges(since, until, bucket, zone)
    expected: dict[datetime, list[float]] = {}
    for ts, kelvin in stored.items():
        if since <= ts <= until:
            start = max(edge for edge in edges if edge <= ts)
            expected.setdefault(start, []).append(kelvin)
    if not stored:  # every write conflicted with itself: the room never had a measurement
        with pytest.raises(UnknownRoom):
            await queries.series(store, room, since, until, edges)
        return
    found = await queries.series(store, room, since, until, edges)
    assert [start for start, _ in found.points] == sorted(expected)
    for start, summary in found.points:
        kelvins = expected[start]
        assert summary.count == len(kelvins)
        assert summary.mean == pytest.approx(fsum(kelvins) / len(kelvins), rel=1e-9)
        assert (summary.minimum, summary.maximum) == (min(kelvins), max(kelvins))
    assert found.exact


def _cut_hours(since: datetime, end: datetime, edges: list[datetime]) -> set[datetime]:
    """The hours that a bucket edge, or the window's start or end, falls strictly inside."""
    cuts = [edge for edge in edges if since < edge < end] + [since, end]
    return {floor_to(cut, HOUR) for cut in cuts if floor_to(cut, HOUR) != cut}


@PROPERTY
@given(
    batches=writes,
    window=windows,
    bucket=st.sampled_from(BUCKETS),
    zone=st.sampled_from(ZONES),
    horizon=offsets,
)
async def a_series_past_the_horizon_should_count_each_cut_hour_whole_where_it_starts(
    store: MeasurementStore,
    batches: list[tuple[list[tuple[timedelta, float]], str]],
    window: tuple[datetime, datetime],
    bucket: timedelta,
    zone: ZoneInfo | None,
    horizon: timedelta,
) -> None:
    """Before the retention horizon raw rows are gone: an hour cut by an edge there counts
    whole, in the bucket where it starts, and nothing else changes."""
    room = f"room-{uuid.uuid4()}"
    stored = await write_all(store, room, batches)
    raw_from = floor_to(T0 + horizon, HOUR)
    await store.delete_raw_before(raw_from)  # what retention would have pruned
    since, until = window
    edges = bucket_edges(since, until, bucket, zone)
    widened = {
        hour
        for hour in _cut_hours(since, until + MICROSECOND, edges)
        if max(hour, since) < raw_from
    }
    expected: dict[datetime, list[float]] = {}
    for ts, kelvin in stored.items():
        hour = floor_to(ts, HOUR)
        if hour in widened:
            start = edges[max(bisect_right(edges, hour) - 1, 0)]
        elif since <= ts <= until:
            start = max(edge for edge in edges if edge <= ts)
        else:
            continue
        expected.setdefault(start, []).append(kelvin)
    if not stored:
        return
    found = await queries.series(store, room, since, until, edges, raw_from=raw_from)
    assert [start for start, _ in found.points] == sorted(expected)
    for start, summary in found.points:
        kelvins = expected[start]
        assert summary.count == len(kelvins)
        assert summary.mean == pytest.approx(fsum(kelvins) / len(kelvins), rel=1e-9)
        assert (summary.minimum, summary.maximum) == (min(kelvins), max(kelvins))
    assert found.exact == (not widened)


async def an_hour_cut_by_buckets_on_both_sides_of_the_horizon_should_count_once(
    store: MeasurementStore,
) -> None:
    """PT45M buckets, a horizon at 01:00, and a reading every 5 minutes: the bucket from 00:45
    holds a quarter-hour piece reaching across the horizon. Before it, hour 00:00 counts whole
    (in bucket 00:00, where it starts); after it, only the bucket's own 01:00-01:30, never the
    whole hour 01:00, which bucket 01:30 reads from 01:30 on."""
    day = datetime(2026, 11, 1, tzinfo=UTC)
    minutes = range(0, 180, 5)
    await store.add([Measurement("hall", day + timedelta(minutes=m), 290.0) for m in minutes])
    since, until = day + timedelta(minutes=10), day + timedelta(minutes=130)
    edges = bucket_edges(since, until, timedelta(minutes=45))
    assert edges == [day + timedelta(minutes=m) for m in (0, 45, 90, 135)]
    raw_from = day + HOUR
    await store.delete_raw_before(raw_from)
    found = await queries.series(store, "hall", since, until, edges, raw_from=raw_from)
    counts = {start: summary.count for start, summary in found.points}
    assert counts == {edges[0]: 12, edges[1]: 6, edges[2]: 9}
    assert not found.exact
