"""Jobs that must run once per deployment (retention pruning) run in the one process that holds
a session-level advisory lock, on a connection of its own. PostgreSQL releases such a lock when
its session ends, however the holder ended (exit, kill -9, a cut cable once the server notices),
and one of the processes waiting on it takes it: nothing to expire or elect by hand.

Between the holder losing its session and noticing it (at most CHECK_EVERY) its job may overlap
the next leader's: jobs run this way must be idempotent, as a DELETE of what is past a horizon is.
"""

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable

import asyncpg

from roomtemp.storage.base import StorageUnavailable
from roomtemp.storage.postgres.connection import unavailable_as_storage_errors

log = logging.getLogger("roomtemp.leader")
# Two keys: "room", then the schema's hash, so that deployments in separate schemas of one
# database each have a leader of their own.
LEADER_LOCK = 0x726F6F6D
CHECK_EVERY = 5.0  # seconds between checks that the session, and so the lock, is still there
RETRY_EVERY = 5.0  # seconds before connecting again after losing the database
APPLICATION_NAME = "roomtemp leader"  # with the process id: pg_stat_activity names the leader


async def lead(url: str, job: Callable[[], Awaitable[None]]) -> None:
    """Run `job` whenever this process holds the leader lock, waiting for the lock while
    another process holds it; until cancelled."""
    while True:
        try:
            async with unavailable_as_storage_errors():
                connection = await asyncpg.connect(
                    url, server_settings={"application_name": f"{APPLICATION_NAME} {os.getpid()}"}
                )
        except StorageUnavailable as error:
            log.warning("leader lock: cannot connect: %s", error)
            await asyncio.sleep(RETRY_EVERY)
            continue
        try:
            async with unavailable_as_storage_errors():
                # Waits, in the server, for as long as another session holds it.
                await connection.execute(
                    "SELECT pg_advisory_lock($1, hashtext(current_schema()))", LEADER_LOCK
                )
                log.info("leader lock taken: this process runs the periodic jobs")
                await _while_held(connection, job)
        except StorageUnavailable as error:
            log.warning("leader lock lost with the database session: %s", error)
        finally:
            connection.terminate()  # ends the session, and so the lock, without a round trip
        await asyncio.sleep(RETRY_EVERY)


async def _while_held(
    connection: "asyncpg.Connection[asyncpg.Record]", job: Callable[[], Awaitable[None]]
) -> None:
    """Run `job` until it ends or the session holding the lock is found gone."""
    running = asyncio.ensure_future(job())
    try:
        while not running.done():
            await asyncio.wait({running}, timeout=CHECK_EVERY)
            await connection.fetchval("SELECT 1", timeout=CHECK_EVERY)
        running.result()
    finally:
        running.cancel()
