"""SqliteStore: the embedded default. One file, zero set-up, durable commits.

sqlite3 blocks, so every call runs in a thread: writes in a single writer thread (SQLite has
one writer at a time anyway), reads in a few reader threads that WAL lets run beside it. Each
whole transaction is one hop to its thread, not one hop per statement. Timestamps are stored
as integer microseconds since the Unix epoch.
"""

import asyncio
import json
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np

from roomtemp.domain.access import (
    AccessToken,
    TokenNameTaken,
    format_scopes,
    parse_scopes,
)
from roomtemp.domain.columns import (
    ColumnDeltas,
    Columns,
    Floats,
    Int32s,
    Int64s,
    column_deltas,
    in_key_order,
)
from roomtemp.domain.measurements import ConflictingMeasurements, Measurement, same_value
from roomtemp.domain.rollups import Piece, Summary
from roomtemp.storage.base import (
    Room,
    SchemaNewerThanCode,
    SchemaOutOfDate,
    StorageUnavailable,
    WriteResult,
)
from roomtemp.storage.room_keys import RoomKeys
from roomtemp.storage.sqlite import many_rows
from roomtemp.storage.sqlite import migrations as sqlite_migrations
from roomtemp.storage.sqlite import statements as sql
from roomtemp.storage.sqlite.connection import WriteLock, connect, path_from_url, transaction

T = TypeVar("T")
READER_THREADS = 4
PRUNE_CHUNK = 10_000  # rows a transaction: a write waits behind one, ~0.1 s at most (measured)
# A few measurements go in row by row; more as columns, whose set-up (sorting, the rollup
# deltas by numpy) costs ~125 us whatever their number (measured for one, on a busy machine).
COLUMNS_FROM = 100
# A commit groups the writes queued, up to about this many rows (see _take_queued).
GROUP_ROWS = 16_384


