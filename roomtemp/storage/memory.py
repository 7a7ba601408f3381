"""InMemoryStore: the whole contract in a few dicts and sorted lists, for fast tests. Keeps
nothing on restart; each server process has its own."""

import itertools
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from math import fsum
from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt

from roomtemp.domain.access import AccessToken, TokenNameTaken
from roomtemp.domain.columns import (
    ColumnDeltas,
    Columns,
    Int32s,
    Keyed,
    column_deltas,
    in_key_order,
)
from roomtemp.domain.measurements import ConflictingMeasurements, Measurement, same_value
from roomtemp.domain.rollups import (
    DAY,
    EPOCH,
    HOUR,
    QUARTER,
    TOTAL,
    Delta,
    Piece,
    Summary,
    floor_to,
    merge_all,
)
from roomtemp.storage.base import Room, WriteResult

V = TypeVar("V")
WIDTHS = (QUARTER, HOUR, DAY, TOTAL)
COLUMNS_FROM = 100  # as SqliteStore: fewer go in item by item


class _Series(Generic[V]):
    """Values keyed by time, with their times sorted for range queries when next read, not at
    each put: a room written newest first (as wrk's script in the bench does) moved its whole
    list of times at each insort."""

    __slots__ = ("_sorted", "_times", "values")

    def __init__(self) -> None:
        self._times: list[datetime] = []
        self._sorted = True
        self.values: dict[datetime, V] = {}

    def put(self, ts: datetime, value: V) -> None:
        if ts not in self.values:
            if self._sorted and self._times and ts < self._times[-1]:
                self._sorted = False
            self._times.append(ts)
        self.values[ts] = value

    def put_new(self, times: list[datetime], values: list[V]) -> None:
        """Put values at `times`, ascending and none of them here yet."""
        self.values.update(zip(times, values, strict=True))
        if self._sorted and self._times and times[0] < self._times[-1]:
            self._sorted = False
        self._times += times

    @property
    def times(self) -> list[datetime]:
        """All the times, ascending (sorted here: an appended run costs the sort one merge)."""
        if not self._sorted:
            self._times.sort()
            self._sorted = True
        return self._times

    def between(self, start: datetime, end: datetime) -> list[datetime]:
        """The times in [start, end)."""
        times = self.times
        return times[bisect_left(times, start) : bisect_left(times, end)]


class _Bucket:
    """A rollup bucket, changed in place. Its arithmetic is Summary.merge's and later()'s, so
    the figures are the very same floats; building a frozen Summary and Delta for each of a
    write's four buckets took 12 of the 18 us of a single write's add() (measured)."""

    __slots__ = ("count", "first_ts", "last_kelvin", "last_ts", "maximum", "minimum", "total")

    def __init__(
        self,
        count: int,
        total: float,
        minimum: float,
        maximum: float,
        first_ts: datetime,
        last_ts: datetime,
        last_kelvin: float,
    ) -> None:
        self.count, self.total, self.minimum, self.maximum = count, total, minimum, maximum
        self.first_ts, self.last_ts, self.last_kelvin = first_ts, last_ts, last_kelvin

    @classmethod
    def of(cls, delta: Delta) -> "_Bucket":
        new = delta.summary
        return cls(
            new.count,
            new.total,
            new.minimum,
            new.maximum,
            new.first_ts,
            new.last_ts,
            delta.last_kelvin,
        )

    def take(self, ts: datetime, kelvin: float) -> None:
        """One more measurement."""
        self.count += 1
        self.total += kelvin
        if kelvin < self.minimum:
            self.minimum = kelvin
        if kelvin > self.maximum:
            self.maximum = kelvin
        if ts < self.first_ts:
            self.first_ts = ts
        if ts > self.last_ts:
            self.last_ts, self.last_kelvin = ts, kelvin

    def merge(self, delta: Delta) -> None:
        """What later(self, delta) makes."""
        new = delta.summary
        self.count += new.count
        self.total += new.total
        self.minimum = min(self.minimum, new.minimum)
        self.maximum = max(self.maximum, new.maximum)
        self.first_ts = min(self.first_ts, new.first_ts)
        if new.last_ts > self.last_ts:
            self.last_ts, self.last_kelvin = new.last_ts, delta.last_kelvin

    @property
    def summary(self) -> Summary:
        return Summary(
            self.count, self.total, self.minimum, self.maximum, self.first_ts, self.last_ts
        )


