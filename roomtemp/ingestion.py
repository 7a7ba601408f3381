"""The write path: validate, normalise to kelvin and UTC, store. The rules live here."""

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Protocol

from roomtemp.domain.measurements import (
    ConflictingMeasurements,
    InvalidRoomId,
    Measurement,
    TimestampOutOfRange,
    as_utc,
    check_room_id,
    format_ts,
)
from roomtemp.domain.units import (
    ABSOLUTE_ZERO,
    Unit,
    UnknownUnit,
    from_kelvin,
    parse_unit,
    to_kelvin,
)
from roomtemp.settings import Settings
from roomtemp.shared_commits import SharedCommits
from roomtemp.storage import backend_of
from roomtemp.storage.base import MeasurementStore, WriteResult

# Stores one validated measurement durably; ConflictingMeasurements as `record` says.
Recorder = Callable[[Measurement], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Limits:
    max_kelvin: float
    max_future_skew: timedelta


@dataclass(frozen=True, slots=True)
class FieldProblem:
    field: str  # "room_id", "v", "u" or "ts"
    message: str


class InvalidMeasurement(ValueError):
    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems


class InvalidBatch(ValueError):
    """Items of a batch break rules; `problems` pairs each with its index. Nothing is stored."""

    def __init__(self, problems: list[tuple[int, FieldProblem]]) -> None:
        super().__init__(f"{len({index for index, _ in problems})} items are invalid")
        self.problems = problems


class ConflictingBatch(Exception):
    """Items of a batch name a room and ts already stored, or repeated, with another value."""

    def __init__(self, indices: list[int]) -> None:
        super().__init__(f"{len(indices)} items conflict with stored measurements")
        self.indices = indices


class Posted(Protocol):
    """A measurement as it arrives: any object with these attributes (wire models are)."""

    @property
    def room_id(self) -> str: ...
    @property
    def v(self) -> float: ...
    @property
    def u(self) -> str: ...
    @property
    def ts(self) -> datetime | None: ...


def validate(
    room_id: str,
    value: float,
    unit_text: str,
    ts: datetime | None,
    *,
    now: datetime,
    limits: Limits,
) -> Measurement:
    """The measurement to store, in kelvin and UTC; InvalidMeasurement lists every rule broken."""
    problems = []
    try:
        check_room_id(room_id)
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
        utc = now if ts is None else as_utc(ts)
    except TimestampOutOfRange as error:
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
    if problems:
        raise InvalidMeasurement(problems)
    return Measurement(room_id, utc, kelvin)


def validate_batch(items: Sequence[Posted], *, now: datetime, limits: Limits) -> list[Measurement]:
    """Every item validated; InvalidBatch names every item that breaks a rule."""
    measurements: list[Measurement] = []
    problems: list[tuple[int, FieldProblem]] = []
    for index, item in enumerate(items):
        try:
            measurements.append(
                validate(item.room_id, item.v, item.u, item.ts, now=now, limits=limits)
            )
        except InvalidMeasurement as error:
            problems.extend((index, problem) for problem in error.problems)
    if problems:
        raise InvalidBatch(problems)
    return measurements


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


async def record_batch(store: MeasurementStore, batch: Sequence[Measurement]) -> WriteResult:
    """Store a validated batch all or nothing, in one transaction. Items already stored, or
    repeated within the batch, with the same value count as duplicates; ConflictingBatch
    names the items that conflict."""
    try:
        return await store.add(batch)
    except ConflictingMeasurements as error:
        raise ConflictingBatch(error.indices) from None
