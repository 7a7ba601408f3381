"""create_app(): the composition root. Settings, store and clock meet here, and nowhere else."""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from roomtemp import __version__
from roomtemp.http import openapi, problems
from roomtemp.http.dependencies import Clock, system_clock
from roomtemp.http.metrics import Metrics, pool_sampling
from roomtemp.http.routes import health, measurements
from roomtemp.http.telemetry import TelemetryMiddleware
from roomtemp.ingestion import Limits
from roomtemp.settings import Settings
from roomtemp.storage import MeasurementStore, open_store


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

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.store = store or await open_store(
            settings.database_url, pool_size=settings.db_pool_size, db_timeout=settings.db_timeout
        )
        try:
            async with pool_sampling(metrics, app.state.store):
                yield
        finally:
            if store is None:
                await app.state.store.close()

    app = FastAPI(
        title="roomtemp",
        version=__version__,
        summary="Room temperature measurements: store them, ask about them.",
        lifespan=lifespan,
    )
    app.state.clock = clock
    app.state.metrics = metrics
    app.state.limits = Limits(settings.max_kelvin, settings.max_future_skew)
    app.add_middleware(TelemetryMiddleware, metrics=metrics, log_requests=settings.access_log)
    problems.install(app)
    openapi.install(app)
    app.include_router(measurements.router)
    app.include_router(health.router)
    return app
