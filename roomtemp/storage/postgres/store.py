"""PostgresStore: the production backend, through one asyncpg pool per server process."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from roomtemp.domain.access import (
    AccessToken,
    TokenNameTaken,
    format_scopes,
    parse_scopes,
)
from roomtemp.domain.columns import Columns, Keyed, column_deltas, from_micros, in_key_order
from roomtemp.domain.measurements import ConflictingMeasurements, Measurement
from roomtemp.domain.rollups import Piece, Summary
from roomtemp.storage.base import Room, SchemaOutOfDate, WriteResult
from roomtemp.storage.postgres import migrations as postgres_migrations
from roomtemp.storage.postgres import statements as sql
from roomtemp.storage.postgres.binary_copy import binary_copy
from roomtemp.storage.postgres.connection import (
    Connection,
    keep_session,
    unavailable_as_storage_errors,
)

# Small writes (shared commits of single measurements) go in as arrays, in one statement;
# large batches as columns by binary COPY, straight into measurements if none is stored yet,
# otherwise into a staging table, then one INSERT from it.
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
        if len(measurements) >= COPY_FROM:
            return await self.add_columns(Columns.of(measurements))
        async with unavailable_as_storage_errors(), self._pool.acquire() as connection:
            async with connection.transaction():
                rooms, stored, conflicts = await self._write(connection, measurements)
                if conflicts:
                    raise ConflictingMeasurements(conflicts)  # rolls the transaction back
            self._room_keys.update(rooms)  # committed: safe to remember
        return WriteResult(stored=stored, duplicates=len(measurements) - stored)

    async def add_columns(self, columns: Columns) -> WriteResult:
        if len(columns) < COPY_FROM:  # one statement (below) costs less than COPY's round trips
            return await self.add(columns.measurements())
        async with unavailable_as_storage_errors(), self._pool.acquire() as connection:
            async with connection.transaction():
                rooms = await self._resolve_rooms(connection, set(columns.names))
                rows = in_key_order(columns, [rooms[name] for name in columns.names])
                stored = await self._copied(connection, rows)
                if stored is None:
                    stored, conflicts = await self._staged(connection, rows)
                    if conflicts:
                        raise ConflictingMeasurements(conflicts)  # rolls the transaction back
            self._room_keys.update(rooms)  # committed: safe to remember
        return WriteResult(stored=stored, duplicates=len(columns) - stored)

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
        if len(measurements) >= COPY_FROM:
            columns = Columns.of(measurements)
            rows = in_key_order(columns, [rooms[name] for name in columns.names])
            return (rooms, *await self._staged(connection, rows))
        arrays = (
            [rooms[m.room_id] for m in measurements],
            [m.ts for m in measurements],
            [m.kelvin for m in measurements],
        )
        stored: int = await connection.fetchval(sql.INSERT_ARRAYS, *arrays)
        if stored == len(measurements):
            return rooms, stored, []
        conflicts = await connection.fetch(sql.CONFLICTS_ARRAYS, *arrays)
        return rooms, stored, sorted(row[0] for row in conflicts)

    @staticmethod
    async def _copied(connection: Connection, rows: Keyed) -> int | None:
        """How many rows a binary COPY straight into measurements stored, with their rollups
        summed up here, if every key was new (as in most batches: 0.83 of a bare COPY, against
        0.55 through a staging table, measured); None, and the COPY undone, if not: the staging
        table then says which rows are duplicates and which conflict."""
        if rows.conflicting.any():
            return None
        new = rows.first  # a key repeated with the same value goes in once
        room, micros, kelvin = rows.room[new], rows.micros[new], rows.kelvin[new]
        try:
            async with connection.transaction():  # a savepoint, so that failing undoes only this
                await connection.copy_to_table(
                    "measurements",
                    source=binary_copy(room, micros, kelvin),  # type: ignore[arg-type]
                    columns=("room", "ts", "kelvin"),
                    format="binary",
                )
        except (asyncpg.UniqueViolationError, asyncpg.DeadlockDetectedError):
            return None
        if len(room):
            deltas = column_deltas(room, micros, kelvin)
            times = [[from_micros(ts) for ts in column.tolist()] for column in
                     (deltas.start, deltas.first_ts, deltas.last_ts)]  # fmt: skip
            await connection.execute(
                sql.MERGE_DELTAS,
                deltas.room.tolist(),
                deltas.width.tolist(),
                times[0],
                deltas.count.tolist(),
                deltas.total.tolist(),
                deltas.minimum.tolist(),
                deltas.maximum.tolist(),
                times[1],
                times[2],
                deltas.last_kelvin.tolist(),
            )
        return len(room)

    @staticmethod
    async def _staged(connection: Connection, rows: Keyed) -> tuple[int, list[int]]:
        """Every row through the staging table, in (room, ts) order: (how many stored, the
        indices that conflict)."""
        await connection.execute(sql.STAGING)
        await connection.copy_to_table(
            "staging",
            # Any buffer will do (asyncpg documents it), though its stubs name only files.
            source=binary_copy(rows.index, rows.room, rows.micros, rows.kelvin),  # type: ignore[arg-type]
            format="binary",
        )
        stored: int = await connection.fetchval(sql.INSERT_STAGED)
        if stored == len(rows.index):
            return stored, []
        return stored, sorted(row[0] for row in await connection.fetch(sql.CONFLICTS_STAGED))

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
