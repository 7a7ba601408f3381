"""Reads from a streaming standby (ROOMTEMP_DATABASE_READ_URL) while it keeps up with the
primary; from the primary when it lags more than the allowed lag, is down, or is no standby.

The lag is measured at most every LAG_CHECK_EVERY, not per read: the standby's replay position
against the primary's WAL position, and when it is behind, how old the last transaction it
replayed is. A read that fails on the standby is answered by the primary, and the standby is
left alone until the next check: a client sees older data at worst, never an error.
"""

import asyncio
import logging
import time
from typing import TypeAlias

import asyncpg

from roomtemp.storage.base import StorageUnavailable
from roomtemp.storage.postgres.connection import unavailable_as_storage_errors

log = logging.getLogger("roomtemp.replica")
LAG_CHECK_EVERY = 1.0  # seconds a verdict on the standby is trusted
LAG_CHECK_TIMEOUT = 1.0  # seconds: a standby slower than this to say its lag is not used
# Seconds behind: 0 when it has replayed all the primary had written when asked; NULL when
# it is no standby (promoted, or pointed at a primary) or has replayed nothing yet.
_LAG = """
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN NULL
    WHEN pg_last_wal_replay_lsn() >= $1::text::pg_lsn THEN 0.0
    ELSE extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8
END
"""
# Why a read on the standby may fail where the primary would answer: the standby is down or
# frozen, or it cancelled the query because replay had to remove rows it was reading
# ("conflict with recovery").
STANDBY_FAILURES = (StorageUnavailable, asyncpg.SerializationError)
Pool: TypeAlias = "asyncpg.Pool[asyncpg.Record]"


class ReadRouting:
    """Which pool reads go to: the standby's while it keeps up, else the primary's."""

    def __init__(self, primary: Pool, standby: "Pool | None", max_lag: float) -> None:
        self._primary = primary
        self._standby = standby
        self._max_lag = max_lag
        self._use_standby = False
        self._next_check = 0.0

    async def standby(self) -> "Pool | None":
        """The standby's pool while reads may go there; None: read from the primary."""
        if self._standby is None:
            return None
        now = time.monotonic()
        if now >= self._next_check:
            self._next_check = now + LAG_CHECK_EVERY  # the reads meanwhile keep the verdict
            lag = await self._measure_lag(self._standby)
            usable = lag is not None and lag <= self._max_lag
            if usable != self._use_standby:
                where = "read replica" if usable else "primary"
                log.warning("reading from the %s (replica lag: %s s)", where, lag)
            self._use_standby = usable
        return self._standby if self._use_standby else None

    def fall_back(self, error: Exception) -> None:
        """A read failed on the standby: the primary takes reads until the next check."""
        log.warning("read replica failed, reading from the primary: %s", error)
        self._use_standby = False
        self._next_check = time.monotonic() + LAG_CHECK_EVERY

    async def close(self) -> None:
        if self._standby is not None:
            await self._standby.close()

    async def _measure_lag(self, standby: Pool) -> float | None:
        try:
            async with asyncio.timeout(LAG_CHECK_TIMEOUT), unavailable_as_storage_errors():
                position = await self._primary.fetchval("SELECT pg_current_wal_lsn()::text")
                lag: float | None = await standby.fetchval(_LAG, position)
        except (*STANDBY_FAILURES, asyncpg.PostgresError, TimeoutError) as error:
            log.debug("read replica lag unknown: %s", error)
            return None
        return lag
