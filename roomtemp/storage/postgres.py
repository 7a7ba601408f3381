"""PostgresStore: the production backend, through one asyncpg pool per server process."""

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import TypeAlias

import asyncpg

from roomtemp.domain.measurements import (
    SAME_VALUE_TOLERANCE,
    ConflictingMeasurements,
    Measurement,
    WindowStats,
)
from roomtemp.storage.base import SchemaOutOfDate, StorageUnavailable, WriteResult
from roomtemp.storage.migrations import pending

# Errors that say "the database is not there right now", not "this request is wrong".
_UNAVAILABLE = (
    OSError,  # refused, reset, and TimeoutError (connect and command timeouts)
    asyncpg.InterfaceError,  # the connection closed under us
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,  # shutting down, starting up
    asyncpg.exceptions.InsufficientResourcesError,  # too many connections, disk full
)
Connection: TypeAlias = (
    "asyncpg.Connection[asyncpg.Record] | asyncpg.pool.PoolConnectionProxy[asyncpg.Record]"
)
MIGRATION_LOCK = 0x726F6F6D74656D70  # "roomtemp": one advisory lock for every migrating process

_RESOLVE_ROOMS = """
WITH names AS (SELECT unnest($1::text[]) AS name),
inserted AS (
    INSERT INTO rooms (name) SELECT name FROM names ON CONFLICT DO NOTHING RETURNING id, name
)
SELECT id, name FROM inserted
UNION ALL
SELECT rooms.id, rooms.name FROM rooms JOIN names USING (name)
"""
# Small writes (shared commits of single measurements) go in as arrays, in one statement;
# large batches by binary COPY, straight into measurements if none is stored yet, otherwise
# into a staging table, then one INSERT from it. The INSERTs take rows in (room, ts) order, so
# that concurrent writers lock rows in one order and cannot deadlock, and conflicts are looked
# for after the insert, so that rows another writer committed meanwhile are seen too.
COPY_FROM = 1000  # items; measured: see bench/README.md
_INSERT_ARRAYS = """
WITH inserted AS (
    INSERT INTO measurements (room, ts, kelvin)
    SELECT room, ts, kelvin FROM unnest($1::integer[], $2::timestamptz[], $3::float8[])
        AS batch (room, ts, kelvin)
    ORDER BY room, ts
    ON CONFLICT DO NOTHING RETURNING 1
)
SELECT count(*) FROM inserted
"""
_CONFLICTS_ARRAYS = f"""
SELECT batch.index - 1 FROM unnest($1::integer[], $2::timestamptz[], $3::float8[])
    WITH ORDINALITY AS batch (room, ts, kelvin, index)
JOIN measurements USING (room, ts)
WHERE abs(measurements.kelvin - batch.kelvin) > {SAME_VALUE_TOLERANCE}
"""
# A temporary table lives as long as its connection; the pool keeps connections (and does not
# reset their sessions), so each connection creates it once and reuses it.
_STAGING = """
CREATE TEMPORARY TABLE IF NOT EXISTS staging
    (index integer, room integer, ts timestamptz, kelvin double precision) ON COMMIT DELETE ROWS
"""
_INSERT_STAGED = """
WITH inserted AS (
    INSERT INTO measurements (room, ts, kelvin)
    SELECT room, ts, kelvin FROM staging ORDER BY room, ts
    ON CONFLICT DO NOTHING RETURNING 1
)
SELECT count(*) FROM inserted
"""
_CONFLICTS_STAGED = f"""
SELECT staging.index FROM staging JOIN measurements USING (room, ts)
WHERE abs(measurements.kelvin - staging.kelvin) > {SAME_VALUE_TOLERANCE}
"""
_WINDOW = """
SELECT count(*), avg(kelvin), min(kelvin), max(kelvin), min(ts) FROM measurements
WHERE room = (SELECT id FROM rooms WHERE name = $1) AND ts BETWEEN $2 AND $3
"""


@asynccontextmanager
async def unavailable_as_storage_errors() -> AsyncIterator[None]:
    try:
        yield
    except _UNAVAILABLE as error:
        raise StorageUnavailable(f"PostgreSQL is unavailable: {error}") from error


