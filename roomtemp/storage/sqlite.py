"""SqliteStore: the embedded default. One file, zero set-up, durable commits.

sqlite3 blocks, so every call runs in a thread: writes in a single writer thread (SQLite has
one writer at a time anyway), reads in a few reader threads that WAL lets run beside it. Each
whole transaction is one hop to its thread, not one hop per statement. Timestamps are stored
as integer microseconds since the Unix epoch.
"""

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from roomtemp.domain.measurements import ConflictingMeasurements, Measurement, same_value
from roomtemp.domain.rollups import EPOCH, MICROSECOND, Piece, Summary, deltas
from roomtemp.storage import sqlite_migrations
from roomtemp.storage.base import Room, SchemaOutOfDate, StorageUnavailable, WriteResult

T = TypeVar("T")
READER_THREADS = 4
BUSY_TIMEOUT_MS = 5000
# In rollups, a bucket's width is in seconds (0: the room's total), its start in microseconds.
_INSERT = "INSERT INTO measurements (room, ts, kelvin) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
_STORED_VALUE = "SELECT kelvin FROM measurements WHERE room = ? AND ts = ?"
_MERGE_ROLLUP = """
INSERT INTO rollups VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (room, width, start) DO UPDATE SET
    count = count + excluded.count,
    total = total + excluded.total,
    minimum = min(minimum, excluded.minimum),
    maximum = max(maximum, excluded.maximum),
    first_ts = min(first_ts, excluded.first_ts),
    last_kelvin = CASE WHEN excluded.last_ts > last_ts
                       THEN excluded.last_kelvin ELSE last_kelvin END,
    last_ts = max(last_ts, excluded.last_ts)
"""
_ROOM = "(SELECT id FROM rooms WHERE name = ?)"
_SUMMARY_OF = {
    "raw": "SELECT count(*), sum(kelvin), min(kelvin), max(kelvin), min(ts), max(ts)"
    f" FROM measurements WHERE room = {_ROOM} AND ts >= ? AND ts < ?",
    "buckets": "SELECT sum(count), sum(total), min(minimum), max(maximum), min(first_ts),"
    f" max(last_ts) FROM rollups WHERE room = {_ROOM} AND width = ? AND start >= ? AND start < ?",
}


def path_from_url(url: str) -> Path:
    """sqlite:///relative/file or sqlite:////absolute/file, as SQLAlchemy spells them."""
    return Path(url.removeprefix("sqlite:///"))


def to_micros(ts: datetime) -> int:
    return (ts - EPOCH) // MICROSECOND


def from_micros(micros: int) -> datetime:
    return EPOCH + micros * MICROSECOND


def connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: no implicit transactions; each one is an explicit BEGIN ... COMMIT.
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    # Several processes share the file: wait for a lock instead of failing.
    connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    # WAL lets readers run beside the writer; synchronous=FULL syncs the WAL on every commit,
    # so a committed (and acknowledged) write survives a power cut, not only a process crash.
    _use_wal(connection)
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute("PRAGMA foreign_keys = ON")
    return connection


def _use_wal(connection: sqlite3.Connection) -> None:
    """Switch a new database to WAL (the mode stays with the file). Two processes opening a
    new file at once may both try, and SQLite then answers "locked" at once, without waiting
    for busy_timeout (seen in the concurrent-migration test): try again, for a while."""
    for _ in range(100):
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error):
                raise
            time.sleep(0.05)
    connection.execute("PRAGMA journal_mode = WAL")


