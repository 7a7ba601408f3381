"""PostgresStore: the production backend, through one asyncpg pool per server process."""

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from roomtemp.domain.access import (
    AccessToken,
    TokenNameTaken,
    format_scopes,
    parse_scopes,
)
from roomtemp.domain.measurements import ConflictingMeasurements, Measurement
from roomtemp.domain.rollups import Piece, Summary, deltas
from roomtemp.storage.base import Room, SchemaOutOfDate, WriteResult
from roomtemp.storage.postgres import migrations as postgres_migrations
from roomtemp.storage.postgres import statements as sql
from roomtemp.storage.postgres.connection import (
    Connection,
    keep_session,
    unavailable_as_storage_errors,
)

# Small writes (shared commits of single measurements) go in as arrays, in one statement;
# large batches by binary COPY, straight into measurements if none is stored yet, otherwise
# into a staging table, then one INSERT from it.
COPY_FROM = 1000  # items


def _summary(row: Sequence[Any]) -> Summary | None:
    count, total, minimum, maximum, first, last = row
    return Summary(count, total, minimum, maximum, first, last) if count else None


class PostgresStore:
    def __init__(self, pool: "asyncpg.Pool[asyncpg.Record]") -> None:
        self._pool = pool
        self._room_keys: dict[str, int] = {}  # rooms are never renamed nor deleted

    @classmethod
    async def open(cls, url: str, *, pool_size: int, db_timeout: float) -> "PostgresStore":
        """Open a pool to `url`, refusing a database whose schema is behind (SchemaOutOfDate)."""
        async with unavailable_as_storage_errors():
            pool = await asyncpg.create_pool(
                url,
                min_size=1,
                max_size=pool_size,
                timeout=db_timeout,
                command_timeout=db_timeout,
                reset=keep_session,
            )
        store = cls(pool)
        async with unavailable_as_storage_errors(), pool.acquire() as connection:
            behind = await postgres_migrations.missing(connection)
        if behind:
            await store.close()
            raise SchemaOutOfDate(behind)
        return store

    async def add(self, measurements: Sequence[Measurement]) -> WriteResult:
        async with unavailable_as_storage_errors(), self._pool.acquire() as connection:
            async with connection.transaction():
                rooms, stored, conflicts = await self._write(connection, measurements)
                if conflicts:
                    raise ConflictingMeasurements(conflicts)  # rolls the transaction back
            self._room_keys.update(rooms)  # committed: safe to remember
        return WriteResult(stored=stored, duplicates=len(measurements) - stored)

    async def add_each(self, measurements: Sequence[Measurement]) -> list[int]:
        rooms = [self._room_keys.get(m.room_id) for m in measurements]
        async with unavailable_as_storage_errors(), self._pool.acquire() as connection:
            if None in rooms or len(measurements) >= COPY_FROM:
                async with connection.transaction():
                    known, _, conflicts = await self._write(connection, measurements)
                self._room_keys.update(known)
                return conflicts
            # Rooms all known: measurements and rollups are written by one statement, so in
            # its own transaction, in one round trip instead of three (BEGIN, INSERT, COMMIT).
            # Conflicts are looked for afterwards: what conflicts was committed before.
            columns = ([*rooms], [m.ts for m in measurements], [m.kelvin for m in measurements])
            if await connection.fetchval(sql.INSERT_ARRAYS, *columns) == len(measurements):
                return []
            return sorted(row[0] for row in await connection.fetch(sql.CONFLICTS_ARRAYS, *columns))

    async def _write(
        self, connection: Connection, measurements: Sequence[Measurement]
    ) -> tuple[dict[str, int], int, list[int]]:
        """Insert what is new, and its rollups: (the rooms' ids, how many stored, the indices
        that conflict)."""
        rooms = await self._resolve_rooms(connection, {m.room_id for m in measurements})
        if len(measurements) < COPY_FROM:
            columns = (
                [rooms[m.room_id] for m in measurements],
                [m.ts for m in measurements],
                [m.kelvin for m in measurements],
            )
            stored: int = await connection.fetchval(sql.INSERT_ARRAYS, *columns)
            if stored == len(measurements):
                return rooms, stored, []
            conflicts = await connection.fetch(sql.CONFLICTS_ARRAYS, *columns)
        else:
            if await self._copied(connection, rooms, measurements):
                return rooms, len(measurements), []
            await connection.execute(sql.STAGING)
            await connection.copy_records_to_table(
                "staging",
                records=[(i, rooms[m.room_id], m.ts, m.kelvin) for i, m in enumerate(measurements)],
            )
            stored = await connection.fetchval(sql.INSERT_STAGED)
            if stored == len(measurements):
                return rooms, stored, []
            conflicts = await connection.fetch(sql.CONFLICTS_STAGED)
        return rooms, stored, sorted(row[0] for row in conflicts)

    @staticmethod
    async def _copied(
        connection: Connection, rooms: dict[str, int], measurements: Sequence[Measurement]
    ) -> bool:
        """Whether a binary COPY straight into measurements took the batch (with its rollups,
        summed up here). Most batches are new data, and then this costs what a bare COPY does
        (0.83 of it against 0.55 through a staging table, measured); when a row is stored
        already, or being stored by another writer (which may also deadlock, rows being in
        batch order here), the COPY is undone and the caller sorts the batch out."""

        def records() -> Iterator[tuple[int, datetime, float]]:
            # Made as they are sent, twice, rather than kept: 100,000 tuples are ~10 MB.
            return ((rooms[m.room_id], m.ts, m.kelvin) for m in measurements)

        try:
            async with connection.transaction():  # a savepoint, so that failing undoes only this
                await connection.copy_records_to_table(
                    "measurements", records=records(), columns=("room", "ts", "kelvin")
                )
        except (asyncpg.UniqueViolationError, asyncpg.DeadlockDetectedError):
            return False
        merged = [
            (
                room,
                width // timedelta(seconds=1),
                start,
                *_columns(delta.summary),
                delta.last_kelvin,
            )
            for (room, width, start), delta in deltas(records()).items()
        ]
        await connection.execute(sql.MERGE_DELTAS, *map(list, zip(*merged, strict=True)))
        return True

    async def _resolve_rooms(self, connection: Connection, names: set[str]) -> dict[str, int]:
        """The ids of the rooms named, inserting those that are new."""
        keys = {name: self._room_keys[name] for name in names if name in self._room_keys}
        # A room another writer inserts at the same moment is invisible to this statement's
        # snapshot once its insert has waited for that writer: the next round sees it.
        while absent := sorted(names - keys.keys()):
            rows = await connection.fetch(sql.RESOLVE_ROOMS, absent)
            keys.update({row["name"]: row["id"] for row in rows})
        return keys

    async def summarise(self, room_id: str, pieces: Sequence[Piece]) -> list[Summary | None]:
        if not pieces:
            return []
        parts: list[str] = []
        parameters: list[Any] = [room_id]
        for index, piece in enumerate(pieces):
            bounds = {"start": len(parameters) + 1, "end": len(parameters) + 2}
            parameters += [piece.start, piece.end]
            if piece.width is None:
                parts.append(sql.SUMMARY_OF_RAW.format(piece=index, **bounds))
            else:
                parameters.append(piece.width // timedelta(seconds=1))
                parts.append(
                    sql.SUMMARY_OF_BUCKETS.format(piece=index, width=len(parameters), **bounds)
                )
        async with unavailable_as_storage_errors():
            rows = await self._pool.fetch(" UNION ALL ".join(parts), *parameters)
        # UNION ALL promises no order: each row says which piece it is.
        return [_summary(row[1:]) for row in sorted(rows, key=lambda row: row[0])]

    async def buckets(
        self, room_id: str, width: timedelta, start: datetime, end: datetime
    ) -> list[tuple[datetime, Summary]]:
        async with unavailable_as_storage_errors():
            rows = await self._pool.fetch(
                sql.BUCKETS, room_id, width // timedelta(seconds=1), start, end
            )
        return [(row[0], _summary(row[1:])) for row in rows]  # type: ignore[misc]

    async def raw(
        self, room_id: str, start: datetime, end: datetime, limit: int
    ) -> list[tuple[datetime, float]]:
        async with unavailable_as_storage_errors():
            rows = await self._pool.fetch(sql.RAW, room_id, start, end, limit)
        return [(row[0], row[1]) for row in rows]

    async def raw_in(
        self, room_id: str, ranges: Sequence[tuple[datetime, datetime]]
    ) -> list[tuple[datetime, float]]:
        if not ranges:
            return []
        starts, stops = [start for start, _ in ranges], [stop for _, stop in ranges]
        async with unavailable_as_storage_errors():
            rows = await self._pool.fetch(sql.RAW_IN, room_id, starts, stops)
        return [(row[0], row[1]) for row in rows]

    async def rooms(self) -> list[Room]:
        async with unavailable_as_storage_errors():
            rows = await self._pool.fetch(sql.ROOMS)
        return [Room(row[0], _summary(row[1:7]), row[7]) for row in rows]  # type: ignore[arg-type]

    async def has_room(self, room_id: str) -> bool:
        async with unavailable_as_storage_errors():
            found = await self._pool.fetchval("SELECT 1 FROM rooms WHERE name = $1", room_id)
        return found is not None

    async def delete_raw_before(self, cutoff: datetime) -> int:
        deleted = 0
        async with unavailable_as_storage_errors(), self._pool.acquire() as connection:
            for (room,) in await connection.fetch("SELECT id FROM rooms"):
                while count := int(
                    (await connection.execute(sql.DELETE_RAW, room, cutoff)).split()[-1]
                ):
                    deleted += count
        return deleted

    async def add_token(self, token: AccessToken) -> None:
        row = (token.token_id, token.name, format_scopes(token.scopes), token.digest, token.created)
        async with unavailable_as_storage_errors():
            status = await self._pool.execute(sql.INSERT_TOKEN, *row)
        if status.endswith(" 0"):
            raise TokenNameTaken(token.name)

    async def tokens(self) -> list[AccessToken]:
        async with unavailable_as_storage_errors():
            rows = await self._pool.fetch(sql.TOKENS)
        return [
            AccessToken(row[0], row[1], parse_scopes(row[2].split()), row[3], row[4])
            for row in rows
        ]

    async def revoke_token(self, name: str) -> bool:
        async with unavailable_as_storage_errors():
            status = await self._pool.execute(sql.REVOKE_TOKEN, name)
        return not status.endswith(" 0")

    async def check(self) -> None:
        async with unavailable_as_storage_errors():
            await self._pool.fetchval("SELECT 1")

    async def close(self) -> None:
        await self._pool.close()

    def pool_use(self) -> dict[str, int]:
        """Connections of the pool by state: max allowed, open now, in_use by a caller."""
        open_now = self._pool.get_size()
        in_use = open_now - self._pool.get_idle_size()
        return {"max": self._pool.get_max_size(), "open": open_now, "in_use": in_use}


def _columns(summary: Summary) -> tuple[Any, ...]:
    return (
        summary.count,
        summary.total,
        summary.minimum,
        summary.maximum,
        summary.first_ts,
        summary.last_ts,
    )
