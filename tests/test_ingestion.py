"""The write path's rules, called directly: validate one measurement, validate a batch (on
whole columns, the rules of validate() item by item), and how single writes are recorded."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from roomtemp.domain.columns import UNIT_CODES, UNIT_ORDER, Readings, from_micros, to_micros
from roomtemp.domain.measurements import Measurement
from roomtemp.ingestion import (
    InvalidBatch,
    InvalidMeasurement,
    Limits,
    recording,
    shares_commits,
    sort_out,
    validate,
    validate_readings,
)
from roomtemp.settings import Settings
from roomtemp.storage.memory import InMemoryStore

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
LIMITS = Limits(max_kelvin=1273.15, max_future_skew=timedelta(hours=1))


@dataclass(frozen=True)
class Item:
    room_id: str
    v: float
    u: str = "K"
    ts: datetime | None = None


def fields_of(error: InvalidMeasurement) -> list[str]:
    return [problem.field for problem in error.problems]


def validate_should_store_kelvin_and_utc() -> None:
    ts = datetime(2026, 11, 27, 13, 0, tzinfo=timezone(timedelta(hours=1)))
    measurement = validate("Hall", 20.0, "c", ts, now=NOW, limits=LIMITS)
    assert measurement.room_id == "Hall"
    assert measurement.kelvin == pytest.approx(293.15)
    assert (measurement.ts, measurement.ts.tzinfo) == (NOW, UTC)


def validate_without_ts_should_take_the_clock() -> None:
    assert validate("Hall", 293.15, "K", None, now=NOW, limits=LIMITS).ts == NOW


@pytest.mark.parametrize(
    ("room_id", "value", "unit", "ts", "field"),
    [
        ("", 293.15, "K", None, "room_id"),
        ("a\x00b", 293.15, "K", None, "room_id"),
        ("x" * 129, 293.15, "K", None, "room_id"),
        ("Hall", 20.0, "celsius", None, "u"),
        ("Hall", -273.16, "C", None, "v"),
        ("Hall", -459.68, "F", None, "v"),
        ("Hall", float("nan"), "K", None, "v"),
        ("Hall", 1273.16, "K", None, "v"),
        ("Hall", 293.15, "K", NOW + timedelta(hours=1, microseconds=1), "ts"),
    ],
)
def validate_should_refuse_each_rule_broken(
    room_id: str, value: float, unit: str, ts: datetime | None, field: str
) -> None:
    with pytest.raises(InvalidMeasurement) as refused:
        validate(room_id, value, unit, ts, now=NOW, limits=LIMITS)
    assert fields_of(refused.value) == [field]


@pytest.mark.parametrize(
    ("value", "unit", "ts"),
    [
        (-273.15, "C", None),  # absolute zero itself
        (1273.15, "K", None),  # the ceiling itself
        (293.15, "K", NOW + timedelta(hours=1)),  # exactly the skew allowed
    ],
)
def validate_should_accept_values_on_the_bounds(
    value: float, unit: str, ts: datetime | None
) -> None:
    validate("Hall", value, unit, ts, now=NOW, limits=LIMITS)


def validate_should_name_every_rule_broken_at_once() -> None:
    with pytest.raises(InvalidMeasurement) as refused:
        validate("", -1.0, "X", NOW + timedelta(days=1), now=NOW, limits=LIMITS)
    assert sorted(fields_of(refused.value)) == ["room_id", "ts", "u", "v"]


def readings_of(items: list[Item]) -> Readings:
    return Readings.of(
        [item.room_id for item in items],
        np.array([item.v for item in items], np.float64),
        np.array([UNIT_CODES[item.u] for item in items], np.uint8),
        np.array([to_micros(item.ts or NOW) for item in items], np.int64),
    )


def validate_readings_should_validate_every_item_in_order() -> None:
    batch = validate_readings(
        readings_of([Item("A", 293.15), Item("B", 20.0, "C")]), now=NOW, limits=LIMITS
    )
    assert [(m.room_id, m.ts, m.kelvin) for m in batch.measurements()] == [
        ("A", NOW, 293.15),
        ("B", NOW, 293.15),
    ]


def validate_readings_should_name_each_invalid_item_by_index() -> None:
    items = [Item("A", 293.15), Item("", 293.15), Item("C", -1.0), Item("", -500.0, "F")]
    with pytest.raises(InvalidBatch) as refused:
        validate_readings(readings_of(items), now=NOW, limits=LIMITS)
    assert [(index, problem.field) for index, problem in refused.value.problems] == [
        (1, "room_id"),
        (2, "v"),
        (3, "room_id"),
        (3, "v"),
    ]
    assert str(refused.value) == "3 items are invalid"


def validate_readings_of_nothing_should_be_nothing() -> None:
    assert len(validate_readings(readings_of([]), now=NOW, limits=LIMITS)) == 0


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
    readings = Readings.of(
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


@pytest.mark.parametrize("shared", [True, False])
async def recording_should_store_each_measurement_durably_either_way(shared: bool) -> None:
    store = InMemoryStore()
    settings = Settings(database_url="memory://", shared_commits=shared)
    async with recording(store, settings) as record:
        await record(Measurement("Hall", NOW, 293.15))
    assert await store.has_room("Hall")


@pytest.mark.parametrize(
    ("url", "shared"),
    [("memory://", False), ("sqlite:///x.sqlite3", True), ("postgresql://h/db", True)],
)
def shared_commits_should_default_to_where_a_commit_costs_a_flush(url: str, shared: bool) -> None:
    assert shares_commits(Settings(database_url=url)) is shared


def shared_commits_should_follow_the_setting_when_given() -> None:
    assert shares_commits(Settings(database_url="memory://", shared_commits=True))
    assert not shares_commits(Settings(database_url="sqlite:///x", shared_commits=False))
