"""The write path: validate, normalise to kelvin and UTC, store. The rules live here."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from roomtemp.domain.measurements import (
    InvalidRoomId,
    Measurement,
    TimestampOutOfRange,
    as_utc,
    check_room_id,
    format_ts,
)
from roomtemp.domain.units import ABSOLUTE_ZERO, Unit, from_kelvin, to_kelvin
from roomtemp.storage.base import MeasurementStore


@dataclass(frozen=True, slots=True)
class Limits:
    max_kelvin: float
    max_future_skew: timedelta


@dataclass(frozen=True, slots=True)
class FieldProblem:
    field: str  # "room_id", "v" or "ts"
    message: str


class InvalidMeasurement(ValueError):
    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems


def validate(
    room_id: str, value: float, unit: Unit, ts: datetime | None, *, now: datetime, limits: Limits
) -> Measurement:
    """The measurement to store, in kelvin and UTC; InvalidMeasurement lists every rule broken."""
    problems = []
    try:
        check_room_id(room_id)
    except InvalidRoomId as error:
        problems.append(FieldProblem("room_id", str(error)))
    kelvin = to_kelvin(value, unit)
    if value < ABSOLUTE_ZERO[unit]:
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
        if utc > now + limits.max_future_skew:
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


async def record(
    store: MeasurementStore,
    room_id: str,
    value: float,
    unit: Unit,
    ts: datetime | None,
    *,
    now: datetime,
    limits: Limits,
) -> Measurement:
    """Validate and store one measurement durably. Storing it again changes nothing;
    ConflictingMeasurements if the room already has another value at that ts."""
    new = validate(room_id, value, unit, ts, now=now, limits=limits)
    await store.add([new])
    return new