class _Room:
    __slots__ = ("_quarter", "raw", "rollups")

    def __init__(self) -> None:
        self.raw: _Series[float] = _Series()  # ts -> kelvin
        # width -> bucket start -> bucket
        self.rollups: dict[timedelta, _Series[_Bucket]] = {width: _Series() for width in WIDTHS}
        # The quarter hour written last (start, end) and the four buckets a ts in it falls in:
        # a room's writes mostly come in time order, and finding the buckets (floor_to and a
        # look-up per width) was 3.5 of the 7 us of a single write's add() (measured).
        # Buckets are changed in place, never replaced, so the ones held here stay current.
        self._quarter: tuple[datetime, datetime, list[_Bucket]] | None = None

    def take(self, ts: datetime, kelvin: float) -> None:
        """A new measurement, in its raw series and its rollup buckets."""
        self.raw.put(ts, kelvin)
        quarter = self._quarter
        if quarter is not None and quarter[0] <= ts < quarter[1]:
            for bucket in quarter[2]:
                bucket.take(ts, kelvin)
            return
        held = []
        for width, buckets in self.rollups.items():
            start = floor_to(ts, width) if width else EPOCH
            known = buckets.values.get(start)
            if known is None:
                known = _Bucket(1, kelvin, kelvin, kelvin, ts, ts, kelvin)
                buckets.put(start, known)
            else:
                known.take(ts, kelvin)
            held.append(known)
        start = floor_to(ts, QUARTER)
        self._quarter = (start, start + QUARTER, held)


