"""SQLite's one writer: writes queued at once share a commit, each in a savepoint of its own;
long work is cut into short transactions that writes go in between; and a write lock held
elsewhere is waited for until a deadline, then an outage (503)."""

import asyncio
import fcntl
import os
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from roomtemp.domain.measurements import ConflictingMeasurements, Measurement
from roomtemp.storage import StorageUnavailable, migrate
from roomtemp.storage.base import WriteResult
from roomtemp.storage.sqlite.connection import path_from_url
from roomtemp.storage.sqlite.store import PRUNE_CHUNK, SqliteStore

T0 = datetime(2026, 1, 1, tzinfo=UTC)
LOCK_TIMEOUT = 0.2  # seconds


@pytest.fixture
async def sqlite_store(sqlite_url: str) -> AsyncIterator[SqliteStore]:
    await migrate(sqlite_url)
    store = await SqliteStore.open(sqlite_url, lock_timeout=LOCK_TIMEOUT)
    yield store
    await store.close()


def at(seconds: int, room: str = "hall") -> Measurement:
    return Measurement(room, T0 + timedelta(seconds=seconds), 290.0)


async def writes_should_be_answered_while_a_large_prune_runs(sqlite_store: SqliteStore) -> None:
    old = 6 * PRUNE_CHUNK
    await sqlite_store.add([at(second) for second in range(old)])
    pruning = asyncio.create_task(sqlite_store.delete_raw_before(at(old).ts))
    written = 0
    while not pruning.done():
        await sqlite_store.add_each([at(old + written, "kitchen")])
        written += 1
    # Writes and chunks take turns on the writer. (The prune in one transaction let one
    # write through at most, the one queued before it.)
    assert written >= old // PRUNE_CHUNK
    assert await pruning == old
    assert await sqlite_store.raw("hall", T0, at(old).ts, 10) == []
    assert len(await sqlite_store.raw("kitchen", T0, at(2 * old).ts, old)) == written


async def a_write_lock_held_past_the_deadline_should_be_an_outage_not_a_hang(
    sqlite_store: SqliteStore, sqlite_url: str
) -> None:
    lock_file = path_from_url(sqlite_url).with_name("roomtemp.sqlite3.write-lock")
    with lock_file.open("ab") as elsewhere:  # another process's hold, as flock() sees it
        fcntl.flock(elsewhere, fcntl.LOCK_EX)
        writes = [sqlite_store.add_each([at(second)]) for second in range(3)]
        outcomes = await asyncio.wait_for(
            asyncio.gather(*writes, return_exceptions=True), timeout=30
        )
        assert all(isinstance(outcome, StorageUnavailable) for outcome in outcomes), outcomes
        fcntl.flock(elsewhere, fcntl.LOCK_UN)
        # The wait the writers left behind gets the lock, wanted by none: it lets it go.
        await asyncio.wait_for(asyncio.to_thread(fcntl.flock, elsewhere, fcntl.LOCK_EX), 30)
        fcntl.flock(elsewhere, fcntl.LOCK_UN)
    assert await asyncio.wait_for(sqlite_store.add_each([at(10)]), timeout=30) == []
    assert len(await sqlite_store.raw("hall", T0, at(11).ts, 10)) == 1


async def hold_alive(lock_file: Path, seconds: float) -> None:
    """Hold the write lock as another process does that is busy, not stuck: touching the
    lock file meanwhile, as WriteLock's beat does."""
    with lock_file.open("ab") as elsewhere:
        fcntl.flock(elsewhere, fcntl.LOCK_EX)
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            os.utime(lock_file)
            await asyncio.sleep(LOCK_TIMEOUT / 4)
        fcntl.flock(elsewhere, fcntl.LOCK_UN)


