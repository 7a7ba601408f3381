"""The write path: validate, normalise to kelvin and UTC, store. The rules live here."""

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Protocol

import numpy as np
import numpy.typing as npt

from roomtemp.domain.columns import UNIT_ORDER, Columns, Readings, from_micros, to_micros
from roomtemp.domain.measurements import (
    EARLIEST,
    LATEST,
    ConflictingMeasurements,
    InvalidRoomId,
    InvalidTimestamp,
    Measurement,
    TimestampOutOfRange,
    as_utc,
    check_room_id,
    format_ts,
    parse_ts,
)
from roomtemp.domain.rollups import MICROSECOND
from roomtemp.domain.units import (
    ABSOLUTE_ZERO,
    Unit,
    UnknownUnit,
    from_kelvin,
    parse_unit,
    to_kelvin,
)
from roomtemp.retention import horizon
from roomtemp.settings import Settings
from roomtemp.shared_commits import SharedCommits
from roomtemp.storage import backend_of
from roomtemp.storage.base import MeasurementStore, WriteResult

INVALID = "invalid_measurement"
BEFORE_RETENTION = "before_retention"
# Stores one validated measurement durably; ConflictingMeasurements as `record` says.
Recorder = Callable[[Measurement], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Limits:
    max_kelvin: float
    max_future_skew: timedelta
    raw_retention: timedelta | None = None  # None: raw measurements are kept for ever


@dataclass(frozen=True, slots=True)
class FieldProblem:
    field: str  # "room_id", "v", "u" or "ts"
    message: str
    code: str = INVALID


def _code(problems: Iterable[FieldProblem]) -> str:
    """before_retention when that is all that is wrong, so a client can tell it from a typo."""
    return BEFORE_RETENTION if all(p.code == BEFORE_RETENTION for p in problems) else INVALID


class InvalidMeasurement(ValueError):
    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems
        self.code = _code(problems)


# Items of a batch explained one by one when they break rules: an answer lists no more.
EXPLAINED_ITEMS = 100


class InvalidBatch(ValueError):
    """Items of a batch break rules; `problems` pairs each with its index (those of the first
    failing items), `invalid` counts them all. Nothing is stored."""

    def __init__(
        self, problems: list[tuple[int, FieldProblem]], invalid: int | None = None
    ) -> None:
        count = len({index for index, _ in problems}) if invalid is None else invalid
        super().__init__(f"{count} items are invalid")
        self.problems = problems
        self.code = _code(problem for _, problem in problems)


class ConflictingBatch(Exception):
    """Items of a batch name a room and ts already stored, or repeated, with another value."""

    def __init__(self, indices: list[int]) -> None:
        super().__init__(f"{len(indices)} items conflict with stored measurements")
        self.indices = indices


def validate(
    room_id: str,
    value: float,
    unit_text: str,
    ts: str | datetime | None,
    *,
    now: datetime,
    limits: Limits,
) -> Measurement:
    """The measurement to store, in kelvin and UTC; InvalidMeasurement lists every rule broken."""
    earliest = horizon(now, limits.raw_retention)
    problems = []
    try:
        room_id = check_room_id(room_id)
    except InvalidRoomId as error:
        problems.append(FieldProblem("room_id", str(error)))
    try:
        unit = parse_unit(unit_text)
    except UnknownUnit as error:
        problems.append(FieldProblem("u", str(error)))
        unit = Unit.KELVIN  # to check the value against something all the same
    kelvin = to_kelvin(value, unit)
    if not value >= ABSOLUTE_ZERO[unit]:
        problems.append(FieldProblem("v", f"{value} {unit} is below absolute zero"))
    elif kelvin > limits.max_kelvin:
        ceiling = from_kelvin(limits.max_kelvin, unit)
        problems.append(
            FieldProblem("v", f"{value} {unit} is above the ceiling of {ceiling:g} {unit}")
        )
    try:
        utc = now if ts is None else parse_ts(ts) if isinstance(ts, str) else as_utc(ts)
    except (InvalidTimestamp, TimestampOutOfRange) as error:
        problems.append(FieldProblem("ts", str(error)))
    else:
        if utc > now and utc - now > limits.max_future_skew:  # cheapest test first
            problems.append(
                FieldProblem(
                    "ts",
                    f"{format_ts(utc)} is more than {limits.max_future_skew} ahead of "
                    f"the server's clock ({format_ts(now)})",
                )
            )
        elif earliest is not None and utc < earliest:
            # Raw measurements before the horizon are deleted, their rollups kept: one stored
            # again there would be counted twice.
            problems.append(
                FieldProblem(
                    "ts",
                    f"{format_ts(utc)} is before the raw retention horizon"
                    f" ({format_ts(earliest)}): older measurements are no longer taken",
                    BEFORE_RETENTION,
                )
            )
    if problems:
        raise InvalidMeasurement(problems)
    return Measurement(room_id, utc, kelvin)


_ZEROS = np.array([ABSOLUTE_ZERO[unit] for unit in UNIT_ORDER])
_CELSIUS, _FAHRENHEIT = UNIT_ORDER.index(Unit.CELSIUS), UNIT_ORDER.index(Unit.FAHRENHEIT)
_EARLIEST, _LATEST = to_micros(EARLIEST), to_micros(LATEST)


def validate_readings(readings: Readings, *, now: datetime, limits: Limits) -> Columns:
    """The rules of validate(), checked for a whole batch at once: the measurements to store,
    in kelvin; InvalidBatch counts every item that breaks a rule and explains the first ones."""
    columns, invalid = sort_out(readings, now=now, limits=limits)
    if invalid.any():
        failing = np.flatnonzero(invalid)
        problems = [
            (index, problem)
            for index in failing[:EXPLAINED_ITEMS].tolist()
            for problem in explain(readings, index, now=now, limits=limits)
        ]
        raise InvalidBatch(problems, len(failing))
    return columns


def sort_out(
    readings: Readings, *, now: datetime, limits: Limits
) -> tuple[Columns, npt.NDArray[np.bool_]]:
    """The valid items, in kelvin, as columns; and which items break a rule of validate(), for
    a protocol that stores what is valid and reports the rest (InfluxDB's partial writes)."""
    posted = readings.rooms
    # Each room id as the room it names (check_room_id's), or None: two spellings of one room
    # are one room.
    rooms: dict[str, int] = {}
    named = [_room_of(room_id) for room_id in readings.room_ids]
    codes = np.array(
        [-1 if r is None else rooms.setdefault(r, len(rooms)) for r in named], np.int64
    )
    values, units, micros = readings.values, readings.units, readings.micros
    with np.errstate(over="ignore", invalid="ignore"):  # huge values: inf, refused below
        kelvin = np.where(
            units == _CELSIUS,
            values + 273.15,
            np.where(units == _FAHRENHEIT, (values + 459.67) * 5 / 9, values),
        )  # the very operations of to_kelvin(), so the very same floats
        invalid = (
            (codes[posted] < 0)
            | ~(values >= _ZEROS[units])  # NaN too
            | (kelvin > limits.max_kelvin)
            | (micros < _EARLIEST)
            | (micros >= _LATEST)
            | (micros - to_micros(now) > limits.max_future_skew // MICROSECOND)
            | (micros < _earliest_micros(now, limits))
        )
    valid = ~invalid
    return Columns.of_valid(
        list(rooms), codes[posted][valid], micros[valid], kelvin[valid]
    ), invalid


def _earliest_micros(now: datetime, limits: Limits) -> int:
    """The retention horizon (validate()'s), in microseconds; the epoch's start without one."""
    earliest = horizon(now, limits.raw_retention)
    return _EARLIEST if earliest is None else to_micros(earliest)


def _room_of(room_id: str) -> str | None:
    try:
        return check_room_id(room_id)
    except InvalidRoomId:
        return None


def explain(readings: Readings, index: int, *, now: datetime, limits: Limits) -> list[FieldProblem]:
    """What validate() says of item `index`, one that sort_out() found invalid."""
    micros = int(readings.micros[index])
    try:
        ts: datetime | None = from_micros(micros)
    except OverflowError:  # beyond Python's years 1-9999 once in UTC
        ts = None
    try:
        validate(
            readings.room_ids[readings.rooms[index]],
            float(readings.values[index]),
            UNIT_ORDER[readings.units[index]],
            ts,
            now=now,
            limits=limits,
        )
    except InvalidMeasurement as error:
        return error.problems
    assert ts is None  # nothing else passes validate() here and fails above
    return [FieldProblem("ts", f"a ts outside the years {EARLIEST.year} to {LATEST.year}")]


class Posted(Protocol):
    """A measurement as a protocol read it, one at a time: any object with these attributes."""

    @property
    def room_id(self) -> str: ...
    @property
    def v(self) -> float: ...
    @property
    def u(self) -> str: ...
    @property
    def ts(self) -> datetime | None: ...


def validate_each(
    items: Sequence[Posted], *, now: datetime, limits: Limits
) -> tuple[list[tuple[int, Measurement]], list[tuple[int, InvalidMeasurement]]]:
    """Each item validated on its own, for writes where every valid item counts (InfluxDB's
    partial writes): (index, measurement) of those that pass, (index, error) of the others."""
    valid: list[tuple[int, Measurement]] = []
    invalid: list[tuple[int, InvalidMeasurement]] = []
    for index, item in enumerate(items):
        try:
            valid.append(
                (index, validate(item.room_id, item.v, item.u, item.ts, now=now, limits=limits))
            )
        except InvalidMeasurement as error:
            invalid.append((index, error))
    return valid, invalid


async def record(store: MeasurementStore, new: Measurement) -> None:
    """Store one validated measurement durably. Storing it again changes nothing;
    ConflictingMeasurements if the room already has another value at that ts."""
    await store.add([new])


def shares_commits(settings: Settings) -> bool:
    """Measured (make bench): shared commits pay where a commit costs a flush to disk, and
    cost ~20 us per request where it costs nothing (memory://)."""
    if settings.shared_commits is not None:
        return settings.shared_commits
    return backend_of(settings.database_url) != "memory"


@asynccontextmanager
async def recording(store: MeasurementStore, settings: Settings) -> AsyncIterator[Recorder]:
    """How single writes reach `store` while the block runs: gathered with concurrent ones into
    shared commits, or each in a transaction of its own (`record`). What is queued is
    committed before the block ends."""
    if not shares_commits(settings):
        yield partial(record, store)
        return
    shared = SharedCommits(store)
    try:
        yield shared.add
    finally:
        await shared.close()


async def record_batch(store: MeasurementStore, batch: Columns) -> WriteResult:
    """Store a validated batch all or nothing, in one transaction. Items already stored, or
    repeated within the batch, with the same value count as duplicates; ConflictingBatch
    names the items that conflict."""
    try:
        return await store.add_columns(batch)
    except ConflictingMeasurements as error:
        raise ConflictingBatch(error.indices) from None


async def record_each(store: MeasurementStore, batch: Sequence[Measurement]) -> list[int]:
    """Store each measurement of a validated batch that does not conflict, in one durable
    transaction (stored already with the same value: nothing new); the indices of those that
    conflict."""
    return await store.add_each(batch)
