"""create_app(): the composition root. Settings, store and clock meet here, and nowhere else."""

from functools import partial

from fastapi import FastAPI

from roomtemp import __version__
from roomtemp.http import openapi, problems
from roomtemp.http.auth import AccessMiddleware, Gatekeeper
from roomtemp.http.lifespan import serving
from roomtemp.http.metrics import Metrics
from roomtemp.http.routes import dashboard, health, measurements, rooms, summaries
from roomtemp.http.services import Clock, system_clock
from roomtemp.http.telemetry import TelemetryMiddleware
from roomtemp.settings import Settings
from roomtemp.storage import MeasurementStore


def create_app(
    settings: Settings | None = None,
    *,
    store: MeasurementStore | None = None,
    clock: Clock = system_clock,
) -> FastAPI:
    """The app. Without `store`, it opens the configured one at startup and closes it at
    shutdown; a store passed in belongs to the caller."""
    settings = settings or Settings()
    # Built now, not in the lifespan: the middleware holds them from the start.
    metrics = Metrics(multiprocess_dir=settings.metrics_dir)
    gatekeeper = Gatekeeper(settings)
    lifespan = partial(
        serving, settings=settings, store=store, clock=clock, metrics=metrics, gatekeeper=gatekeeper
    )
    app = FastAPI(
        title="roomtemp",
        version=__version__,
        summary="Room temperature measurements: store them, ask about them.",
        lifespan=lifespan,
        # FastAPI's built-in OpenTelemetry asks on every request whether it is configured;
        # roomtemp does not use it, and the question costs measurably on the write path.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
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
