"""What runs while the app serves: the store opened (unless one was given), single writes
recorded, raw measurements pruned (by one instance of the deployment at a time), pool use
sampled, tokens kept fresh, an MQTT broker subscribed to (if one is configured). All of it is
gathered into the app's Services at start, and stopped in reverse order at the end."""

import asyncio
import gc
from collections.abc import AsyncIterator, Coroutine
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from functools import partial
from typing import Any

from fastapi import FastAPI

from roomtemp import ingestion
from roomtemp.http.auth import Gatekeeper, tokens_kept_fresh
from roomtemp.http.metrics import Metrics, pool_sampling
from roomtemp.http.services import Clock, Services
from roomtemp.mqtt.subscriber import subscribed
from roomtemp.retention import prune_forever
from roomtemp.settings import Settings
from roomtemp.storage import MeasurementStore, open_store, run_once_per_deployment


@asynccontextmanager
async def serving(
    app: FastAPI,
    *,
    settings: Settings,
    store: MeasurementStore | None,
    clock: Clock,
    metrics: Metrics,
    gatekeeper: Gatekeeper,
) -> AsyncIterator[None]:
    """The lifespan of create_app's app. A store passed in belongs to the caller: it is
    neither opened nor closed here."""
    async with AsyncExitStack() as running:
        running.callback(metrics.flush)  # last: the counts of the last turn, MQTT's included
        if store is None:
            store = await open_store(
                settings.database_url,
                pool_size=settings.db_pool_size,
                db_timeout=settings.db_timeout,
                batch_timeout=settings.db_batch_timeout,
                read_url=settings.database_read_url,
                read_max_lag=settings.read_max_lag.total_seconds(),
            )
            running.push_async_callback(store.close)
        # Closed before the store: what is queued is committed first.
        record = await running.enter_async_context(ingestion.recording(store, settings))
        if settings.raw_retention:
            prune = partial(prune_forever, store, settings.raw_retention, clock)
            leading = run_once_per_deployment(settings.database_url, prune)
            await running.enter_async_context(in_background(leading))
        await running.enter_async_context(pool_sampling(metrics, store))
        await running.enter_async_context(
            tokens_kept_fresh(gatekeeper, store, settings.token_refresh)
        )
        limits = ingestion.Limits(
            settings.max_kelvin, settings.max_future_skew, settings.raw_retention
        )
        # Stopped before the recorder: its last commits are acknowledged to the broker.
        mqtt = await running.enter_async_context(
            subscribed(settings, record, clock, limits, metrics)
        )
        app.state.services = Services(settings, store, record, clock, limits, metrics, mqtt)
        # What start-up built (FastAPI's models and schema, the modules, the store) is frozen
        # out of the garbage collector: a full collection walked it for ~42 ms, the p99 of the
        # year's series reads in make bench (p50 6-10 ms); frozen, one takes ~1.5 ms.
        gc.freeze()
        running.callback(gc.unfreeze)
        yield


@asynccontextmanager
async def in_background(job: Coroutine[Any, Any, None]) -> AsyncIterator[None]:
    """`job` runs as a task until the end of the block, then is cancelled."""
    task = asyncio.create_task(job)
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
