"""Opening, locking and migrating the SQLite file: one place for how roomtemp touches it."""

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO

from roomtemp.storage.base import StorageUnavailable
from roomtemp.storage.sqlite import migrations as sqlite_migrations


def path_from_url(url: str) -> Path:
    """sqlite:///relative/file or sqlite:////absolute/file, as SQLAlchemy spells them."""
    return Path(url.removeprefix("sqlite:///"))


def connect(path: Path, lock_timeout: float = 5.0) -> sqlite3.Connection:
    # isolation_level=None: no implicit transactions; each one is an explicit BEGIN ... COMMIT.
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    # Several processes share the file: wait for a lock instead of failing, for a while.
    connection.execute(f"PRAGMA busy_timeout = {round(lock_timeout * 1000)}")
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


@contextmanager
def transaction(connection: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE (the write lock, taken before reading), COMMIT, or ROLLBACK on error."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


class WriteLock:
    """An exclusive lock on a file beside the database, held around each write transaction.

    SQLite makes a writer that finds the database locked sleep and retry (busy_timeout), which
    is not fair: with two server processes writing all the time, one of them waited past the 5 s
    timeout (a 503 and a p99 of 4.5 s in make bench). flock() queues waiters in the kernel
    instead, and writes are one at a time anyway.

    But flock() hands nothing over: a process that lets the lock go and takes it again at
    once (its next write was queued) beat the other one's waiter, woken but not yet running, on
    a busy machine for seconds, and that one's writes gave up with 503s (make bench, singles
    beside big batches). So a process that waits holds a second lock, the queue file, shared
    while it waits; one that would take the lock while another waits lets those waiting go
    first.

    flock() itself waits forever, and a lock held by a stuck process stalled every write. So a
    wait happens in a thread of its own, which the writer gives up on at its deadline (a 503);
    the wait goes on, keeping its place for the next write, and a lock that comes when no write
    wants it any more is let go at once.

    But a holder is not always stuck: a 100,000-row batch holds the lock for a second or more,
    and single writes behind it got 503s saying the database did not answer (make bench). So
    a holder shows that it is alive, touching the lock file every quarter of `alive_within`
    from a thread of its own (which stops with the process, and cannot run while it hangs
    holding the GIL); a writer whose deadline passes while the file was touched within
    `alive_within` waits on, until its `patience` (the batch deadline), as PostgreSQL's
    writers do while the database answers."""

    def __init__(self, path: Path, alive_within: float = 1.0) -> None:
        self._path = path
        self._alive_within = alive_within
        self._holding = threading.Event()
        self._closed = threading.Event()
        self._beating = False
        self._queue_path = path.with_name(path.name + "-queue")
        self._file: IO[bytes] | None = None
        self._queue: IO[bytes] | None = None
        self._mutex = threading.RLock()  # a wait's end (another thread) against a writer
        self._waiting: Future[None] | None = None  # a flock() blocked in the kernel
        self._wanted = False  # whether a writer waits for that flock()

    @contextmanager
    def held(self, deadline: float, patience: float | None = None) -> Iterator[None]:
        """The lock, until the block ends; StorageUnavailable if it is not ours by `deadline`
        (time.monotonic()), or by `patience` while its holder shows that it is alive."""
        file = self._acquire(deadline, deadline if patience is None else patience)
        self._holding.set()
        os.utime(file.fileno())  # alive from the start, whatever the beat's phase
        try:
            yield
        finally:
            self._holding.clear()
            fcntl.flock(file, fcntl.LOCK_UN)

    def _beat(self) -> None:
        """Touch the lock file while this process holds the lock (see the class)."""
        while not self._closed.wait(self._alive_within / 4):
            file = self._file
            if self._holding.is_set() and file is not None:
                with suppress(OSError, ValueError):  # (closed meanwhile)
                    os.utime(file.fileno())

    def _holder_alive(self) -> bool:
        try:
            touched = os.stat(self._path).st_mtime
        except OSError:
            return False
        return time.time() - touched < self._alive_within

    def _acquire(self, deadline: float, patience: float) -> IO[bytes]:
        if self._file is None or self._queue is None:
            self._file = self._path.open("ab")
            self._queue = self._queue_path.open("ab")
        if not self._beating:
            self._beating = True
            threading.Thread(target=self._beat, name="sqlite-write-lock-beat", daemon=True).start()
        file, queue = self._file, self._queue
        with self._mutex:
            self._wanted = True
            if self._waiting is None:
                if _nobody_waits(queue) and _taken_at_once(file):
                    self._wanted = False
                    return file  # free: the usual case, with no thread
                self._waiting = _in_a_thread(lambda: _wait_in_turn(file, queue))
                self._waiting.add_done_callback(self._unless_wanted)
            waiting = self._waiting
        with suppress(TimeoutError):
            waiting.result(timeout=max(0.0, deadline - time.monotonic()))
        while not waiting.done() and time.monotonic() < patience and self._holder_alive():
            with suppress(TimeoutError):
                step = min(self._alive_within / 4, patience - time.monotonic())
                waiting.result(timeout=max(0.0, step))
        with self._mutex:
            self._wanted = False
            if waiting.done():
                self._waiting = None
                waiting.result()  # an OSError, if flock() failed
                return file
        raise StorageUnavailable("SQLite is unavailable: another process holds the write lock")

    def _unless_wanted(self, waiting: "Future[None]") -> None:
        with self._mutex:
            if self._wanted:
                return  # the writer waiting takes it
            self._waiting = None
            if waiting.exception() is None and self._file is not None:
                fcntl.flock(self._file, fcntl.LOCK_UN)

    def close(self) -> None:
        self._closed.set()
        with self._mutex:
            for file in (self._file, self._queue):
                if file is not None:
                    file.close()
            self._file = self._queue = None


def _nobody_waits(queue: IO[bytes]) -> bool:
    """Whether no process waits for the lock (each holds the queue file shared meanwhile)."""
    try:
        fcntl.flock(queue, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    fcntl.flock(queue, fcntl.LOCK_UN)
    return True


def _taken_at_once(file: IO[bytes]) -> bool:
    try:
        fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _wait_in_turn(file: IO[bytes], queue: IO[bytes]) -> None:
    """Take the lock once those waiting already have had it, holding the queue shared while
    waiting (as they do)."""
    fcntl.flock(queue, fcntl.LOCK_EX)  # until those waiting before hold the lock
    fcntl.flock(queue, fcntl.LOCK_SH)
    try:
        fcntl.flock(file, fcntl.LOCK_EX)
    finally:
        fcntl.flock(queue, fcntl.LOCK_UN)


def _in_a_thread(call: Callable[[], None]) -> "Future[None]":
    """Run `call` in a daemon thread: one blocked forever must not keep the process alive
    (an executor's threads are joined at exit)."""
    future: Future[None] = Future()

    def run() -> None:
        try:
            call()
        except BaseException as error:
            future.set_exception(error)
        else:
            future.set_result(None)

    threading.Thread(target=run, name="sqlite-write-lock", daemon=True).start()
    return future


def migrate_database(url: str, upto: int | None = None) -> list[str]:
    """Create the database at `url` if need be, and apply its pending migrations."""
    path = path_from_url(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = connect(path)
    try:
        return sqlite_migrations.migrate(connection, upto)
    finally:
        connection.close()
