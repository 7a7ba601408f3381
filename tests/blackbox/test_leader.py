"""Retention pruning runs in one instance of three at a time, and passes to another when that
instance is killed (kill -9: no shutdown runs, PostgreSQL alone notices the session is gone)."""

import asyncio
import os
import signal
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import asyncpg

from roomtemp.domain.measurements import EARLIEST, LATEST, Measurement
from roomtemp.storage import migrate, open_store
from roomtemp.storage.postgres.leader import APPLICATION_NAME
from tests.blackbox.server import Server, running_server

INSTANCES = 3
OLD_ROOM = "pruned"
T = TypeVar("T")


async def lock_holders(url: str) -> tuple[list[int], int]:
    """(the process ids of the roomtemp processes holding the leader lock, how many wait)."""
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT activity.application_name, locks.granted FROM pg_locks locks"
            " JOIN pg_stat_activity activity USING (pid)"
            " WHERE locks.locktype = 'advisory' AND activity.application_name LIKE $1",
            f"{APPLICATION_NAME} %",
        )
    finally:
        await connection.close()
    holders = [int(row[0].rsplit(" ", 1)[1]) for row in rows if row[1]]
    return holders, sum(not row[1] for row in rows)


async def old_measurements(url: str) -> int:
    store = await open_store(url, pool_size=1)
    try:
        return len(await store.raw(OLD_ROOM, EARLIEST, LATEST, 100))
    finally:
        await store.close()


async def store_old_measurement(url: str) -> None:
    """Older than the retention, written past the HTTP checks, as if written before it began."""
    store = await open_store(url, pool_size=1)
    try:
        at = datetime.now(UTC) - timedelta(days=3)
        await store.add([Measurement(OLD_ROOM, at, 290.0)])
    finally:
        await store.close()


def wait_for(check: Callable[[], T], until: Callable[[T], bool], timeout: float = 60.0) -> T:
    deadline = time.monotonic() + timeout
    while not until(found := check()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return found


def instance_of(pid: int, servers: list[Server]) -> Server:
    """The instance whose process group the process is in (a worker of it, or itself)."""
    group = os.getpgid(pid)
    return next(server for server in servers if server.process.pid == group)


def leader_should_pass_to_another_instance_when_it_is_killed(
    postgres_url: str, tmp_path: Path, report: Callable[[str], None]
) -> None:
    asyncio.run(migrate(postgres_url))
    environment = {"ROOMTEMP_RAW_RETENTION": "P1D"}
    with ExitStack() as stack:
        log = stack.enter_context((tmp_path / "servers.log").open("wb"))
        servers = [
            stack.enter_context(
                running_server(postgres_url, env=environment, stderr=log, own_group=True)
            )
            for _ in range(INSTANCES)
        ]
        holders, waiting = wait_for(
            lambda: asyncio.run(lock_holders(postgres_url)), lambda found: found[1] == 2
        )
        assert (len(holders), waiting) == (1, INSTANCES - 1)
        first = instance_of(holders[0], servers)

        asyncio.run(store_old_measurement(postgres_url))
        killed_at = time.monotonic()
        os.killpg(first.process.pid, signal.SIGKILL)
        first.process.wait(timeout=10)
        holders, waiting = wait_for(
            lambda: asyncio.run(lock_holders(postgres_url)),
            lambda found: len(found[0]) == 1 and found[1] == 1,
        )
        taken_over_after = time.monotonic() - killed_at
        assert (len(holders), waiting) == (1, 1)
        second = instance_of(holders[0], servers)
        assert second is not first
        assert second.process.poll() is None

        # The new leader prunes as it takes over: the measurement past the retention goes.
        left = wait_for(lambda: asyncio.run(old_measurements(postgres_url)), lambda n: n == 0)
        assert left == 0
    report(f"leader lock taken over {taken_over_after:.2f} s after kill -9 of its holder")


async def end_sessions_of(url: str, pid: int) -> None:
    """What a network cut or a DBA does: the database ends the process's leader session."""
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
            f"{APPLICATION_NAME} {pid}",
        )
    finally:
        await connection.close()


async def waiters(url: str) -> set[str]:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT activity.application_name FROM pg_locks locks"
            " JOIN pg_stat_activity activity USING (pid)"
            " WHERE locks.locktype = 'advisory' AND NOT locks.granted"
        )
    finally:
        await connection.close()
    return {row[0] for row in rows}


def leader_should_step_down_and_wait_again_when_its_session_ends(
    postgres_url: str, tmp_path: Path
) -> None:
    asyncio.run(migrate(postgres_url))
    environment = {"ROOMTEMP_RAW_RETENTION": "P1D"}
    with ExitStack() as stack:
        log = stack.enter_context((tmp_path / "servers.log").open("wb"))
        for _ in range(INSTANCES):
            stack.enter_context(running_server(postgres_url, env=environment, stderr=log))
        holders, _ = wait_for(
            lambda: asyncio.run(lock_holders(postgres_url)), lambda found: found[1] == 2
        )
        first = holders[0]
        asyncio.run(end_sessions_of(postgres_url, first))
        # Another takes the lock at once; the first notices its session is gone, and waits.
        found = wait_for(
            lambda: asyncio.run(waiters(postgres_url)),
            lambda names: f"{APPLICATION_NAME} {first}" in names,
        )
        assert f"{APPLICATION_NAME} {first}" in found
        holders, waiting = asyncio.run(lock_holders(postgres_url))
        assert len(holders) == 1
        assert holders[0] != first
        assert waiting == INSTANCES - 1
    assert b"leader lock lost with the database session" in (tmp_path / "servers.log").read_bytes()
