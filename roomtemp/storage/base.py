"""The storage seam: what the service needs from a database, in its own terms."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from roomtemp.domain.measurements import Measurement, WindowStats


class StorageUnavailable(Exception):
    """The database cannot be reached, or did not answer in time: worth retrying later."""


class SchemaOutOfDate(Exception):
    """The database schema is behind this version of roomtemp: run `roomtemp migrate`."""

    def __init__(self, pending: list[str]) -> None:
        super().__init__(
            f"the database schema is behind this roomtemp (pending migrations: "
            f"{', '.join(pending)}): run `roomtemp migrate`, or `roomtemp serve --migrate`"
        )
        self.pending = pending


@dataclass(frozen=True, slots=True)
class WriteResult:
    stored: int
    duplicates: int


class MeasurementStore(Protocol):
    async def add(self, measurements: Sequence[Measurement]) -> WriteResult:
        """Store all in one durable transaction, or none. One whose room and ts are already
        stored, or repeated in `measurements`, with the same value is a duplicate and stored
        as nothing; with another value, ConflictingMeasurements names its index."""

    async def add_each(self, measurements: Sequence[Measurement]) -> list[int]:
        """Store each one that does not conflict, all in one durable transaction; the indices
        of those that conflict (their room and ts hold, or are given, another value)."""

    async def window_stats(
        self, room_id: str, since: datetime, until: datetime
    ) -> WindowStats | None:
        """The room's measurements with since <= ts <= until; None when there are none."""

    async def has_room(self, room_id: str) -> bool:
        """Whether the room has ever had a measurement stored."""

    async def check(self) -> None:
        """Return when the database answers; raise StorageUnavailable otherwise."""

    async def close(self) -> None:
        """Release connections and threads; the store is unusable afterwards."""