def _at(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


def _runs(room: Int32s) -> Iterator[tuple[int, int]]:
    """(start, end) of each room's stretch of rows sorted by room."""
    bounds = np.flatnonzero(np.diff(room, prepend=-1, append=-1)).tolist()
    return itertools.pairwise(bounds)


class InMemoryStore:
    def __init__(self) -> None:
        self._rooms: dict[str, _Room] = {}
        self._tokens: dict[str, AccessToken] = {}  # by name

    # No await happens in the methods below: each is one atomic step.

    async def add(self, measurements: Sequence[Measurement]) -> WriteResult:
        if len(measurements) == 1:  # a single write: 3.0 -> 2.4 us without the general steps
            return self._add_one(measurements[0])
        if len(measurements) >= COLUMNS_FROM:
            return await self.add_columns(Columns.of(measurements))
        new, conflicts = self._sort_out(measurements)
        if conflicts:
            raise ConflictingMeasurements(conflicts)
        self._insert(new)
        return WriteResult(stored=len(new), duplicates=len(measurements) - len(new))

    def _add_one(self, measurement: Measurement) -> WriteResult:
        room = self._rooms.get(measurement.room_id)
        if room is None:
            room = self._rooms[measurement.room_id] = _Room()
        stored = room.raw.values.get(measurement.ts)
        if stored is None:
            room.take(measurement.ts, measurement.kelvin)
            return WriteResult(stored=1, duplicates=0)
        if same_value(stored, measurement.kelvin):
            return WriteResult(stored=0, duplicates=1)
        raise ConflictingMeasurements([0])

    async def add_columns(self, columns: Columns) -> WriteResult:
        """As add(), a room's rows at a time: a Measurement, a look-up and an insort for each
        item cost 5.3 us an item (py-spy, 5,000-item batches); this ~1.3 us."""
        rows = in_key_order(columns, list(range(len(columns.names))))
        times = [EPOCH + timedelta(microseconds=micros) for micros in rows.micros.tolist()]
        new = self._new_rows(columns.names, rows, times)
        kept = np.flatnonzero(new)
        room, kelvin = rows.room[kept], rows.kelvin[kept]
        kept_times, kept_kelvin = [times[index] for index in kept.tolist()], kelvin.tolist()
        for start, end in _runs(room):
            self._rooms.setdefault(columns.names[room[start]], _Room()).raw.put_new(
                kept_times[start:end], kept_kelvin[start:end]
            )
        if len(kept):
            self._merge_rollups(columns.names, column_deltas(room, rows.micros[kept], kelvin))
        return WriteResult(stored=len(kept), duplicates=len(columns) - len(kept))

    def _new_rows(
        self, names: list[str], rows: Keyed, times: list[datetime]
    ) -> npt.NDArray[np.bool_]:
        """Which rows to store (a key's first, unless stored already); ConflictingMeasurements
        with the positions as posted of those whose value differs from their key's, stored
        or first given."""
        new = np.zeros(len(times), np.bool_)
        conflicts: list[int] = []
        for start, end in _runs(rows.room):
            room = self._rooms.get(names[rows.room[start]])
            stored = room.raw.values if room else {}
            for index, ts, kelvin, first, conflicting in zip(
                range(start, end),
                times[start:end],
                rows.kelvin[start:end].tolist(),
                rows.first[start:end].tolist(),
                rows.conflicting[start:end].tolist(),
                strict=True,
            ):
                known = stored.get(ts)
                if known is None:
                    new[index] = first
                    conflicting = conflicting and not first
                else:
                    conflicting = not same_value(known, kelvin)
                if conflicting:
                    conflicts.append(int(rows.index[index]))
        if conflicts:
            raise ConflictingMeasurements(sorted(conflicts))
        return new

    def _merge_rollups(self, names: list[str], deltas: ColumnDeltas) -> None:
        for room, width, start, count, total, low, high, first, last, last_kelvin in deltas.rows():
            summary = Summary(count, total, low, high, _at(first), _at(last))
            delta = Delta(summary, last_kelvin)
            buckets = self._rooms[names[room]].rollups[timedelta(seconds=width)]
            known = buckets.values.get(_at(start))
            if known is None:
                buckets.put(_at(start), _Bucket.of(delta))
            else:
                known.merge(delta)

    async def add_each(self, measurements: Sequence[Measurement]) -> list[int]:
        new, conflicts = self._sort_out(measurements)
        self._insert(new)
        return conflicts

    def _sort_out(self, measurements: Sequence[Measurement]) -> tuple[list[Measurement], list[int]]:
        """(the new measurements, the indices of those conflicting with stored ones)"""
        new: dict[tuple[str, datetime], Measurement] = {}
        conflicts = []
        for index, measurement in enumerate(measurements):
            key = (measurement.room_id, measurement.ts)
            room = self._rooms.get(measurement.room_id)
            stored = room.raw.values.get(measurement.ts) if room else None
            if stored is None and key in new:  # repeated within this call
                stored = new[key].kelvin
            if stored is None:
                new[key] = measurement
            elif not same_value(stored, measurement.kelvin):
                conflicts.append(index)
        return list(new.values()), conflicts

    def _insert(self, new: list[Measurement]) -> None:
        for measurement in new:
            room = self._rooms.get(measurement.room_id)
            if room is None:
                room = self._rooms[measurement.room_id] = _Room()
            room.take(measurement.ts, measurement.kelvin)

    async def summarise(self, room_id: str, pieces: Sequence[Piece]) -> list[Summary | None]:
        room = self._rooms.get(room_id)
        return [self._summary(room, piece) if room else None for piece in pieces]

    @staticmethod
    def _summary(room: _Room, piece: Piece) -> Summary | None:
        if piece.width is None:
            times = room.raw.between(piece.start, piece.end)
            if not times:
                return None
            values = [room.raw.values[ts] for ts in times]
            return Summary(len(values), fsum(values), min(values), max(values), times[0], times[-1])
        buckets = room.rollups.get(piece.width)
        if buckets is None:
            return None
        merged = None
        for start in buckets.between(piece.start, piece.end):
            summary = buckets.values[start].summary
            merged = summary if merged is None else merged.merge(summary)
        return merged

    async def buckets(
        self, room_id: str, width: timedelta, start: datetime, end: datetime
    ) -> list[tuple[datetime, Summary]]:
        room = self._rooms.get(room_id)
        series = room.rollups.get(width) if room else None
        if series is None:
            return []
        return [(ts, series.values[ts].summary) for ts in series.between(start, end)]

    async def raw(
        self, room_id: str, start: datetime, end: datetime, limit: int
    ) -> list[tuple[datetime, float]]:
        room = self._rooms.get(room_id)
        if room is None:
            return []
        return [(ts, room.raw.values[ts]) for ts in room.raw.between(start, end)[:limit]]

    async def rooms(self, after: str | None = None, limit: int | None = None) -> list[Room]:
        names = sorted(name for name in self._rooms if after is None or name > after)
        found = []
        for room_id in names[:limit]:
            total = next(iter(self._rooms[room_id].rollups[TOTAL].values.values()))
            found.append(Room(room_id, total.summary, total.last_kelvin))
        return found

    async def summarise_rooms(
        self, room_ids: Sequence[str], pieces: Sequence[Piece]
    ) -> dict[str, Summary]:
        found = {room_id: merge_all(await self.summarise(room_id, pieces)) for room_id in room_ids}
        return {room_id: summary for room_id, summary in found.items() if summary is not None}

    async def has_room(self, room_id: str) -> bool:
        return room_id in self._rooms

    async def delete_raw_before(self, cutoff: datetime) -> int:
        deleted = 0
        for room in self._rooms.values():
            gone = room.raw.between(room.raw.times[0], cutoff) if room.raw.times else []
            for ts in gone:
                del room.raw.values[ts]
            del room.raw.times[: len(gone)]
            deleted += len(gone)
        return deleted

    async def add_token(self, token: AccessToken) -> None:
        if token.name in self._tokens:
            raise TokenNameTaken(token.name)
        self._tokens[token.name] = token

    async def tokens(self) -> list[AccessToken]:
        return sorted(self._tokens.values(), key=lambda token: (token.created, token.name))

    async def revoke_token(self, name: str) -> bool:
        return self._tokens.pop(name, None) is not None

    async def check(self) -> None:
        return None

    async def close(self) -> None:
        self._rooms.clear()
        self._tokens.clear()