def _summary(row: Sequence[Any]) -> Summary | None:
    count, total, minimum, maximum, first, last = row
    if not count:
        return None
    return Summary(count, total, minimum, maximum, from_micros(first), from_micros(last))


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
        behind = await store._read(sqlite_migrations.missing)
        if behind:
            await store.close()
            raise SchemaOutOfDate(behind)
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
            stored, conflicts = [], []
            for index, measurement in enumerate(measurements):
                room = self._room_keys.get(measurement.room_id) or new_rooms.get(
                    measurement.room_id
                )
                if room is None:
                    room = new_rooms[measurement.room_id] = room_key(
                        connection, measurement.room_id
                    )
                row = (room, to_micros(measurement.ts), measurement.kelvin)
                if connection.execute(_INSERT, row).rowcount:
                    stored.append((room, measurement.ts, measurement.kelvin))
                elif not same_value(
                    connection.execute(_STORED_VALUE, row[:2]).fetchone()[0], row[2]
                ):
                    conflicts.append(index)
            if conflicts and atomic:
                raise ConflictingMeasurements(conflicts)
            connection.executemany(_MERGE_ROLLUP, rollup_rows(stored))
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        # Only now: a room inserted by a rolled-back transaction never existed, and its id
        # may go to another room.
        self._room_keys.update(new_rooms)
        return len(stored), conflicts

    async def summarise(self, room_id: str, pieces: Sequence[Piece]) -> list[Summary | None]:
        if not pieces:
            return []
        parts: list[str] = []
        parameters: list[Any] = []
        for piece in pieces:
            if piece.width is None:
                parts.append(_SUMMARY_OF["raw"])
                parameters += [room_id, to_micros(piece.start), to_micros(piece.end)]
            else:
                parts.append(_SUMMARY_OF["buckets"])
                parameters += [
                    room_id,
                    piece.width // timedelta(seconds=1),
                    to_micros(piece.start),
                    to_micros(piece.end),
                ]
        query = " UNION ALL ".join(parts)
        rows = await self._read(lambda connection: connection.execute(query, parameters).fetchall())
        return [_summary(row) for row in rows]

    async def buckets(
        self, room_id: str, width: timedelta, start: datetime, end: datetime
    ) -> list[tuple[datetime, Summary]]:
        query = (
            "SELECT start, count, total, minimum, maximum, first_ts, last_ts FROM rollups"
            f" WHERE room = {_ROOM} AND width = ? AND start >= ? AND start < ? ORDER BY start"
        )
        parameters = (room_id, width // timedelta(seconds=1), to_micros(start), to_micros(end))
        rows = await self._read(lambda connection: connection.execute(query, parameters).fetchall())
        return [(from_micros(row[0]), _summary(row[1:])) for row in rows]  # type: ignore[misc]

    async def raw(
        self, room_id: str, start: datetime, end: datetime, limit: int
    ) -> list[tuple[datetime, float]]:
        query = (
            f"SELECT ts, kelvin FROM measurements WHERE room = {_ROOM}"
            " AND ts >= ? AND ts < ? ORDER BY ts LIMIT ?"
        )
        parameters = (room_id, to_micros(start), to_micros(end), limit)
        rows = await self._read(lambda connection: connection.execute(query, parameters).fetchall())
        return [(from_micros(ts), kelvin) for ts, kelvin in rows]

    async def raw_in(
        self, room_id: str, ranges: Sequence[tuple[datetime, datetime]]
    ) -> list[tuple[datetime, float]]:
        def query(connection: sqlite3.Connection) -> list[tuple[datetime, float]]:
            found = []
            # SQLite may allow as few as 32,766 parameters a statement: 10,000 ranges at a time.
            for first in range(0, len(ranges), 10_000):
                chunk = ranges[first : first + 10_000]
                values = ", ".join(["(?, ?)"] * len(chunk))
                rows = connection.execute(
                    f"WITH ranges (start, stop) AS (VALUES {values})"
                    f" SELECT ts, kelvin FROM measurements JOIN ranges"
                    f" ON ts >= ranges.start AND ts < ranges.stop"
                    f" WHERE room = {_ROOM} ORDER BY ts",
                    [*(to_micros(ts) for pair in chunk for ts in pair), room_id],
                ).fetchall()
                found += [(from_micros(ts), kelvin) for ts, kelvin in rows]
            return found

        return await self._read(query) if ranges else []

    async def rooms(self) -> list[Room]:
        query = (
            "SELECT name, count, total, minimum, maximum, first_ts, last_ts, last_kelvin"
            " FROM rollups JOIN rooms ON rooms.id = rollups.room WHERE width = 0"
        )
        rows = await self._read(lambda connection: connection.execute(query).fetchall())
        return [Room(row[0], _summary(row[1:7]), row[7]) for row in rows]  # type: ignore[arg-type]

    async def has_room(self, room_id: str) -> bool:
        return await self._read(
            lambda connection: (
                connection.execute("SELECT 1 FROM rooms WHERE name = ?", (room_id,)).fetchone()
                is not None
            )
        )

    async def delete_raw_before(self, cutoff: datetime) -> int:
        def delete(connection: sqlite3.Connection) -> int:
            # Room by room, along the primary key, a transaction each: the one writer lock
            # is never held for long.
            deleted = 0
            for (room,) in connection.execute("SELECT id FROM rooms").fetchall():
                connection.execute("BEGIN IMMEDIATE")
                deleted += connection.execute(
                    "DELETE FROM measurements WHERE room = ? AND ts < ?", (room, to_micros(cutoff))
                ).rowcount
                connection.execute("COMMIT")
            return deleted

        return await self._run(self._writer, delete)

    async def check(self) -> None:
        await self._read(lambda connection: connection.execute("SELECT 1").fetchone())

    async def close(self) -> None:
        self._writer.shutdown(wait=True)
        self._readers.shutdown(wait=True)
        with self._lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()


def room_key(connection: sqlite3.Connection, room_id: str) -> int:
    """The id of the room named `room_id`, inserting the room if it is new."""
    connection.execute("INSERT INTO rooms (name) VALUES (?) ON CONFLICT DO NOTHING", (room_id,))
    key: int = connection.execute("SELECT id FROM rooms WHERE name = ?", (room_id,)).fetchone()[0]
    return key


def rollup_rows(stored: list[tuple[int, datetime, float]]) -> list[tuple[Any, ...]]:
    """The rows to merge into rollups for the measurements just stored."""
    return [
        (
            room,
            width // timedelta(seconds=1),
            to_micros(start),
            delta.summary.count,
            delta.summary.total,
            delta.summary.minimum,
            delta.summary.maximum,
            to_micros(delta.summary.first_ts),
            to_micros(delta.summary.last_ts),
            delta.last_kelvin,
        )
        for (room, width, start), delta in deltas(stored).items()
    ]


def migrate_database(url: str, upto: int | None = None) -> list[str]:
    """Create the database at `url` if need be, and apply its pending migrations."""
    path = path_from_url(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = connect(path)
    try:
        return sqlite_migrations.migrate(connection, upto)
    finally:
        connection.close()
