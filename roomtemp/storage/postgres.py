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
_INSERT = """
WITH inserted AS (
    INSERT INTO measurements (room, ts, kelvin)
    SELECT * FROM unnest($1::integer[], $2::timestamptz[], $3::float8[])
    ON CONFLICT DO NOTHING RETURNING 1
)
SELECT count(*) FROM inserted
"""
# Run after the insert, so that rows committed meanwhile by another writer are seen too.
_CONFLICTS = f"""
SELECT batch.index - 1 FROM unnest($1::integer[], $2::timestamptz[], $3::float8[])
    WITH ORDINALITY AS batch (room, ts, kelvin, index)
JOIN measurements USING (room, ts)
WHERE abs(measurements.kelvin - batch.kelvin) > {SAME_VALUE_TOLERANCE}
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


class PostgresStore:
    def __init__(self, pool: "asyncpg.Pool[asyncpg.Record]") -> None:
        self._pool = pool
        self._room_keys: dict[str, int] = {}  # rooms are never renamed nor deleted

    @classmethod
    async def open(cls, url: str, *, pool_size: int, db_timeout: float) -> "PostgresStore":
        """Open a pool to `url`, refusing a database whose schema is behind (SchemaOutOfDate)."""
        async with unavailable_as_storage_errors():
            pool = await asyncpg.create_pool(
                url, min_size=1, max_size=pool_size, timeout=db_timeout, command_timeout=db_timeout
            )
        store = cls(pool)
        async with unavailable_as_storage_errors(), pool.acquire() as connection:
            missing = pending("postgres", await applied(connection))
        if missing:
            await store.close()
            raise SchemaOutOfDate([migration.name for migration in missing])
        return store

    async def add(self, measurements: Sequence[Measurement]) -> WriteResult:
        # Sorted, so that concurrent writers lock rows in one order and cannot deadlock.
        order = sorted(
            range(len(measurements)), key=lambda i: (measurements[i].room_id, measurements[i].ts)
        )
        async with unavailable_as_storage_errors(), self._pool.acquire() as connection:
            async with connection.transaction():
                rooms = await self._resolve_rooms(connection, {m.room_id for m in measurements})
                columns = (
                    [rooms[measurements[i].room_id] for i in order],
                    [measurements[i].ts for i in order],
                    [measurements[i].kelvin for i in order],
                )
                stored: int = await connection.fetchval(_INSERT, *columns)
                if stored < len(measurements):
                    conflicts = await connection.fetch(_CONFLICTS, *columns)
                    if conflicts:
                        raise ConflictingMeasurements(sorted(order[row[0]] for row in conflicts))
            self._room_keys.update(rooms)  # committed: safe to remember
        return WriteResult(stored=stored, duplicates=len(measurements) - stored)

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

    def pool_use(self) -> dict[str, int]:
        """Connections of the pool by state: max allowed, open now, in_use by a caller."""
        open_now = self._pool.get_size()
        in_use = open_now - self._pool.get_idle_size()
        return {"max": self._pool.get_max_size(), "open": open_now, "in_use": in_use}


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