class SqliteStore:
    def __init__(self, path: Path, lock_timeout: float = 5.0, batch_timeout: float = 60.0) -> None:
        self._path = path
        self._lock_timeout = lock_timeout
        self._batch_timeout = batch_timeout
        self._connections: list[sqlite3.Connection] = []
        self._local = threading.local()
        self._lock = threading.Lock()
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
        self._queued: deque[_Queued[Any]] = deque()  # writes for the writer's next commit
        self._readers = ThreadPoolExecutor(READER_THREADS, thread_name_prefix="sqlite-reader")
        self._room_keys = RoomKeys()
        self._write_lock = WriteLock(path.with_name(path.name + ".write-lock"), lock_timeout)

    @classmethod
    async def open(
        cls, url: str, *, lock_timeout: float = 5.0, batch_timeout: float = 60.0
    ) -> "SqliteStore":
        """Open the database at `url`, refusing one whose schema is behind (SchemaOutOfDate).
        A write waits `lock_timeout` seconds for another process to let the file go, and on
        up to `batch_timeout` while that process shows it is alive (connection.WriteLock)."""
        store = cls(path_from_url(url), lock_timeout, batch_timeout)
        try:
            behind = await store._read(sqlite_migrations.missing)
            if behind:
                raise SchemaOutOfDate(behind)
            await store.check()
        except (SchemaOutOfDate, SchemaNewerThanCode):
            await store.close()
            raise
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

    async def _write_transaction(self, work: Callable[[sqlite3.Connection], T], rows: int = 1) -> T:
        """Run `work` in a write transaction on the writer thread, in a savepoint of its own:
        the writes queued meanwhile share one commit, and one whose work raises is rolled
        back alone. The deadline for the write lock starts now, so that writes queued here
        behind one waiting for a stuck process give up with it instead of one after the
        other."""
        done: Future[T] = Future()
        now = time.monotonic()
        self._queued.append(
            _Queued(work, done, rows, now + self._lock_timeout, now + self._batch_timeout)
        )
        self._writer.submit(self._commit_queued)
        return await asyncio.wrap_future(done)

    def _commit_queued(self) -> None:
        """On the writer thread: the writes queued, in one transaction (nothing, if an
        earlier call took it all). Each write waits for the lock until its own deadline."""
        group = self._take_queued()
        while group:
            try:
                self._commit(group)
                return
            except StorageUnavailable as error:  # the lock did not come by group[0]'s deadline
                late = [queued for queued in group if queued.deadline <= time.monotonic()]
                for queued in late or group:
                    queued.done.set_exception(error)
                group = [queued for queued in group if queued not in late] if late else []

    def _take_queued(self, group: "list[_Queued[Any]] | None" = None) -> "list[_Queued[Any]]":
        """`group` and the writes queued after it, in order, while they make no more than
        GROUP_ROWS rows (the first at least): a big batch does not join a group of small
        writes, which would wait for it."""
        group = [] if group is None else group
        rows = sum(queued.rows for queued in group)
        while self._queued and (not group or rows + self._queued[0].rows <= GROUP_ROWS):
            group.append(self._queued.popleft())
            rows += group[-1].rows
        return group

    def _commit(self, group: "list[_Queued[Any]]") -> None:
        try:
            connection = self._connection()
            with (
                self._write_lock.held(group[0].deadline, group[0].patience),
                transaction(connection),
            ):
                # Those queued while the lock was awaited (another process's commit, ~14 ms
                # for a batch of 5,000) share this commit: one commit of two batches costs
                # little more than one of one (the WAL's pages and sync, 0.8 us an item).
                self._take_queued(group)
                outcomes = [_in_savepoint(connection, queued.work) for queued in group]
        except sqlite3.OperationalError as error:
            # "database is locked" after busy_timeout, disk I/O errors, a vanished file:
            # nothing the requests did wrong, and possibly gone on a retry.
            unavailable = StorageUnavailable(f"SQLite is unavailable: {error}")
            for queued in group:
                queued.done.set_exception(unavailable)
            return
        except StorageUnavailable:
            raise
        except BaseException as error:
            for queued in group:
                queued.done.set_exception(error)
            return
        for queued, (result, raised) in zip(group, outcomes, strict=True):
            if raised is None:
                queued.done.set_result(result)
            else:
                queued.done.set_exception(raised)

    async def add(self, measurements: Sequence[Measurement]) -> WriteResult:
        if len(measurements) >= COLUMNS_FROM:
            return await self.add_columns(Columns.of(measurements))
        stored, _ = await self._write_committed(measurements, atomic=True)
        return WriteResult(stored=stored, duplicates=len(measurements) - stored)

    async def add_columns(self, columns: Columns) -> WriteResult:
        # Made before the write lock is taken: its holder is what every process waits for.
        rows = _Rows.of(columns)
        new_rooms: dict[str, int] = {}
        stored = await self._write_transaction(
            lambda connection: self._write_columns(connection, columns, rows, new_rooms),
            len(columns),
        )
        # Only once committed: a room inserted by a rolled-back transaction never existed,
        # and its id may go to another room.
        self._room_keys.update(new_rooms)
        return WriteResult(stored=stored, duplicates=len(columns) - stored)

    def _write_columns(
        self,
        connection: sqlite3.Connection,
        columns: Columns,
        rows: "_Rows",
        new_rooms: dict[str, int],
    ) -> int:
        """In a transaction: how many stored, all or none."""
        keys = np.array([self._room_key(connection, name, new_rooms) for name in columns.names])
        stored = _inserted_at_once(connection, rows, keys)
        if stored is None:
            stored, _ = self._write(connection, columns.measurements(), new_rooms, atomic=True)
        return stored

    def _room_key(
        self, connection: sqlite3.Connection, name: str, new_rooms: dict[str, int]
    ) -> int:
        room = self._room_keys.get(name) or new_rooms.get(name)
        if room is None:
            room = new_rooms[name] = sql.room_key(connection, name)
        return room

    async def add_each(self, measurements: Sequence[Measurement]) -> list[int]:
        _, conflicts = await self._write_committed(measurements, atomic=False)
        return conflicts

    async def _write_committed(
        self, measurements: Sequence[Measurement], *, atomic: bool
    ) -> tuple[int, list[int]]:
        new_rooms: dict[str, int] = {}
        stored, conflicts = await self._write_transaction(
            lambda connection: self._write(connection, measurements, new_rooms, atomic=atomic),
            len(measurements),
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
            room = self._room_key(connection, m.room_id, new_rooms)
            row = (room, sql.to_micros(m.ts), m.kelvin)
            if connection.execute(sql.INSERT, row).rowcount:
                stored.append((room, m.ts, m.kelvin))
            elif not same_value(
                connection.execute(sql.STORED_VALUE, row[:2]).fetchone()[0], m.kelvin
            ):
                conflicts.append(index)
        if conflicts and atomic:
            raise ConflictingMeasurements(conflicts)  # rolls the transaction back
        if stored:
            rollups = [np.array(column) for column in zip(*sql.rollup_rows(stored), strict=True)]
            many_rows.insert(connection, sql.MERGE_HEAD, sql.MERGE_TAIL, rollups)
        return len(stored), conflicts

    async def summarise(self, room_id: str, pieces: Sequence[Piece]) -> list[Summary | None]:
        def query(connection: sqlite3.Connection) -> list[Summary | None]:
            connection.execute("BEGIN")  # one snapshot for every piece
            try:
                found = connection.execute(sql.ROOM_KEY, (room_id,)).fetchone()
                return [sql.summary_of(connection, found[0], p) for p in pieces] if found else []
            finally:
                connection.execute("COMMIT")

        found = await self._read(query) if pieces else []
        return found or [None] * len(pieces)

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

    async def rooms(self, after: str | None = None, limit: int | None = None) -> list[Room]:
        rows = await self._read(
            lambda connection: connection.execute(sql.ROOMS, (after or "", limit)).fetchall()
        )
        return [Room(row[0], sql.summary(row[1:7]), row[7]) for row in rows]  # type: ignore[arg-type]

    async def summarise_rooms(
        self, room_ids: Sequence[str], pieces: Sequence[Piece]
    ) -> dict[str, Summary]:
        if not room_ids or not pieces:
            return {}
        parameters = (sql.pieces_json(pieces), json.dumps(list(room_ids)))
        rows = await self._read(
            lambda connection: connection.execute(sql.SUMMARISE_ROOMS, parameters).fetchall()
        )
        return {row[0]: sql.summary(row[1:]) for row in rows}  # type: ignore[misc]

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
        await self._read(sqlite_migrations.check_support)

    async def close(self) -> None:
        self._writer.shutdown(wait=True)
        self._readers.shutdown(wait=True)
        self._write_lock.close()
        with self._lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()


@dataclass(frozen=True, slots=True)
class _Queued(Generic[T]):
    work: Callable[[sqlite3.Connection], T]
    done: "Future[T]"
    rows: int  # measurements it writes, about
    deadline: float  # time.monotonic() by which the write lock must be ours
    patience: float  # the same, while the process holding it shows that it is alive


@dataclass(frozen=True, slots=True)
class _Rows:
    """A batch's rows in (room, ts) order, each key once, and their rollup deltas, by the
    room's place in `Columns.names`: made before the write lock is taken. `conflicting`: a
    key is repeated with another value in the batch itself (nothing else is made then)."""

    conflicting: bool
    room: Int32s
    micros: Int64s
    kelvin: Floats
    deltas: ColumnDeltas | None  # None if there are no rows, or they conflict

    @classmethod
    def of(cls, columns: Columns) -> "_Rows":
        keyed = in_key_order(columns, list(range(len(columns.names))))
        if keyed.conflicting.any():
            return cls(True, keyed.room, keyed.micros, keyed.kelvin, None)
        new = keyed.first  # a key repeated with the same value goes in once
        room, micros, kelvin = keyed.room[new], keyed.micros[new], keyed.kelvin[new]
        deltas = column_deltas(room, micros, kelvin) if len(room) else None
        return cls(False, room, micros, kelvin, deltas)


def _inserted_at_once(connection: sqlite3.Connection, rows: _Rows, keys: Int64s) -> int | None:
    """How many rows a few statements stored, with their rollups, if every key was new (as
    in most batches); None, and nothing stored, if not: the row-by-row path then says which
    rows are duplicates and which conflict."""
    if rows.conflicting:
        return None
    if rows.deltas is None:
        return 0  # an empty batch
    connection.execute("SAVEPOINT batch")
    changes = connection.total_changes
    columns = [keys[rows.room], rows.micros, rows.kelvin]
    many_rows.insert(connection, sql.INSERT_HEAD, sql.INSERT_TAIL, columns, may_repeat=True)
    if connection.total_changes - changes < len(rows.room):
        connection.execute("ROLLBACK TO batch")
        connection.execute("RELEASE batch")
        return None
    connection.execute("RELEASE batch")
    deltas = rows.deltas
    many_rows.insert(connection, sql.MERGE_HEAD, sql.MERGE_TAIL, deltas.columns(keys[deltas.room]))
    return len(rows.room)


def _in_savepoint(
    connection: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]
) -> tuple[T | None, Exception | None]:
    """(what `work` returned, None), or (None, what it raised) with its writes undone. An
    OperationalError (SQLite failing, not the request) ends the whole transaction."""
    connection.execute("SAVEPOINT work")
    try:
        result = work(connection)
    except sqlite3.OperationalError:
        raise
    except Exception as error:
        connection.execute("ROLLBACK TO work")
        connection.execute("RELEASE work")
        return None, error
    connection.execute("RELEASE work")
    return result, None


def _delete_chunk(parameters: tuple[int, int, int], connection: sqlite3.Connection) -> int:
    return int(connection.execute(sql.DELETE_RAW, parameters).rowcount)
