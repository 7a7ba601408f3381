"""Migrations of a PostgreSQL database: numbered .sql files, each applied once, in its own
transaction, recorded in schema_migrations, one migrating process at a time."""

from datetime import UTC, datetime

import asyncpg

from roomtemp.storage.migrations import pending
from roomtemp.storage.postgres.connection import Connection, unavailable_as_storage_errors

MIGRATION_LOCK = 0x726F6F6D74656D70  # "roomtemp": one advisory lock for every migrating process


async def applied(connection: Connection) -> set[int]:
    """The versions of the migrations already applied to this database."""
    if await connection.fetchval("SELECT to_regclass('schema_migrations')") is None:
        return set()
    return {row[0] for row in await connection.fetch("SELECT version FROM schema_migrations")}


async def missing(connection: Connection) -> list[str]:
    """The names of the migrations this database still lacks."""
    return [migration.name for migration in pending("postgres", await applied(connection))]


async def migrate(
    connection: "asyncpg.Connection[asyncpg.Record]", upto: int | None = None
) -> list[str]:
    """Apply the pending migrations, each in its own transaction; return their names.

    An advisory lock held throughout makes concurrent migrators take turns: the second finds
    nothing left to do.
    """
    done = []
    await connection.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
    try:
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations"
            " (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)"
        )
        for migration in pending("postgres", await applied(connection), upto):
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
        await connection.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
    return done


async def migrate_database(url: str, *, db_timeout: float, upto: int | None = None) -> list[str]:
    """Apply the pending migrations of the database at `url`; their names."""
    async with unavailable_as_storage_errors():
        connection = await asyncpg.connect(url, timeout=db_timeout)
    try:
        return await migrate(connection, upto)
    finally:
        await connection.close()
