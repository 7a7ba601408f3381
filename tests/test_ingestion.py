"""The write path's rules: checked on whole columns for a batch, they are validate()'s rules
item by item; and how single writes are committed."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from roomtemp.domain.columns import UNIT_CODES, UNIT_ORDER, Readings, from_micros, to_micros
from roomtemp.ingestion import (
    InvalidBatch,
    InvalidMeasurement,
    Limits,
    shares_commits,
    sort_out,
    validate,
    validate_readings,
)
from roomtemp.settings import Settings

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
LIMITS = Limits(max_kelvin=1273.15, max_future_skew=timedelta(hours=1))
EDGES = [
    datetime(1900, 1, 1, tzinfo=UTC),
    datetime(9000, 1, 1, tzinfo=UTC),
    NOW,
    NOW + LIMITS.max_future_skew,
]

rooms = st.sampled_from(["hall", "Küche", "", "x" * 128, "x" * 129, "tab\there", "bell\x07"])
values = st.one_of(
    st.floats(allow_nan=True),
    st.sampled_from([0.0, -273.15, -459.67, 1273.15, 1000.0, 1832.0, 2000.0, -1e-300]),
)
units = st.sampled_from(sorted(UNIT_CODES))
stamps = st.one_of(
    st.sampled_from(EDGES).flatmap(
        lambda edge: st.integers(-2, 2).map(lambda micros: edge + timedelta(microseconds=micros))
    ),
    st.datetimes(
        min_value=datetime(1800, 1, 1), max_value=datetime(9500, 1, 1), timezones=st.just(UTC)
    ),
)
items = st.lists(st.tuples(rooms, values, units, stamps), max_size=30)


@settings(max_examples=300, deadline=None)
@given(items=items)
def columns_should_refuse_and_store_exactly_what_validate_does(
    items: list[tuple[str, float, str, datetime]],
) -> None:
    readings = Readings(
        [room for room, _, _, _ in items],
        np.array([value for _, value, _, _ in items], np.float64),
        np.array([UNIT_CODES[unit] for _, _, unit, _ in items], np.uint8),
        np.array([to_micros(ts) for _, _, _, ts in items], np.int64),
    )
    expected, failing = [], []
    for index, (room, value, unit, ts) in enumerate(items):
        try:
            expected.append(validate(room, value, unit, ts, now=NOW, limits=LIMITS))
        except InvalidMeasurement as error:
            failing.append((index, error.problems))
    valid, invalid = sort_out(readings, now=NOW, limits=LIMITS)
    assert np.flatnonzero(invalid).tolist() == [index for index, _ in failing]
    assert valid.measurements() == expected
    assert sorted(valid.names) == sorted({m.room_id for m in expected})
    if failing:
        with pytest.raises(InvalidBatch) as raised:
            validate_readings(readings, now=NOW, limits=LIMITS)
        assert raised.value.problems == [
            (index, problem) for index, problems in failing for problem in problems
        ]
        assert str(raised.value) == f"{len(failing)} items are invalid"
        return
    columns = validate_readings(readings, now=NOW, limits=LIMITS)
    assert columns.measurements() == expected
    assert [UNIT_ORDER[code] for code in readings.units] == [
        unit.upper() for _, _, unit, _ in items
    ]
    assert all(from_micros(to_micros(m.ts)) == m.ts for m in expected)


@pytest.mark.parametrize(
    ("url", "shared"),
    [("memory://", False), ("sqlite:///x.sqlite3", True), ("postgresql://h/db", True)],
)
def shared_commits_should_default_to_where_a_commit_costs_a_flush(url: str, shared: bool) -> None:
    assert shares_commits(Settings(database_url=url)) is shared


def shared_commits_should_follow_the_setting_when_given() -> None:
    assert shares_commits(Settings(database_url="memory://", shared_commits=True))
    assert not shares_commits(Settings(database_url="sqlite:///x", shared_commits=False))
