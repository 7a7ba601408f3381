"""Property: whatever was written, in whatever order, and whatever is asked, the rollup-backed
answers equal what the raw measurements say, on every backend; and with raw retention, the
rollups hold every measurement once, pruned or not, whatever is posted again."""

import uuid
from bisect import bisect_right
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from math import fsum
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from roomtemp import ingestion, queries
from roomtemp.domain.columns import UNIT_CODES, Columns, Readings, to_micros
from roomtemp.domain.measurements import (
    EARLIEST,
    LATEST,
    ConflictingMeasurements,
    EmptyWindow,
    Measurement,
    UnknownRoom,
)
from roomtemp.domain.rollups import HOUR, MICROSECOND, floor_to
from roomtemp.domain.series import bucket_edges
from roomtemp.retention import horizon, prune_cutoff
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


RETENTION = timedelta(days=10)
LIMITS = ingestion.Limits(max_kelvin=1273.15, max_future_skew=timedelta(hours=1))
KEEPING = replace(LIMITS, raw_retention=RETENTION)
recent = st.builds(
    lambda minutes, micros: timedelta(minutes=minutes, microseconds=micros),
    st.integers(-60 * 24 * 12, 0),
    st.sampled_from([0, 0, 1, 999_999]),
)
# An event: the clock moves on (minutes), then a write (new items, up to 12 days old, atomic
# or each on its own) or a re-post of an earlier write is validated, a prune may run (minutes
# after the validation, less than PRUNE_LAG), and the write is committed.
events = st.lists(
    st.tuples(
        st.integers(0, 60 * 24 * 2),
        st.one_of(
            st.tuples(st.lists(st.tuples(recent, values), min_size=1, max_size=8), st.booleans()),
            st.integers(0, 10),  # re-post the write made this many writes ago
        ),
        st.none() | st.integers(0, 59),
    ),
    min_size=1,
    max_size=12,
)


@dataclass(frozen=True)
class Item:
    """A measurement as posted, in kelvin."""

    room_id: str
    v: float
    ts: datetime
    u: str = "K"


async def write_through_ingestion(
    store: MeasurementStore,
    items: list[Item],
    atomic: bool,
    now: datetime,
    pruning: datetime | None = None,
) -> None:
    """Validate as the service does at `now`, prune at `pruning` if given, then commit: a batch
    all or nothing, single writes each on its own (as shared commits store them)."""
    if atomic:
        readings = Readings.of(
            [m.room_id for m in items],
            np.array([m.v for m in items], np.float64),
            np.array([UNIT_CODES[m.u] for m in items], np.uint8),
            np.array([to_micros(m.ts) for m in items], np.int64),
        )
        batch = ingestion.validate_readings(readings, now=now, limits=KEEPING)
    else:
        singles = [
            ingestion.validate(m.room_id, m.v, m.u, m.ts, now=now, limits=KEEPING) for m in items
        ]
    if pruning is not None:
        await store.delete_raw_before(prune_cutoff(pruning, RETENTION))
    if atomic:
        await ingestion.record_batch(store, batch)
    else:
        await store.add_each(singles)


@PROPERTY
@given(happened=events)
# The race: a measurement is posted again, validated against the horizon of 12:10, a prune
# runs at 13:05 before it is committed; it must not have deleted the original meanwhile.
@example(happened=[(0, ([(-RETENTION + timedelta(minutes=30), 290.0)], True), None), (10, 0, 55)])
async def rollups_should_equal_raw_rows_plus_what_was_pruned_whatever_is_posted_again(
    store: MeasurementStore,
    happened: list[tuple[int, tuple[list[tuple[timedelta, float]], bool] | int, int | None]],
) -> None:
    room = f"room-{uuid.uuid4()}"
    now = T0
    written: list[tuple[list[Item], bool]] = []
    accepted: dict[datetime, float] = {}  # every measurement ever stored, pruned or not
    cutoff = EARLIEST
    for minutes, write, prune_after in happened:
        now += timedelta(minutes=minutes)
        if isinstance(write, int):
            if not written:
                continue
            items, atomic = written[-1 - write % len(written)]
        else:
            items = [Item(room, value, now + offset) for offset, value in write[0]]
            atomic = write[1]
            written.append((items, atomic))
        earliest = horizon(now, RETENTION)
        assert earliest is not None
        if any(m.ts < earliest for m in items):
            with pytest.raises(ValueError, match=r"retention horizon|items are invalid") as refused:
                await write_through_ingestion(store, items, atomic, now)
            assert isinstance(refused.value, ingestion.InvalidBatch | ingestion.InvalidMeasurement)
            assert refused.value.code == "before_retention"
            if atomic:
                continue  # nothing of it was stored
            items = [m for m in items if m.ts >= earliest]  # each single write on its own
        pruning = None if prune_after is None else now + timedelta(minutes=prune_after)
        model = dict(accepted)
        conflicts = [m for m in items if model.setdefault(m.ts, m.v) != m.v]
        try:
            await write_through_ingestion(store, items, atomic, now, pruning)
        except ingestion.ConflictingBatch:
            assert atomic
            assert conflicts
        else:
            assert not atomic or not conflicts
            accepted = model
        if pruning is not None:
            cutoff = max(cutoff, prune_cutoff(pruning, RETENTION))
    raw = await store.raw(room, EARLIEST, LATEST, limit=10_000)
    assert raw == sorted((ts, kelvin) for ts, kelvin in accepted.items() if ts >= cutoff)
    hours: dict[datetime, list[float]] = {}
    for ts, kelvin in accepted.items():
        hours.setdefault(floor_to(ts, HOUR), []).append(kelvin)
    found = await store.buckets(room, HOUR, EARLIEST, LATEST)
    assert [start for start, _ in found] == sorted(hours)
    for start, summary in found:
        assert summary.count == len(hours[start])
        assert summary.total == pytest.approx(fsum(hours[start]), rel=1e-9)


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
