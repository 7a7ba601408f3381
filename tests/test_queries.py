"""Property: whatever was written, in whatever order, and whatever is asked, the rollup-backed
answers equal what the raw measurements say, on every backend."""

import uuid
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
ZONES = [None, ZoneInfo("Europe/Berlin"), ZoneInfo("Asia/Kolkata")]
BUCKETS = [timedelta(minutes=10), timedelta(hours=1), timedelta(hours=3), timedelta(days=1)]
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
