"""create_app(): the composition root. Settings, store and clock meet here, and nowhere else."""

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI

from roomtemp import __version__, ingestion
from roomtemp.http import openapi, problems
from roomtemp.http.auth import AccessMiddleware, Gatekeeper, tokens_kept_fresh
from roomtemp.http.dependencies import Clock, system_clock
from roomtemp.http.metrics import Metrics, pool_sampling
from roomtemp.http.routes import dashboard, health, measurements, rooms, summaries
from roomtemp.http.telemetry import TelemetryMiddleware
from roomtemp.mqtt.subscriber import subscribed
from roomtemp.retention import prune_forever
from roomtemp.settings import Settings
from roomtemp.storage import MeasurementStore, backend_of, open_store
from roomtemp.storage.shared_commits import SharedCommits


def shares_commits(settings: Settings) -> bool:
    """Measured (make bench): shared commits pay where a commit costs a flush to disk, and
    cost ~20 us per request where it costs nothing (memory://)."""
    if settings.shared_commits is not None:
        return settings.shared_commits
    return backend_of(settings.database_url) != "memory"


def create_app(
    settings: Settings | None = None,
    *,
    store: MeasurementStore | None = None,
    clock: Clock = system_clock,
) -> FastAPI:
    """The app. Without `store`, it opens the configured one at startup and closes it at
    shutdown; a store passed in belongs to the caller."""
    settings = settings or Settings()
    metrics = Metrics(multiprocess_dir=os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
    gatekeeper = Gatekeeper(settings)
    limits = ingestion.Limits(settings.max_kelvin, settings.max_future_skew)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        opened = store or await open_store(
            settings.database_url, pool_size=settings.db_pool_size, db_timeout=settings.db_timeout
        )
        shared = SharedCommits(opened) if shares_commits(settings) else None
        app.state.store = opened
        app.state.record = shared.add if shared else partial(ingestion.record, opened)
        pruning = (
            asyncio.create_task(prune_forever(opened, settings.raw_retention, clock))
            if settings.raw_retention
            else None
        )
        try:
            async with (
                pool_sampling(metrics, opened),
                tokens_kept_fresh(gatekeeper, opened),
                subscribed(settings, app.state.record, clock, limits, metrics) as subscriber,
            ):
                app.state.mqtt = subscriber
                yield
        finally:
            if pruning:
                pruning.cancel()
            if shared:
                await shared.close()  # commits what is queued before the store goes
            if store is None:
                await opened.close()

    app = FastAPI(
        title="roomtemp",
        version=__version__,
        summary="Room temperature measurements: store them, ask about them.",
        lifespan=lifespan,
        # FastAPI's built-in OpenTelemetry asks on every request whether it is configured;
        # roomtemp does not use it, and the question costs measurably on the write path.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.clock = clock
    app.state.metrics = metrics
    app.state.limits = limits
    # The last added runs first: telemetry sees (counts, logs) the requests refused too.
    app.add_middleware(AccessMiddleware, gatekeeper=gatekeeper)
    app.add_middleware(TelemetryMiddleware, metrics=metrics, log_requests=settings.access_log)
    problems.install(app)
    openapi.install(
        app, {("/measurements/{room_id}", "post"): measurements.POST_MEASUREMENT_OPENAPI}
    )
    app.include_router(measurements.router)
    app.include_router(summaries.router)
    app.include_router(rooms.router)
    app.include_router(health.router)
    app.include_router(dashboard.router)
    app.mount("/static", dashboard.static_files(), name="static")
    return app
