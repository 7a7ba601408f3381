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
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from roomtemp.domain.access import (
    AccessToken,
    TokenNameTaken,
    format_scopes,
    parse_scopes,
)
from roomtemp.domain.measurements import ConflictingMeasurements, Measurement, same_value
from roomtemp.domain.rollups import Piece, Summary
from roomtemp.storage.base import Room, SchemaOutOfDate, StorageUnavailable, WriteResult
from roomtemp.storage.sqlite import migrations as sqlite_migrations
from roomtemp.storage.sqlite import statements as sql
from roomtemp.storage.sqlite.connection import WriteLock, connect, path_from_url, transaction

T = TypeVar("T")
READER_THREADS = 4
PRUNE_CHUNK = 10_000  # rows a transaction: a write waits behind one, ~0.1 s at most (measured)


class SqliteStore:
    def __init__(self, path: Path, lock_timeout: float = 5.0) -> None:
        self._path = path
        self._lock_timeout = lock_timeout
        self._connections: list[sqlite3.Connection] = []
        self._local = threading.local()
        self._lock = threading.Lock()
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
        self._readers = ThreadPoolExecutor(READER_THREADS, thread_name_prefix="sqlite-reader")
        self._room_keys: dict[str, int] = {}  # rooms are never renamed nor deleted
        self._write_lock = WriteLock(path.with_name(path.name + ".write-lock"))

    @classmethod
    async def open(cls, url: str, *, lock_timeout: float = 5.0) -> "SqliteStore":
        """Open the database at `url`, refusing one whose schema is behind (SchemaOutOfDate).
        A write waits at most `lock_timeout` seconds for another process to let the file go."""
        store = cls(path_from_url(url), lock_timeout)
        behind = await store._read(sqlite_migrations.missing)
        if behind:
            await store.close()
            raise SchemaOutOfDate(behind)
        return store

    def _connection(self) -> sqlite3.Connection:
        """This thread's own connection, opened on first use."""
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = connect(self._path, self._lock_timeout)
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

    async def _write_transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` in one write transaction on the writer thread. The deadline for the
        write lock starts now, so that writes queued here behind one waiting for a stuck
        process give up with it instead of one after the other."""
        deadline = time.monotonic() + self._lock_timeout

        def locked(connection: sqlite3.Connection) -> T:
            with self._write_lock.held(deadline), transaction(connection):
                return work(connection)

        return await self._run(self._writer, locked)

    async def add(self, measurements: Sequence[Measurement]) -> WriteResult:
        stored, _ = await self._write_committed(measurements, atomic=True)
        return WriteResult(stored=stored, duplicates=len(measurements) - stored)

    async def add_each(self, measurements: Sequence[Measurement]) -> list[int]:
        _, conflicts = await self._write_committed(measurements, atomic=False)
        return conflicts

    async def _write_committed(
        self, measurements: Sequence[Measurement], *, atomic: bool
    ) -> tuple[int, list[int]]:
        new_rooms: dict[str, int] = {}
        stored, conflicts = await self._write_transaction(
            lambda connection: self._write(connection, measurements, new_rooms, atomic=atomic)
        )
        # Only once committed: a room inserted by a rolled-back transaction never existed,
        # and its id may go to another room.
        self._room_keys.update(new_rooms)
        return stored, conflicts

    def _write(
        self,
        connection: sqlite3.Connection,
        measurements: Sequence[Measurement],
        new_rooms: dict[str, int],
        *,
        atomic: bool,
    ) -> tuple[int, list[int]]:
        """In a transaction: (how many stored, the indices that conflict), and the rooms it
        inserted into `new_rooms`. Atomic: all or none."""
        stored, conflicts = [], []
        for index, m in enumerate(measurements):
            room = self._room_keys.get(m.room_id) or new_rooms.get(m.room_id)
            if room is None:
                room = new_rooms[m.room_id] = sql.room_key(connection, m.room_id)
            row = (room, sql.to_micros(m.ts), m.kelvin)
            if connection.execute(sql.INSERT, row).rowcount:
                stored.append((room, m.ts, m.kelvin))
            elif not same_value(
                connection.execute(sql.STORED_VALUE, row[:2]).fetchone()[0], m.kelvin
            ):
                conflicts.append(index)
        if conflicts and atomic:
            raise ConflictingMeasurements(conflicts)  # rolls the transaction back
        connection.executemany(sql.MERGE_ROLLUP, sql.rollup_rows(stored))
        return len(stored), conflicts

    async def summarise(self, room_id: str, pieces: Sequence[Piece]) -> list[Summary | None]:
        if not pieces:
            return []
        parts: list[str] = []
        parameters: list[Any] = []
        for piece in pieces:
            if piece.width is None:
                parts.append(sql.SUMMARY_OF["raw"])
                parameters += [room_id, sql.to_micros(piece.start), sql.to_micros(piece.end)]
            else:
                parts.append(sql.SUMMARY_OF["buckets"])
                parameters += [
                    room_id,
                    piece.width // timedelta(seconds=1),
                    sql.to_micros(piece.start),
                    sql.to_micros(piece.end),
                ]
        query = " UNION ALL ".join(parts)
        rows = await self._read(lambda connection: connection.execute(query, parameters).fetchall())
        return [sql.summary(row) for row in rows]

    async def buckets(
        self, room_id: str, width: timedelta, start: datetime, end: datetime
    ) -> list[tuple[datetime, Summary]]:
        query = (
            "SELECT start, count, total, minimum, maximum, first_ts, last_ts FROM rollups"
            f" WHERE room = {sql.ROOM} AND width = ? AND start >= ? AND start < ? ORDER BY start"
        )
        parameters = (
            room_id,
            width // timedelta(seconds=1),
            sql.to_micros(start),
            sql.to_micros(end),
        )
        rows = await self._read(lambda connection: connection.execute(query, parameters).fetchall())
        return [(sql.from_micros(row[0]), sql.summary(row[1:])) for row in rows]  # type: ignore[misc]

    async def raw(
        self, room_id: str, start: datetime, end: datetime, limit: int
    ) -> list[tuple[datetime, float]]:
        query = (
            f"SELECT ts, kelvin FROM measurements WHERE room = {sql.ROOM}"
            " AND ts >= ? AND ts < ? ORDER BY ts LIMIT ?"
        )
        parameters = (room_id, sql.to_micros(start), sql.to_micros(end), limit)
        rows = await self._read(lambda connection: connection.execute(query, parameters).fetchall())
        return [(sql.from_micros(ts), kelvin) for ts, kelvin in rows]

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
                    f" WHERE room = {sql.ROOM} ORDER BY ts",
                    [*(sql.to_micros(ts) for pair in chunk for ts in pair), room_id],
                ).fetchall()
                found += [(sql.from_micros(ts), kelvin) for ts, kelvin in rows]
            return found

        return await self._read(query) if ranges else []

    async def rooms(self) -> list[Room]:
        query = (
            "SELECT name, count, total, minimum, maximum, first_ts, last_ts, last_kelvin"
            " FROM rollups JOIN rooms ON rooms.id = rollups.room WHERE width = 0"
        )
        rows = await self._read(lambda connection: connection.execute(query).fetchall())
        return [Room(row[0], sql.summary(row[1:7]), row[7]) for row in rows]  # type: ignore[arg-type]

    async def has_room(self, room_id: str) -> bool:
        return await self._read(
            lambda connection: (
                connection.execute("SELECT 1 FROM rooms WHERE name = ?", (room_id,)).fetchone()
                is not None
            )
        )

    async def delete_raw_before(self, cutoff: datetime) -> int:
        # A room's whole past in one transaction held the writer (and its lock) for as long
        # as it took, and every write waited behind it. Along the primary key, PRUNE_CHUNK
        # rows a transaction, each queued on the writer like any write: writes go in between.
        rooms = await self._read(lambda connection: connection.execute(sql.ROOM_IDS).fetchall())
        deleted = 0
        for (room,) in rooms:
            chunk = partial(_delete_chunk, (room, sql.to_micros(cutoff), PRUNE_CHUNK - 1))
            while count := await self._write_transaction(chunk):
                deleted += count
        return deleted

    async def add_token(self, token: AccessToken) -> None:
        row = (
            token.token_id,
            token.name,
            format_scopes(token.scopes),
            token.digest,
            sql.to_micros(token.created),
        )

        inserted = await self._write_transaction(
            lambda connection: connection.execute(sql.INSERT_TOKEN, row).rowcount
        )
        if not inserted:
            raise TokenNameTaken(token.name)

    async def tokens(self) -> list[AccessToken]:
        rows = await self._read(lambda connection: connection.execute(sql.TOKENS).fetchall())
        return [
            AccessToken(
                row[0], row[1], parse_scopes(row[2].split()), row[3], sql.from_micros(row[4])
            )
            for row in rows
        ]

    async def revoke_token(self, name: str) -> bool:
        return bool(
            await self._write_transaction(
                lambda connection: connection.execute(sql.REVOKE_TOKEN, (name,)).rowcount
            )
        )

    async def check(self) -> None:
        await self._read(lambda connection: connection.execute("SELECT 1").fetchone())

    async def close(self) -> None:
        self._writer.shutdown(wait=True)
        self._readers.shutdown(wait=True)
        self._write_lock.close()
        with self._lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()


def _delete_chunk(parameters: tuple[int, int, int], connection: sqlite3.Connection) -> int:
    return int(connection.execute(sql.DELETE_RAW, parameters).rowcount)
