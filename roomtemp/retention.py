"""Optional raw retention: raw measurements older than the horizon are deleted, rollups kept.

Windows reaching before the horizon are then answered to the hour (see domain/rollups.plan).
"""

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from roomtemp.domain.rollups import HOUR, floor_to
from roomtemp.storage.base import MeasurementStore, StorageUnavailable

log = logging.getLogger("roomtemp.retention")
PRUNE_EVERY = timedelta(hours=1)
# The pruner deletes up to the horizon of PRUNE_LAG ago, never the horizon of now. A write is
# checked against the horizon when it is validated and committed moments later (its database
# deadlines are seconds): had the pruner's cutoff passed that horizon in between, a measurement
# deleted meanwhile could be stored again and counted twice in its rollups, for ever. The lag
# also absorbs clocks of processes (workers, instances) that disagree by less than it, and a
# clock set back by less than it.
PRUNE_LAG = timedelta(hours=1)


def horizon(now: datetime, retention: timedelta | None) -> datetime | None:
    """Where raw measurements begin: `retention` before now, down to the hour (so that raw
    measurements are deleted whole hours at a time). None when they are kept forever.
    Writes with a ts before it are refused; reads answer to the hour before it."""
    return None if retention is None else floor_to(now - retention, HOUR)


def prune_cutoff(now: datetime, retention: timedelta) -> datetime:
    """What the pruner may delete: raw measurements before this. Never past the horizon that
    any write validated up to PRUNE_LAG earlier was checked against."""
    cutoff = horizon(now - PRUNE_LAG, retention)
    assert cutoff is not None
    return cutoff


async def prune_forever(
    store: MeasurementStore, retention: timedelta, clock: Callable[[], datetime]
) -> None:
    """Delete raw measurements past the horizon now, then every hour, until cancelled."""
    while True:
        cutoff = prune_cutoff(clock(), retention)
        try:
            deleted = await store.delete_raw_before(cutoff)
        except StorageUnavailable as error:  # the next round will do it
            log.warning("raw retention: storage unavailable: %s", error)
        else:
            log.info(
                "raw retention: deleted %d measurements before %s", deleted, cutoff.isoformat()
            )
        await asyncio.sleep(PRUNE_EVERY.total_seconds())
