"""SqliteStore: the embedded default. One file, zero set-up, durable commits.

sqlite3 blocks, so every call runs in a thread: writes in a single writer thread (SQLite has
one writer at a time anyway), reads in a few reader threads that WAL lets run beside it. Each
whole transaction is one hop to its thread, not one hop per statement.
"""

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from roomtemp.domain.measurements import (
    ConflictingMeasurements,
    Measurement,
    WindowStats,
    same_value,
)
from roomtemp.storage.base import SchemaOutOfDate, StorageUnavailable, WriteResult
from roomtemp.storage.migrations import pending

T = TypeVar("T")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
READER_THREADS = 4
BUSY_TIMEOUT_MS = 5000


def path_from_url(url: str) -> Path:
    """sqlite:///relative/file or sqlite:////absolute/file, as SQLAlchemy spells them."""
    return Path(url.removeprefix("sqlite:///"))


def to_micros(ts: datetime) -> int:
    return (ts - EPOCH) // timedelta(microseconds=1)


def from_micros(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


def connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: no implicit transactions; each one is an explicit BEGIN ... COMMIT.
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    # Several processes share the file: wait for a lock instead of failing. First, because
    # switching to WAL below takes a lock too.
    connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    # WAL lets readers run beside the writer; synchronous=FULL syncs the WAL on every commit,
    # so a committed (and acknowledged) write survives a power cut, not only a process crash.
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute("PRAGMA foreign_keys = ON")
    return connection


class SqliteStore:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._connections: list[sqlite3.Connection] = []
        self._local = threading.local()
        self._lock = threading.Lock()
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
        self._readers = ThreadPoolExecutor(READER_THREADS, thread_name_prefix="sqlite-reader")
        self._room_keys: dict[str, int] = {}  # rooms are never renamed nor deleted

    @classmethod
    async def open(cls, url: str) -> "SqliteStore":
        """Open the database at `url`, refusing one whose schema is behind (SchemaOutOfDate)."""
        store = cls(path_from_url(url))
        missing = await store._read(lambda connection: pending("sqlite", applied(connection)))
        if missing:
            await store.close()
            raise SchemaOutOfDate([migration.name for migration in missing])
        return store

    def _connection(self) -> sqlite3.Connection:
        """This thread's own connection, opened on first use."""
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = connect(self._path)
            with self._lock:
                self._connections.append(connection)
        return connection

    async def _run(
        self, executor: ThreadPoolExecutor, work: Callable[[sqlite3.Connection], T]
    ) -> T:
        def call() -> T:
            try:
                return work(self._connection())
            except sqlite3.OperationalError as error:
                # "database is locked" after busy_timeout, disk I/O errors, a vanished file:
                # nothing the request did wrong, and possibly gone on a retry.
                raise StorageUnavailable(f"SQLite is unavailable: {error}") from error

        return await asyncio.get_running_loop().run_in_executor(executor, call)

    async def _read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        return await self._run(self._readers, work)

    async def add(self, measurements: Sequence[Measurement]) -> WriteResult:
        stored, _ = await self._run(
            self._writer, lambda connection: self._write(connection, measurements, atomic=True)
        )
        return WriteResult(stored=stored, duplicates=len(measurements) - stored)

    async def add_each(self, measurements: Sequence[Measurement]) -> list[int]:
        _, conflicts = await self._run(
            self._writer, lambda connection: self._write(connection, measurements, atomic=False)
        )
        return conflicts

    def _write(
        self, connection: sqlite3.Connection, measurements: Sequence[Measurement], *, atomic: bool
    ) -> tuple[int, list[int]]:
        """One transaction: (how many stored, the indices that conflict). Atomic: all or none."""
        new_rooms: dict[str, int] = {}
        connection.execute("BEGIN IMMEDIATE")
        try:
            stored, conflicts = 0, []
            for index, measurement in enumerate(measurements):
                room = self._room_keys.get(measurement.room_id) or new_rooms.get(
                    measurement.room_id
                )
                if room is None:
                    room = new_rooms[measurement.room_id] = room_key(
                        connection, measurement.room_id
                    )
                row = (room, to_micros(measurement.ts), measurement.kelvin)
                if connection.execute(INSERT, row).rowcount:
                    stored += 1
                elif not same_value(
                    connection.execute(STORED_VALUE, row[:2]).fetchone()[0], row[2]
                ):
                    conflicts.append(index)
            if conflicts and atomic:
                raise ConflictingMeasurements(conflicts)
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        # Only now: a room inserted by a rolled-back transaction never existed, and its id
        # may go to another room.
        self._room_keys.update(new_rooms)
        return stored, conflicts

    async def window_stats(
        self, room_id: str, since: datetime, until: datetime
    ) -> WindowStats | None:
        def query(connection: sqlite3.Connection) -> WindowStats | None:
            count, mean, minimum, maximum, first = connection.execute(
                "SELECT count(*), avg(kelvin), min(kelvin), max(kelvin), min(ts) FROM measurements"
                " WHERE room = (SELECT id FROM rooms WHERE name = ?) AND ts BETWEEN ? AND ?",
                (room_id, to_micros(since), to_micros(until)),
            ).fetchone()
            if not count:
                return None
            return WindowStats(count, mean, minimum, maximum, from_micros(first))

        return await self._read(query)

    async def has_room(self, room_id: str) -> bool:
        return await self._read(
            lambda connection: (
                connection.execute("SELECT 1 FROM rooms WHERE name = ?", (room_id,)).fetchone()
                is not None
            )
        )

    async def check(self) -> None:
        await self._read(lambda connection: connection.execute("SELECT 1").fetchone())

    async def close(self) -> None:
        self._writer.shutdown(wait=True)
        self._readers.shutdown(wait=True)
        with self._lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()


INSERT = "INSERT INTO measurements (room, ts, kelvin) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
STORED_VALUE = "SELECT kelvin FROM measurements WHERE room = ? AND ts = ?"


def room_key(connection: sqlite3.Connection, room_id: str) -> int:
    """The id of the room named `room_id`, inserting the room if it is new."""
    connection.execute("INSERT INTO rooms (name) VALUES (?) ON CONFLICT DO NOTHING", (room_id,))
    key: int = connection.execute("SELECT id FROM rooms WHERE name = ?", (room_id,)).fetchone()[0]
    return key


def applied(connection: sqlite3.Connection) -> set[int]:
    """The versions of the migrations already applied to this database."""
    if not connection.execute(
        "SELECT 1 FROM sqlite_master WHERE name = 'schema_migrations'"
    ).fetchone():
        return set()
    return {version for (version,) in connection.execute("SELECT version FROM schema_migrations")}


def statements(script: str) -> list[str]:
    """Split a migration into statements (sqlite3 runs one at a time inside a transaction)."""
    found, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            found.append(current.strip())
            current = ""
    return found


def migrate_database(url: str) -> list[str]:
    """Apply the pending migrations, each in its own transaction; return their names.

    BEGIN IMMEDIATE takes the write lock before reading what is applied, so two processes
    migrating at once apply each migration exactly once.
    """
    path = path_from_url(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = connect(path)
    done: list[str] = []
    try:
        connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations"
            " (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        while True:
            connection.execute("BEGIN IMMEDIATE")
            try:
                todo = pending("sqlite", applied(connection))
                if not todo:
                    connection.execute("COMMIT")
                    return done
                migration = todo[0]
                for statement in statements(migration.sql):
                    connection.execute(statement)
                connection.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, ?)",
                    (migration.version, migration.name, datetime.now(UTC).isoformat()),
                )
                connection.execute("COMMIT")
                done.append(migration.name)
            except BaseException:
                connection.execute("ROLLBACK")
                raise
    finally:
        connection.close()
