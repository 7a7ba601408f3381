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


def horizon(now: datetime, retention: timedelta | None) -> datetime | None:
    """Where raw measurements begin: `retention` before now, down to the hour (so that raw
    measurements are deleted whole hours at a time). None when they are kept forever."""
    return None if retention is None else floor_to(now - retention, HOUR)


async def prune_forever(
    store: MeasurementStore, retention: timedelta, clock: Callable[[], datetime]
) -> None:
    """Delete raw measurements past the horizon now, then every hour, until cancelled."""
    while True:
        cutoff = horizon(clock(), retention)
        assert cutoff is not None
        try:
            deleted = await store.delete_raw_before(cutoff)
        except StorageUnavailable as error:  # the next round will do it
            log.warning("raw retention: storage unavailable: %s", error)
        else:
            log.info(
                "raw retention: deleted %d measurements before %s", deleted, cutoff.isoformat()
            )
        await asyncio.sleep(PRUNE_EVERY.total_seconds())