async def a_write_should_wait_past_its_deadline_while_the_lock_s_holder_is_busy(
    sqlite_store: SqliteStore, sqlite_url: str
) -> None:
    """A big batch in another process holds the lock for seconds: writes behind it wait for
    it, not 503 as if the database did not answer."""
    lock_file = path_from_url(sqlite_url).with_name("roomtemp.sqlite3.write-lock")
    holding = asyncio.create_task(hold_alive(lock_file, 5 * LOCK_TIMEOUT))
    await asyncio.sleep(LOCK_TIMEOUT / 4)
    writes = [sqlite_store.add_each([at(second)]) for second in range(3)]
    assert await asyncio.wait_for(asyncio.gather(*writes), timeout=30) == [[], [], []]
    await holding
    assert len(await sqlite_store.raw("hall", T0, at(3).ts, 10)) == 3


async def a_busy_holder_should_be_waited_for_no_longer_than_the_batch_deadline(
    sqlite_url: str,
) -> None:
    await migrate(sqlite_url)
    store = await SqliteStore.open(sqlite_url, lock_timeout=LOCK_TIMEOUT, batch_timeout=0.5)
    lock_file = path_from_url(sqlite_url).with_name("roomtemp.sqlite3.write-lock")
    try:
        holding = asyncio.create_task(hold_alive(lock_file, 10 * LOCK_TIMEOUT))
        await asyncio.sleep(LOCK_TIMEOUT / 4)
        began = time.monotonic()
        with pytest.raises(StorageUnavailable):
            await asyncio.wait_for(store.add_each([at(0)]), timeout=30)
        assert time.monotonic() - began >= 0.5 - LOCK_TIMEOUT / 4
        await holding
    finally:
        await store.close()


async def writes_sharing_a_commit_should_each_stand_or_fall_alone(
    sqlite_store: SqliteStore, sqlite_url: str
) -> None:
    await sqlite_store.add([at(0)])
    conflicting = [at(1, "kitchen"), Measurement("hall", T0, 291.0)]
    lock_file = path_from_url(sqlite_url).with_name("roomtemp.sqlite3.write-lock")
    with lock_file.open("ab") as elsewhere:
        # The first write waits for this lock; the two queued behind it then share a commit.
        fcntl.flock(elsewhere, fcntl.LOCK_EX)
        writing = asyncio.gather(
            sqlite_store.add([at(second, "cellar") for second in range(3)]),
            sqlite_store.add(conflicting),
            sqlite_store.add_each([at(5)]),
            return_exceptions=True,
        )
        await asyncio.sleep(LOCK_TIMEOUT / 4)
        fcntl.flock(elsewhere, fcntl.LOCK_UN)
        outcomes = await writing
    assert isinstance(outcomes[1], ConflictingMeasurements), outcomes
    assert outcomes[1].indices == [1]
    assert outcomes[0] == WriteResult(stored=3, duplicates=0)
    assert outcomes[2] == []
    assert len(await sqlite_store.raw("cellar", T0, at(3).ts, 10)) == 3
    assert await sqlite_store.raw("kitchen", T0, at(3).ts, 10) == []  # rolled back alone
    assert len(await sqlite_store.raw("hall", T0, at(6).ts, 10)) == 2
    assert not await sqlite_store.has_room("kitchen")


async def a_write_should_let_a_process_already_waiting_for_the_lock_go_first(
    sqlite_store: SqliteStore, sqlite_url: str
) -> None:
    queue_file = path_from_url(sqlite_url).with_name("roomtemp.sqlite3.write-lock-queue")
    with queue_file.open("ab") as elsewhere:
        fcntl.flock(elsewhere, fcntl.LOCK_SH)  # another process waits for the free lock
        writing = asyncio.create_task(sqlite_store.add_each([at(0)]))
        await asyncio.sleep(LOCK_TIMEOUT / 4)
        assert not writing.done()  # not taken from under the one waiting
        fcntl.flock(elsewhere, fcntl.LOCK_UN)  # that one has had the lock
        assert await asyncio.wait_for(writing, timeout=30) == []
    assert len(await sqlite_store.raw("hall", T0, at(1).ts, 10)) == 1
