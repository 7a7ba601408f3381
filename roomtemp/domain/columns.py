"""A batch as columns: one array per field instead of one object per measurement.

Every protocol's batch path (JSON arrays, NDJSON, line protocol) hands its items over as
`Readings`; ingestion validates them as a whole into `Columns`; a store puts them in (room key,
ts) order with `in_key_order` (the one order in which every writer takes its row locks) and
sums their rollup deltas with `column_deltas`. Item by item in Python this cost ~2 us a
measurement; as array arithmetic it is a few hundredths of that (bench/README.md).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from roomtemp.domain.measurements import SAME_VALUE_TOLERANCE, Measurement
from roomtemp.domain.rollups import EPOCH, MICROSECOND
from roomtemp.domain.units import Unit

Int32s: TypeAlias = npt.NDArray[np.int32]
Int64s: TypeAlias = npt.NDArray[np.int64]
Floats: TypeAlias = npt.NDArray[np.float64]
Units: TypeAlias = npt.NDArray[np.uint8]
Arrays: TypeAlias = npt.NDArray[Any]

UNIT_ORDER = tuple(Unit)  # Readings.units holds indices into this
# Keyed by plain str: a decoded "C" looked up among StrEnum keys compares through the enum
# (up to 0.85 us an item, measured; 0.05 us with str keys).
UNIT_CODES = {
    text: UNIT_ORDER.index(unit) for unit in Unit for text in (unit.value, unit.value.lower())
}
HOUR_MICROS = 3_600_000_000
QUARTER_MICROS = 900_000_000
QUARTERS_PER_HOUR = 4
DAY_HOURS = 24


def to_micros(ts: datetime) -> int:
    """Microseconds since the Unix epoch, exactly; a naive ts means UTC."""
    aware = ts if ts.tzinfo is not None else ts.replace(tzinfo=EPOCH.tzinfo)
    return (aware - EPOCH) // MICROSECOND


def from_micros(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


def coded(room_ids: Sequence[str]) -> tuple[list[str], Int32s]:
    """Each room id once, in the order first named, and each item's index into that list."""
    codes: dict[str, int] = {}
    rooms = [codes.setdefault(room_id, len(codes)) for room_id in room_ids]
    return list(codes), np.array(rooms, np.int32)


@dataclass(frozen=True, slots=True)
class Readings:
    """Measurements as a protocol read them, not yet validated: item i is in the room
    room_ids[rooms[i]], values[i] in the unit units[i] (the index of a Unit in UNIT_ORDER) at
    micros[i] (UTC). Each room id is listed once a part, not once an item: a batch names few."""

    room_ids: list[str]
    rooms: Int32s
    values: Floats
    units: Units
    micros: Int64s

    def __len__(self) -> int:
        return len(self.rooms)

    @classmethod
    def of(
        cls, room_ids: Sequence[str], values: Floats, units: Units, micros: Int64s
    ) -> "Readings":
        """Readings of items that each name their room."""
        return cls(*coded(room_ids), values, units, micros)

    @classmethod
    def joined(cls, parts: Sequence["Readings"]) -> "Readings":
        offsets = np.cumsum([0, *(len(part.room_ids) for part in parts)])[:-1].tolist()
        return cls(
            [room_id for part in parts for room_id in part.room_ids],
            np.concatenate(
                [np.empty(0, np.int32)]
                + [part.rooms + offset for part, offset in zip(parts, offsets, strict=True)]
            ).astype(np.int32),
            np.concatenate([np.empty(0, np.float64), *(part.values for part in parts)]),
            np.concatenate([np.empty(0, np.uint8), *(part.units for part in parts)]),
            np.concatenate([np.empty(0, np.int64), *(part.micros for part in parts)]),
        )


@dataclass(frozen=True, slots=True)
class Columns:
    """Validated measurements, in the order posted: item i is in room names[rooms[i]], at
    micros[i] (UTC), kelvin[i]."""

    names: list[str]  # each room once
    rooms: Int32s
    micros: Int64s
    kelvin: Floats

    def __len__(self) -> int:
        return len(self.rooms)

    @classmethod
    def of_valid(cls, names: list[str], rooms: Int64s, micros: Int64s, kelvin: Floats) -> "Columns":
        """Columns of the rooms that items name, of `names` (those named by no item left out:
        storing them would make empty rooms)."""
        named = np.bincount(rooms, minlength=len(names)) > 0
        if named.all():
            return cls(names, rooms.astype(np.int32), micros, kelvin)
        codes = (np.cumsum(named) - 1).astype(np.int32)
        kept = [name for name, used in zip(names, named.tolist(), strict=True) if used]
        return cls(kept, codes[rooms], micros, kelvin)

    @classmethod
    def of(cls, measurements: Sequence[Measurement]) -> "Columns":
        return cls(
            *coded([m.room_id for m in measurements]),
            np.array([to_micros(m.ts) for m in measurements], np.int64),
            np.array([m.kelvin for m in measurements], np.float64),
        )

    def measurements(self) -> list[Measurement]:
        return [
            Measurement(self.names[room], from_micros(micros), kelvin)
            for room, micros, kelvin in zip(
                self.rooms.tolist(), self.micros.tolist(), self.kelvin.tolist(), strict=True
            )
        ]