async def keep_session(connection: Connection) -> None:
    """Release a connection without asyncpg's reset query (a round trip per use): roomtemp
    changes no session settings, and the staging table is meant to stay. An open transaction
    is still rolled back by asyncpg itself."""


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
            missing = pending("postgres", await applied(connection))
        if missing:
            await store.close()
            raise SchemaOutOfDate([migration.name for migration in missing])
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
            # Rooms all known: the insert is one statement, so its own transaction, and one
            # round trip instead of three (BEGIN, INSERT, COMMIT). Conflicts are looked for
            # afterwards: what conflicts was committed before, and stays.
            columns = ([*rooms], [m.ts for m in measurements], [m.kelvin for m in measurements])
            stored = await connection.fetchval(_INSERT_ARRAYS, *columns)
            if stored == len(measurements):
                return []
            return sorted(row[0] for row in await connection.fetch(_CONFLICTS_ARRAYS, *columns))

    async def _write(
        self, connection: Connection, measurements: Sequence[Measurement]
    ) -> tuple[dict[str, int], int, list[int]]:
        """Insert what is new: (the rooms' ids, how many stored, the indices that conflict)."""
        rooms = await self._resolve_rooms(connection, {m.room_id for m in measurements})
        if len(measurements) < COPY_FROM:
            columns = (
                [rooms[m.room_id] for m in measurements],
                [m.ts for m in measurements],
                [m.kelvin for m in measurements],
            )
            stored: int = await connection.fetchval(_INSERT_ARRAYS, *columns)
            if stored == len(measurements):
                return rooms, stored, []
            conflicts = await connection.fetch(_CONFLICTS_ARRAYS, *columns)
        else:
            if await self._copied(connection, rooms, measurements):
                return rooms, len(measurements), []
            await connection.execute(_STAGING)
            await connection.copy_records_to_table(
                "staging",
                records=[(i, rooms[m.room_id], m.ts, m.kelvin) for i, m in enumerate(measurements)],
            )
            stored = await connection.fetchval(_INSERT_STAGED)
            if stored == len(measurements):
                return rooms, stored, []
            conflicts = await connection.fetch(_CONFLICTS_STAGED)
        return rooms, stored, sorted(row[0] for row in conflicts)

    @staticmethod
    async def _copied(
        connection: Connection, rooms: dict[str, int], measurements: Sequence[Measurement]
    ) -> bool:
        """Whether a binary COPY straight into measurements took the batch. Most batches are
        new data, and then this costs what a bare COPY does (0.55 -> 0.9 of it, measured);
        when a row is stored already, or being stored by another writer (which may also
        deadlock, rows being in batch order here), the COPY is undone and the caller sorts
        the batch out through the staging table."""
        records = [(rooms[m.room_id], m.ts, m.kelvin) for m in measurements]
        try:
            async with connection.transaction():  # a savepoint, so that failing undoes only this
                await connection.copy_records_to_table(
                    "measurements", records=records, columns=("room", "ts", "kelvin")
                )
        except (asyncpg.UniqueViolationError, asyncpg.DeadlockDetectedError):
            return False
        return True

    async def _resolve_rooms(self, connection: Connection, names: set[str]) -> dict[str, int]:
        """The ids of the rooms named, inserting those that are new."""
        keys = {name: self._room_keys[name] for name in names if name in self._room_keys}
        # A room another writer inserts at the same moment is invisible to this statement's
        # snapshot once its insert has waited for that writer: the next round sees it.
        while missing := sorted(names - keys.keys()):
            keys.update(
                {row["name"]: row["id"] for row in await connection.fetch(_RESOLVE_ROOMS, missing)}
            )
        return keys

    async def window_stats(
        self, room_id: str, since: datetime, until: datetime
    ) -> WindowStats | None:
        async with unavailable_as_storage_errors():
            row = await self._pool.fetchrow(_WINDOW, room_id, since, until)
        assert row is not None  # an aggregate always answers one row
        if not row[0]:
            return None
        return WindowStats(row[0], row[1], row[2], row[3], row[4].astimezone(UTC))

    async def has_room(self, room_id: str) -> bool:
        async with unavailable_as_storage_errors():
            return (
                await self._pool.fetchval("SELECT 1 FROM rooms WHERE name = $1", room_id)
                is not None
            )

    async def check(self) -> None:
        async with unavailable_as_storage_errors():
            await self._pool.fetchval("SELECT 1")

    async def close(self) -> None:
        await self._pool.close()


async def applied(connection: Connection) -> set[int]:
    """The versions of the migrations already applied to this database."""
    if await connection.fetchval("SELECT to_regclass('schema_migrations')") is None:
        return set()
    return {row[0] for row in await connection.fetch("SELECT version FROM schema_migrations")}


async def migrate_database(url: str, *, db_timeout: float) -> list[str]:
    """Apply the pending migrations, each in its own transaction; return their names.

    An advisory lock held throughout makes concurrent migrators take turns: the second finds
    nothing left to do.
    """
    async with unavailable_as_storage_errors():
        connection = await asyncpg.connect(url, timeout=db_timeout)
    done = []
    try:
        await connection.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations"
            " (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)"
        )
        for migration in pending("postgres", await applied(connection)):
            async with connection.transaction():
                await connection.execute(migration.sql)
                await connection.execute(
                    "INSERT INTO schema_migrations VALUES ($1, $2, $3)",
                    migration.version,
                    migration.name,
                    datetime.now(UTC),
                )
            done.append(migration.name)
    finally:
        await connection.close()  # also releases the advisory lock
    return done
