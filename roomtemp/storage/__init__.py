"""Storage backends behind one interface, chosen by the scheme of the database URL."""

import asyncio
from collections.abc import Awaitable, Callable

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
    "run_once_per_deployment",
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


async def open_store(
    url: str,
    *,
    pool_size: int = 10,
    db_timeout: float = 5.0,
    batch_timeout: float = 60.0,
    read_url: str | None = None,
    read_max_lag: float = 5.0,
) -> MeasurementStore:
    """The store for `url`. SQL backends refuse a schema that is behind (SchemaOutOfDate).
    Reads fail (StorageUnavailable) after `db_timeout` seconds; writes after `batch_timeout`,
    or as soon as the database (SQLite: the process holding the write lock) fails to answer
    within `db_timeout`; and
    reads go to the standby at `read_url` while it lags at most `read_max_lag` seconds."""
    # A backend's driver is imported only when it is chosen: asyncpg is no SQLite user's
    # concern, and the SQLite write lock (fcntl) must not stop other platforms' commands.
    backend = backend_of(url)
    if backend == "postgres":
        from roomtemp.storage.postgres.store import PostgresStore

        return await PostgresStore.open(
            url,
            pool_size=pool_size,
            db_timeout=db_timeout,
            batch_timeout=batch_timeout,
            read_url=read_url,
            read_max_lag=read_max_lag,
        )
    if backend == "sqlite":
        from roomtemp.storage.sqlite.store import SqliteStore

        return await SqliteStore.open(url, lock_timeout=db_timeout, batch_timeout=batch_timeout)
    return InMemoryStore()


async def migrate(url: str, *, db_timeout: float = 5.0, upto: int | None = None) -> list[str]:
    """Bring the schema at `url` up to date (or to version `upto`); the migrations applied."""
    backend = backend_of(url)
    if backend == "postgres":
        from roomtemp.storage.postgres.migrations import migrate_database

        return await migrate_database(url, db_timeout=db_timeout, upto=upto)
    if backend == "sqlite":
        from roomtemp.storage.sqlite.connection import migrate_database as migrate_file

        return await asyncio.to_thread(migrate_file, url, upto)
    return []  # the in-memory store has no schema


async def run_once_per_deployment(url: str, job: Callable[[], Awaitable[None]]) -> None:
    """Run `job` (idempotent) in one process of the deployment at a time: on PostgreSQL the
    holder of the leader lock, whichever instance that is. SQLite is one host's file, and two
    workers' jobs only take turns on its write lock: each process runs it."""
    if backend_of(url) == "postgres":
        from roomtemp.storage.postgres.leader import lead

        await lead(url, job)
    else:
        await job()
