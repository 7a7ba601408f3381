"""Storage backends behind one interface, chosen by the scheme of the database URL."""

import asyncio

from roomtemp.storage import postgres, sqlite, sqlite_connection
from roomtemp.storage.base import (
    MeasurementStore,
    SchemaNewerThanCode,
    SchemaOutOfDate,
    StorageUnavailable,
)
from roomtemp.storage.memory import InMemoryStore

__all__ = [
    "MeasurementStore",
    "SchemaNewerThanCode",
    "SchemaOutOfDate",
    "StorageUnavailable",
    "UnsupportedDatabaseUrl",
    "backend_of",
    "migrate",
    "open_store",
]


class UnsupportedDatabaseUrl(ValueError):
    def __init__(self, url: str) -> None:
        super().__init__(
            f"unsupported database URL {url.partition('://')[0]}://...: use "
            "sqlite:///path/to/file, postgresql://user:password@host/database or memory://"
        )


def backend_of(url: str) -> str:
    """'memory', 'sqlite' or 'postgres' for a database URL."""
    scheme = url.partition("://")[0]
    if scheme in ("postgres", "postgresql"):
        return "postgres"
    if scheme in ("sqlite", "memory"):
        return scheme
    raise UnsupportedDatabaseUrl(url)


async def open_store(url: str, *, pool_size: int = 10, db_timeout: float = 5.0) -> MeasurementStore:
    """The store for `url`. SQL backends refuse a schema that is behind (SchemaOutOfDate)."""
    backend = backend_of(url)
    if backend == "postgres":
        return await postgres.PostgresStore.open(url, pool_size=pool_size, db_timeout=db_timeout)
    if backend == "sqlite":
        return await sqlite.SqliteStore.open(url)
    return InMemoryStore()


async def migrate(url: str, *, db_timeout: float = 5.0, upto: int | None = None) -> list[str]:
    """Bring the schema at `url` up to date (or to version `upto`); the migrations applied."""
    backend = backend_of(url)
    if backend == "postgres":
        return await postgres.migrate_database(url, db_timeout=db_timeout, upto=upto)
    if backend == "sqlite":
        return await asyncio.to_thread(sqlite_connection.migrate_database, url, upto)
    return []  # the in-memory store has no schema
