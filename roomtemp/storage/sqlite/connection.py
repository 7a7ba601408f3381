"""Opening, locking and migrating the SQLite file: one place for how roomtemp touches it."""

import fcntl
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from roomtemp.storage.sqlite import migrations as sqlite_migrations

BUSY_TIMEOUT_MS = 5000


def path_from_url(url: str) -> Path:
    """sqlite:///relative/file or sqlite:////absolute/file, as SQLAlchemy spells them."""
    return Path(url.removeprefix("sqlite:///"))


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
    instead, and writes are one at a time anyway."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._file: IO[bytes] | None = None

    def __enter__(self) -> None:
        if self._file is None:
            self._file = open(self._path, "ab")
        fcntl.flock(self._file, fcntl.LOCK_EX)

    def __exit__(self, *_: object) -> None:
        assert self._file is not None
        fcntl.flock(self._file, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def migrate_database(url: str, upto: int | None = None) -> list[str]:
    """Create the database at `url` if need be, and apply its pending migrations."""
    path = path_from_url(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = connect(path)
    try:
        return sqlite_migrations.migrate(connection, upto)
    finally:
        connection.close()
