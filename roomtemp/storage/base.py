"""The storage seam: what the service needs from a database, in its own terms."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from roomtemp.domain.access import AccessToken
from roomtemp.domain.columns import Columns
from roomtemp.domain.measurements import Measurement
from roomtemp.domain.rollups import Piece, Summary


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


@dataclass(frozen=True, slots=True)
class Room:
    room_id: str
    summary: Summary  # of every measurement it ever had
    last_kelvin: float  # the value at summary.last_ts


class TokenStore(Protocol):
    """The access tokens a server accepts, kept beside the data they guard."""

    async def add_token(self, token: AccessToken) -> None:
        """Store a new token; TokenNameTaken if another one has its name."""

    async def tokens(self) -> list[AccessToken]:
        """Every token not revoked, oldest first."""

    async def revoke_token(self, name: str) -> bool:
        """Forget the token of that name; whether there was one."""


class MeasurementStore(TokenStore, Protocol):
    """Every write also updates the rollups (see domain/rollups.py) in the same transaction."""

    async def add(self, measurements: Sequence[Measurement]) -> WriteResult:
        """Store all in one durable transaction, or none. One whose room and ts are already
        stored, or repeated in `measurements`, with the same value is a duplicate and stored
        as nothing; with another value, ConflictingMeasurements names its index."""

    async def add_columns(self, columns: Columns) -> WriteResult:
        """add(), for a batch given as columns: the path of large batches."""

    async def add_each(self, measurements: Sequence[Measurement]) -> list[int]:
        """Store each one that does not conflict, all in one durable transaction; the indices
        of those that conflict (their room and ts hold, or are given, another value)."""

    async def summarise(self, room_id: str, pieces: Sequence[Piece]) -> list[Summary | None]:
        """For each piece, the room's measurements in it summarised (None where there are
        none), all in one round trip."""

    async def buckets(
        self, room_id: str, width: timedelta, start: datetime, end: datetime
    ) -> list[tuple[datetime, Summary]]:
        """The room's non-empty rollup buckets of `width` starting in [start, end), in order."""

    async def raw(
        self, room_id: str, start: datetime, end: datetime, limit: int
    ) -> list[tuple[datetime, float]]:
        """The room's first `limit` measurements (ts, kelvin) with start <= ts < end, in order."""

    async def rooms(self, after: str | None = None, limit: int | None = None) -> list[Room]:
        """The rooms that ever had a measurement, by room_id in code point order: those after
        `after`, at most `limit` of them."""

    async def summarise_rooms(
        self, room_ids: Sequence[str], pieces: Sequence[Piece]
    ) -> dict[str, Summary]:
        """Each room's measurements in all the pieces summarised, for the rooms that have
        any, in one round trip."""

    async def has_room(self, room_id: str) -> bool:
        """Whether the room has ever had a measurement stored."""

    async def delete_raw_before(self, cutoff: datetime) -> int:
        """Delete raw measurements with ts < cutoff, keeping the rollups; how many went."""

    async def check(self) -> None:
        """Return when the database answers; raise StorageUnavailable otherwise."""

    async def close(self) -> None:
        """Release connections and threads; the store is unusable afterwards."""
