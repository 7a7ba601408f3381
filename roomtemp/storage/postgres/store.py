"""PostgresStore: the production backend, through one asyncpg pool per server process."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager, suppress
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

import asyncpg
import numpy as np

from roomtemp.domain.access import (
    AccessToken,
    TokenNameTaken,
    format_scopes,
    parse_scopes,
)
from roomtemp.domain.columns import Columns, Keyed, column_deltas, in_key_order
from roomtemp.domain.measurements import ConflictingMeasurements, Measurement
from roomtemp.domain.rollups import Piece, Summary
from roomtemp.storage.base import (
    Room,
    SchemaNewerThanCode,
    SchemaOutOfDate,
    StorageUnavailable,
    WriteResult,
)
from roomtemp.storage.postgres import migrations as postgres_migrations
from roomtemp.storage.postgres import statements as sql
from roomtemp.storage.postgres.binary_copy import binary_copy
from roomtemp.storage.postgres.connection import (
    Connection,
    Pooled,
    keep_session,
    unavailable_as_storage_errors,
)
from roomtemp.storage.postgres.replica import STANDBY_FAILURES, Pool, ReadRouting
from roomtemp.storage.room_keys import RoomKeys

# Small writes (shared commits of single measurements) go in as arrays, in one statement;
# large batches as columns by binary COPY, straight into measurements if none is stored yet,
# otherwise into a staging table, then one INSERT from it.
COPY_FROM = 1000  # items
PROBE_EVERY = 0.25  # seconds between two questions to the database while a large batch runs
TIMESTAMPS = np.dtype("datetime64[us]")  # micros viewed so, binary_copy sends timestamptz
T = TypeVar("T")


def _summary(row: Sequence[Any]) -> Summary | None:
    count, total, minimum, maximum, first, last = row
    return Summary(count, total, minimum, maximum, first, last) if count else None


class PostgresStore:
    def __init__(
        self,
        pool: Pool,
        url: str,
        *,
        timeout: float,
        batch_timeout: float,
        reads: ReadRouting,
    ) -> None:
        self._pool = pool
        self._url = url
        self._reads = reads  # to a streaming standby of the pool's database while it keeps up
        self._room_keys = RoomKeys()
        # With one deadline (5 s) for everything, a frozen database took 5 to 10 s to notice
        # and a large COPY was bounded like a read. Reads (and what else should be quick)
        # have the quick deadline; writes the batch deadline, as long as the database keeps
        # answering a quick question (_watched).
        self._timeout = timeout
        self._batch_timeout = batch_timeout
        self._releasing: set[asyncio.Task[None]] = set()
        self._kept: Pooled | None = None  # see _keep
        self._resting = 0  # connections kept, or on their way back to the pool: in no use
        self._probing: asyncio.Future[None] | None = None  # see _answers
        self._probe_connection: asyncpg.Connection[asyncpg.Record] | None = None

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        pool_size: int,
        db_timeout: float,
        batch_timeout: float,
        read_url: str | None = None,
        read_max_lag: float = 0.0,
    ) -> "PostgresStore":
        """Open a pool to `url`, refusing a database whose schema is behind (SchemaOutOfDate).
        A read answers within `db_timeout` seconds, a write within `batch_timeout` as long as
        the database answers SELECT 1 within `db_timeout`; else StorageUnavailable. Reads go
        to the standby at `read_url` while it lags at most `read_max_lag` seconds."""
        options: dict[str, Any] = {
            "max_size": pool_size,
            "timeout": db_timeout,
            # A backstop: each call is bounded by its own deadline (_connection).
            "command_timeout": batch_timeout,
            "reset": keep_session,
        }
        async with unavailable_as_storage_errors():
            pool = await asyncpg.create_pool(url, min_size=1, **options)
        # min_size 0: nothing is asked of the standby before the first read.
        standby = await asyncpg.create_pool(read_url, min_size=0, **options) if read_url else None
        reads = ReadRouting(pool, standby, read_max_lag)
        store = cls(pool, url, timeout=db_timeout, batch_timeout=batch_timeout, reads=reads)
        try:
            async with store._connection(db_timeout) as connection:
                if behind := await postgres_migrations.missing(connection):
                    raise SchemaOutOfDate(behind)
                await postgres_migrations.check_support(connection)
        except (SchemaOutOfDate, SchemaNewerThanCode):
            await store.close()  # once the connection is back: close() waits for it
            raise
        return store

    async def add(self, measurements: Sequence[Measurement]) -> WriteResult:
        if len(measurements) >= COPY_FROM:
            return await self.add_columns(Columns.of(measurements))
        room = self._room_keys.get(measurements[0].room_id) if len(measurements) == 1 else None
        if room is not None:
            # One measurement is all or nothing by itself: the one statement that shared
            # commits use, in its own transaction, instead of BEGIN, INSERT and COMMIT.
            stored, conflicts = await self._watched(
                _retried_once(lambda: self._add_known(measurements, [room]))
            )
            if conflicts:
                raise ConflictingMeasurements(conflicts)
        else:
            stored = await self._watched(_retried_once(lambda: self._add(measurements)))
        return WriteResult(stored=stored, duplicates=len(measurements) - stored)

    async def _add(self, measurements: Sequence[Measurement]) -> int:
        async with self._connection(self._batch_timeout) as connection:
            async with connection.transaction():
                rooms, stored, conflicts = await self._write(connection, measurements)
                if conflicts:
                    raise ConflictingMeasurements(conflicts)  # rolls the transaction back
            self._room_keys.update(rooms)  # committed: safe to remember
        return stored

    async def add_columns(self, columns: Columns) -> WriteResult:
        if len(columns) < COPY_FROM:  # one statement (below) costs less than COPY's round trips
            return await self.add(columns.measurements())
        stored = await self._watched(_retried_once(lambda: self._add_columns(columns)))
        return WriteResult(stored=stored, duplicates=len(columns) - stored)

    async def _add_columns(self, columns: Columns) -> int:
        async with self._connection(self._batch_timeout) as connection:
            async with connection.transaction():
                rooms = await self._resolve_rooms(connection, set(columns.names))
                rows = in_key_order(columns, [rooms[name] for name in columns.names])
                stored = await self._copied(connection, rows)
                if stored is None:
                    stored, conflicts = await self._staged(connection, rows)
                    if conflicts:
                        raise ConflictingMeasurements(conflicts)  # rolls the transaction back
            self._room_keys.update(rooms)  # committed: safe to remember
        return stored

    async def add_each(self, measurements: Sequence[Measurement]) -> list[int]:
        return await self._watched(_retried_once(lambda: self._add_each(measurements)))

    async def _add_each(self, measurements: Sequence[Measurement]) -> list[int]:
        rooms = [self._room_keys.get(m.room_id) for m in measurements]
        if None in rooms or len(measurements) >= COPY_FROM:
            async with (
                self._connection(self._batch_timeout, keep=True) as connection,
                connection.transaction(),
            ):
                known, _, conflicts = await self._write(connection, measurements)
            self._room_keys.update(known)
            return conflicts
        return (await self._add_known(measurements, cast("list[int]", rooms), keep=True))[1]

    async def _add_known(
        self, measurements: Sequence[Measurement], rooms: list[int], *, keep: bool = False
    ) -> tuple[int, list[int]]:
        """(how many stored, the indices that conflict) of measurements of known rooms, written
        with their rollups by one statement, so in its own transaction: one round trip instead
        of three (BEGIN, INSERT, COMMIT). Conflicts are looked for afterwards: what conflicts
        was committed before."""
        columns = (
            rooms,
            [m.ts for m in measurements],
            [m.kelvin for m in measurements],
        )
        async with self._connection(self._batch_timeout, keep=keep) as connection:
            stored: int = await connection.fetchval(sql.INSERT_ARRAYS, *columns)
            if stored == len(measurements):
                return stored, []
            conflicts = await connection.fetch(sql.CONFLICTS_ARRAYS, *columns)
        return stored, sorted(row[0] for row in conflicts)

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
        # In (room, ts) order, the order in which every other write takes its row locks
        # (statements._WRITE): copied in request order, a newest-first batch and a shared
        # commit of the same keys each waited for the other, and PostgreSQL failed one of them
        # (a deadlock, 3 times out of 3).
        new = rows.first  # a key repeated with the same value goes in once
        room, micros, kelvin = rows.room[new], rows.micros[new], rows.kelvin[new]
        try:
            async with connection.transaction():  # a savepoint, so that failing undoes only this
                await connection.copy_to_table(
                    "measurements",
                    # Any buffer will do (asyncpg documents it), though its stubs name only files.
                    source=binary_copy(  # type: ignore[arg-type]
                        room, micros.view(TIMESTAMPS), kelvin
                    ),
                    columns=("room", "ts", "kelvin"),
                    format="binary",
                )
        except asyncpg.UniqueViolationError:
            return None
        if len(room):
            deltas = column_deltas(room, micros, kelvin)
            await connection.execute(sql.DELTAS)
            await connection.copy_to_table(
                "deltas",
                source=binary_copy(  # type: ignore[arg-type]
                    deltas.room,
                    deltas.width,
                    deltas.start.view(TIMESTAMPS),
                    deltas.count,
                    deltas.total,
                    deltas.minimum,
                    deltas.maximum,
                    deltas.first_ts.view(TIMESTAMPS),
                    deltas.last_ts.view(TIMESTAMPS),
                    deltas.last_kelvin,
                ),
                format="binary",
            )
            await connection.execute(sql.MERGE_DELTAS)
        return len(room)

    @staticmethod
    async def _staged(connection: Connection, rows: Keyed) -> tuple[int, list[int]]:
        """Every row through the staging table, in (room, ts) order: (how many stored, the
        indices that conflict)."""
        await connection.execute(sql.STAGING)
        await connection.copy_to_table(
            "staging",
            source=binary_copy(  # type: ignore[arg-type]  # (see _copied)
                rows.index, rows.room, rows.micros.view(TIMESTAMPS), rows.kelvin
            ),
            format="binary",
        )
        stored: int = await connection.fetchval(sql.INSERT_STAGED)
        if stored == len(rows.index):
            return stored, []
        return stored, sorted(row[0] for row in await connection.fetch(sql.CONFLICTS_STAGED))

    async def _resolve_rooms(self, connection: Connection, names: set[str]) -> dict[str, int]:
        """The ids of the rooms named, inserting those that are new."""
        known = {name: self._room_keys.get(name) for name in names}
        keys = {name: key for name, key in known.items() if key is not None}
        # A room another writer inserts at the same moment is invisible to this statement's
        # snapshot once its insert has waited for that writer: the next round sees it.
        while absent := sorted(names - keys.keys()):
            rows = await connection.fetch(sql.RESOLVE_ROOMS, absent)
            keys.update({row["name"]: row["id"] for row in rows})
        return keys

    async def summarise(self, room_id: str, pieces: Sequence[Piece]) -> list[Summary | None]:
        if not pieces:
            return []
        widths = [None if p.width is None else p.width // timedelta(seconds=1) for p in pieces]
        starts, stops = [p.start for p in pieces], [p.end for p in pieces]
        rows = await self._read(
            lambda connection: connection.fetch(sql.SUMMARISE, room_id, widths, starts, stops)
        )
        return [_summary(row[1:]) for row in sorted(rows, key=lambda row: row[0])]

    async def buckets(
        self, room_id: str, width: timedelta, start: datetime, end: datetime
    ) -> list[tuple[datetime, Summary]]:
        seconds = width // timedelta(seconds=1)
        rows = await self._read(
            lambda connection: connection.fetch(sql.BUCKETS, room_id, seconds, start, end)
        )
        return [(row[0], _summary(row[1:])) for row in rows]  # type: ignore[misc]

    async def raw(
        self, room_id: str, start: datetime, end: datetime, limit: int
    ) -> list[tuple[datetime, float]]:
        rows = await self._read(
            lambda connection: connection.fetch(sql.RAW, room_id, start, end, limit)
        )
        return [(row[0], row[1]) for row in rows]

    async def rooms(self, after: str | None = None, limit: int | None = None) -> list[Room]:
        rows = await self._read(lambda connection: connection.fetch(sql.ROOMS, after or "", limit))
        return [Room(row[0], _summary(row[1:7]), row[7]) for row in rows]  # type: ignore[arg-type]

    async def summarise_rooms(
        self, room_ids: Sequence[str], pieces: Sequence[Piece]
    ) -> dict[str, Summary]:
        if not room_ids or not pieces:
            return {}
        widths = [None if p.width is None else p.width // timedelta(seconds=1) for p in pieces]
        starts, stops = [p.start for p in pieces], [p.end for p in pieces]
        names = list(room_ids)
        rows = await self._read(
            lambda connection: connection.fetch(sql.SUMMARISE_ROOMS, names, widths, starts, stops)
        )
        return {row[0]: _summary(row[1:]) for row in rows}  # type: ignore[misc]

    async def has_room(self, room_id: str) -> bool:
        found = await self._read(
            lambda connection: connection.fetchval("SELECT 1 FROM rooms WHERE name = $1", room_id)
        )
        return found is not None

    async def delete_raw_before(self, cutoff: datetime) -> int:
        deleted = 0
        async with self._connection(self._timeout) as connection:
            rooms = await connection.fetch("SELECT id FROM rooms")
        for (room,) in rooms:
            while True:
                async with self._connection(self._batch_timeout) as connection:
                    status = await connection.execute(sql.DELETE_RAW, room, cutoff)
                if not (count := int(status.split()[-1])):
                    break
                deleted += count
        return deleted

    async def add_token(self, token: AccessToken) -> None:
        row = (token.token_id, token.name, format_scopes(token.scopes), token.digest, token.created)
        async with self._connection(self._timeout) as connection:
            status = await connection.execute(sql.INSERT_TOKEN, *row)
        if status.endswith(" 0"):
            raise TokenNameTaken(token.name)

    async def tokens(self) -> list[AccessToken]:
        async with self._connection(self._timeout) as connection:
            rows = await connection.fetch(sql.TOKENS)
        return [
            AccessToken(row[0], row[1], parse_scopes(row[2].split()), row[3], row[4])
            for row in rows
        ]

    async def revoke_token(self, name: str) -> bool:
        async with self._connection(self._timeout) as connection:
            status = await connection.execute(sql.REVOKE_TOKEN, name)
        return not status.endswith(" 0")

    async def check(self) -> None:
        async with self._connection(self._timeout) as connection:
            await postgres_migrations.check_support(connection)

    async def close(self) -> None:
        if self._kept is not None:  # its give_back, still to come, counts it as taken up
            self._release_later(self._pool, self._kept)
            self._kept = None
        await asyncio.gather(*self._releasing)
        if self._probe_connection is not None:
            await self._probe_connection.close()
        await self._reads.close()
        await self._pool.close()

    async def _watched(self, work: Coroutine[Any, Any, T]) -> T:
        """A write (`work`, bounded by the batch deadline), given up as soon as the database
        fails to answer a quick question meanwhile. A write may rightly take long: a large
        batch, or a single write waiting for the row locks of one (a 503 for a whole shared
        commit, with one deadline for both); a database that does not answer SELECT 1 in time
        is frozen or gone, and every write learns it within PROBE_EVERY + the quick deadline.
        `work` runs in the caller's task, watched by a timer, as asyncio.timeout() does: a
        task of its own and asyncio.wait() cost 12 us of the 160 us of client CPU a shared
        commit of 7 took (measured), and a task of its own would give its connection back to
        the pool before the writer comes back with the next group (_connection's keep)."""
        loop = asyncio.get_running_loop()
        writer = asyncio.current_task()
        assert writer is not None  # a coroutine awaited by a task, as every caller is
        failure: list[BaseException] = []  # why the write was given up, if it was
        watch: list[asyncio.TimerHandle | asyncio.Future[None]] = []

        def ask() -> None:
            probe = asyncio.ensure_future(self._answers())
            probe.add_done_callback(judge)
            watch.append(probe)

        def judge(probe: "asyncio.Future[None]") -> None:
            if not watch or watch[-1] is not probe:  # the write ended meanwhile
                return
            if (error := probe.exception()) is None:
                watch.append(loop.call_later(PROBE_EVERY, ask))
            else:
                failure.append(error)
                writer.cancel()

        watch.append(loop.call_later(PROBE_EVERY, ask))
        try:
            return await work
        except asyncio.CancelledError:
            if failure and writer.uncancel() == 0:  # cancelled here, not by the caller
                raise failure[0] from None
            raise
        finally:
            watch.pop().cancel()
            watch.clear()  # nothing is judged after the write

    async def _answers(self) -> None:
        """Return once the database answers SELECT 1; StorageUnavailable if not in time. One
        question at a time, whose answer every write waiting meanwhile shares."""
        if self._probing is None or self._probing.done():
            self._probing = asyncio.ensure_future(self._probe())
        await asyncio.shield(self._probing)

    async def _probe(self) -> None:
        """SELECT 1 on a connection kept for the question (never one of the pool's, which may
        all be busy), within the quick deadline."""
        try:
            async with unavailable_as_storage_errors(), asyncio.timeout(self._timeout):
                if self._probe_connection is None or self._probe_connection.is_closed():
                    self._probe_connection = await asyncpg.connect(self._url)
                try:
                    await self._probe_connection.fetchval("SELECT 1")
                except (asyncpg.InterfaceError, asyncpg.PostgresConnectionError):
                    # Ended by the server since the last question (a restart, an operator's
                    # pg_terminate_backend): ask on a new one.
                    self._probe_connection = await asyncpg.connect(self._url)
                    await self._probe_connection.fetchval("SELECT 1")
        except StorageUnavailable:
            if self._probe_connection is not None:
                self._probe_connection.terminate()  # its cancel would wait on a frozen server
                self._probe_connection = None
            raise

    async def _read(self, query: Callable[[Pooled], Awaitable[T]]) -> T:
        """`query` on a connection to the standby while it keeps up, else to the primary; a
        query the standby fails is asked of the primary: older data at worst, no error."""
        if standby := await self._reads.standby():
            try:
                async with self._connection(self._timeout, standby) as connection:
                    return await query(connection)
            except STANDBY_FAILURES as error:
                self._reads.fall_back(error)
        async with self._connection(self._timeout) as connection:
            return await query(connection)

    @asynccontextmanager
    async def _connection(
        self, within: float, pool: "Pool | None" = None, *, keep: bool = False
    ) -> AsyncIterator[Pooled]:
        """A connection of `pool` (by default the primary's) for work to be done within
        `within` seconds, waiting for the pool included; past it, StorageUnavailable. With
        `keep`, the connection the last such call kept, if it is still there: see _keep."""
        pool = pool or self._pool
        async with unavailable_as_storage_errors(), asyncio.timeout(within) as deadline:
            connection, self._kept = (self._kept, None) if keep else (None, self._kept)
            if connection is None or connection.is_closed():
                if connection is not None:
                    await pool.release(connection)  # the pool replaces it
                connection = await pool.acquire()
            try:
                yield connection
            except BaseException as error:
                if deadline.expired() or isinstance(error, asyncio.CancelledError):
                    self._release_later(pool, connection)  # a statement may still be running
                else:
                    await pool.release(connection)
                raise
            if keep and self._kept is None:
                self._keep(connection)
            else:
                await pool.release(connection)

    def _keep(self, connection: Pooled) -> None:
        """Keep `connection` for the next shared commit if it comes before the event loop
        turns, else give it back to the pool. Under load the writer takes its next group as
        soon as the last is committed, in the same turn of the loop: one acquire and release
        for a burst of groups instead of one each (43 us of the 160 us of client CPU a group
        of 7 took, measured). Idle, the connection goes back to the pool at once."""
        self._kept = connection
        self._resting += 1  # in no caller's hands until the writer takes it up again

        def give_back() -> None:
            if self._kept is connection:  # not taken up meanwhile
                self._kept = None
                self._release_later(self._pool, connection, resting=True)
            else:
                self._resting -= 1

        asyncio.get_running_loop().call_soon(give_back)

    def _release_later(self, pool: Pool, connection: Pooled, *, resting: bool = False) -> None:
        """Give back a connection in the background: one kept for a shared commit that did not
        come, or one whose statement ran out of time or was given up (asyncpg then first waits
        for PostgreSQL to acknowledge the cancel request, which a frozen server never does;
        then it closes the connection), which the caller must not wait for."""

        async def release() -> None:
            try:
                with suppress(StorageUnavailable):
                    async with unavailable_as_storage_errors():
                        await pool.release(connection, timeout=self._timeout)
            finally:
                self._resting -= resting

        task = asyncio.create_task(release())
        self._releasing.add(task)
        task.add_done_callback(self._releasing.discard)

    def pool_use(self) -> dict[str, int]:
        """Connections of the pool by state: max allowed, open now, in_use by a caller."""
        open_now = self._pool.get_size()
        in_use = open_now - self._pool.get_idle_size() - self._resting
        return {"max": self._pool.get_max_size(), "open": open_now, "in_use": in_use}


# PostgreSQL ends one of two transactions that wait for each other (deadlock_detected), or
# one that could not be serialised, and the other goes on: the one ended is safe to run again,
# and then almost always passes. Writes take their locks in one order, so this is a safety
# net; twice in a row is an outage to the caller (503, retry later), never a 500.
_RETRYABLE = (asyncpg.DeadlockDetectedError, asyncpg.SerializationError)


async def _retried_once(transaction: Callable[[], Awaitable[T]]) -> T:
    try:
        return await transaction()
    except _RETRYABLE:
        pass
    try:
        return await transaction()
    except _RETRYABLE as error:
        raise StorageUnavailable(f"PostgreSQL ended the transaction twice: {error}") from error
