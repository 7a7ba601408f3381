"""InMemoryStore: the whole contract in a few dicts, for fast tests. Keeps nothing on restart."""

from bisect import bisect_left, bisect_right, insort
from collections.abc import Sequence
from datetime import datetime
from math import fsum

from roomtemp.domain.measurements import (
    ConflictingMeasurements,
    Measurement,
    WindowStats,
    same_value,
)
from roomtemp.storage.base import WriteResult


class _Room:
    __slots__ = ("timestamps", "values")

    def __init__(self) -> None:
        self.timestamps: list[datetime] = []  # ascending
        self.values: dict[datetime, float] = {}


class InMemoryStore:
    def __init__(self) -> None:
        self._rooms: dict[str, _Room] = {}

    # No await happens in the methods below: each is one atomic step.

    async def add(self, measurements: Sequence[Measurement]) -> WriteResult:
        new, conflicts = self._sort_out(measurements)
        if conflicts:
            raise ConflictingMeasurements(conflicts)
        self._insert(new)
        return WriteResult(stored=len(new), duplicates=len(measurements) - len(new))

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
            stored = room.values.get(measurement.ts) if room else None
            if stored is None and key in new:  # repeated within this call
                stored = new[key].kelvin
            if stored is None:
                new[key] = measurement
            elif not same_value(stored, measurement.kelvin):
                conflicts.append(index)
        return list(new.values()), conflicts

    def _insert(self, new: list[Measurement]) -> None:
        for measurement in new:
            room = self._rooms.setdefault(measurement.room_id, _Room())
            room.values[measurement.ts] = measurement.kelvin
            insort(room.timestamps, measurement.ts)

    async def window_stats(
        self, room_id: str, since: datetime, until: datetime
    ) -> WindowStats | None:
        room = self._rooms.get(room_id)
        if room is None:
            return None
        timestamps = room.timestamps
        window = timestamps[bisect_left(timestamps, since) : bisect_right(timestamps, until)]
        if not window:
            return None
        values = [room.values[ts] for ts in window]
        return WindowStats(
            count=len(values),
            mean=fsum(values) / len(values),
            minimum=min(values),
            maximum=max(values),
            first_ts=window[0],
        )

    async def has_room(self, room_id: str) -> bool:
        return room_id in self._rooms

    async def check(self) -> None:
        return None

    async def close(self) -> None:
        self._rooms.clear()