@dataclass(frozen=True, slots=True)
class Keyed:
    """A batch sorted by (room key, ts), ties in the order posted: `index` is each row's
    position as posted. `first` marks the first row of each (room, ts); a later row of the same
    key is a duplicate if its value is the same, else `conflicting`."""

    index: Int32s
    room: Int32s
    micros: Int64s
    kelvin: Floats
    first: npt.NDArray[np.bool_]
    conflicting: npt.NDArray[np.bool_]


def in_key_order(columns: Columns, keys: list[int]) -> Keyed:
    """`columns` with each room's database key (keys[code]), in (room key, ts) order."""
    room = np.array(keys, np.int32)[columns.rooms]
    order = np.lexsort((columns.micros, room)).astype(np.int32)  # stable: ties as posted
    room, micros, kelvin = room[order], columns.micros[order], columns.kelvin[order]
    first = np.ones(len(order), np.bool_)
    first[1:] = (room[1:] != room[:-1]) | (micros[1:] != micros[:-1])
    # Each row's key first given: the row it must equal.
    given_first = np.maximum.accumulate(np.where(first, np.arange(len(order)), 0))
    conflicting = np.abs(kelvin - kelvin[given_first]) > SAME_VALUE_TOLERANCE
    return Keyed(order, room, micros, kelvin, first, conflicting)


@dataclass(frozen=True, slots=True)
class ColumnDeltas:
    """What rows add to rollup buckets, one bucket a row: see domain/rollups.py. Widths in
    seconds (0: the room's total), times in microseconds since the epoch."""

    room: Int32s
    width: Int32s
    start: Int64s
    count: Int64s
    total: Floats
    minimum: Floats
    maximum: Floats
    first_ts: Int64s
    last_ts: Int64s
    last_kelvin: Floats

    def rows(self) -> list[tuple[int, int, int, int, float, float, float, int, int, float]]:
        return list(zip(*(column.tolist() for column in self.columns()), strict=True))

    def columns(self, room: Arrays | None = None) -> list[Arrays]:
        """The columns in the rollups table's order; `room` in place of the room's column."""
        return [
            self.room if room is None else room,
            self.width,
            self.start,
            self.count,
            self.total,
            self.minimum,
            self.maximum,
            self.first_ts,
            self.last_ts,
            self.last_kelvin,
        ]


def column_deltas(room: Int32s, micros: Int64s, kelvin: Floats) -> ColumnDeltas:
    """The quarter-hour, hour, day and total deltas of rows sorted by (room, ts), each key
    once (at least one row). Sums are added in ts order, like rollups.deltas()."""
    quarter = micros // QUARTER_MICROS  # floors, like floor_to(), before 1970 too
    ones = np.ones(len(room), np.int64)
    quarters = _summed(room, quarter, ones, kelvin, kelvin, kelvin, micros, micros, kelvin)
    hours = _coarser(quarters, quarters.start // QUARTERS_PER_HOUR)
    days = _coarser(hours, hours.start // DAY_HOURS)
    totals = _coarser(days, np.zeros(len(days.room), np.int64))
    levels = (
        (quarters, 900, QUARTER_MICROS),
        (hours, 3600, HOUR_MICROS),
        (days, 86400, HOUR_MICROS * DAY_HOURS),
        (totals, 0, 0),
    )
    return ColumnDeltas(
        np.concatenate([level.room for level, _, _ in levels]),
        np.concatenate([np.full(len(level.room), width, np.int32) for level, width, _ in levels]),
        np.concatenate([level.start * scale for level, _, scale in levels]),
        *(np.concatenate([getattr(level, name) for level, _, _ in levels]) for name in _SUMMED),
    )


_SUMMED = ("count", "total", "minimum", "maximum", "first_ts", "last_ts", "last_kelvin")


@dataclass(frozen=True, slots=True)
class _Level:
    room: Int32s
    start: Int64s  # in units of the level's width
    count: Int64s
    total: Floats
    minimum: Floats
    maximum: Floats
    first_ts: Int64s
    last_ts: Int64s
    last_kelvin: Floats


def _coarser(level: _Level, bucket: Int64s) -> _Level:
    return _summed(
        level.room,
        bucket,
        level.count,
        level.total,
        level.minimum,
        level.maximum,
        level.first_ts,
        level.last_ts,
        level.last_kelvin,
    )


def _summed(
    room: Int32s,
    bucket: Int64s,
    count: Int64s,
    total: Floats,
    minimum: Floats,
    maximum: Floats,
    first_ts: Int64s,
    last_ts: Int64s,
    last_kelvin: Floats,
) -> _Level:
    """Rows (or finer buckets) sorted by (room, time) summed per (room, bucket)."""
    starts = np.flatnonzero(
        np.concatenate(([True], (room[1:] != room[:-1]) | (bucket[1:] != bucket[:-1])))
    )
    ends = np.append(starts[1:], len(room)) - 1
    return _Level(
        room[starts],
        bucket[starts],
        np.add.reduceat(count, starts),
        np.add.reduceat(total, starts),
        np.minimum.reduceat(minimum, starts),
        np.maximum.reduceat(maximum, starts),
        first_ts[starts],
        last_ts[ends],
        last_kelvin[ends],
    )
