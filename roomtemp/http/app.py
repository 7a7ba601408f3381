"""create_app(): the composition root. Settings, store and clock meet here, and nowhere else."""

import inspect
from functools import partial

from fastapi import APIRouter, Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute

from roomtemp import __version__
from roomtemp.http import openapi, problems
from roomtemp.http.auth import AccessMiddleware, Gatekeeper
from roomtemp.http.content_policy import DefaultContentPolicy
from roomtemp.http.front_door import WithFrontDoor
from roomtemp.http.lifespan import serving
from roomtemp.http.metrics import Metrics
from roomtemp.http.parameters import known_query_only
from roomtemp.http.room_paths import RawRoomSegment
from roomtemp.http.routes import dashboard, health, measurements, problem_types, rooms, summaries
from roomtemp.http.services import Clock, system_clock
from roomtemp.http.telemetry import Telemetry, TelemetryMiddleware
from roomtemp.influx import routes as influx
from roomtemp.settings import Settings
from roomtemp.storage import MeasurementStore

DESCRIPTION = inspect.cleandoc(
    """
    Post temperatures (K, C or F) for any room, one at a time or in batches; ask for the exact
    average over a window, bucketed series for charts, raw measurements and the rooms known.
    Temperatures are stored in kelvin, times in UTC; writing is idempotent.

    Every error is RFC 9457 `application/problem+json` with a stable `code`; its `type` links
    to a page saying what the code means (`/problems/{code}`). A query parameter an endpoint
    does not take answers 422. Tokens: `Authorization: Bearer`, read scope for GET and HEAD,
    write for POST.
    """
)


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
    telemetry = Telemetry(metrics, log_requests=settings.access_log)
    app = WithFrontDoor(
        title="roomtemp",
        version=__version__,
        summary="Room temperature measurements: store them, ask about them.",
        description=DESCRIPTION,
        license_info={"name": "MIT", "identifier": "MIT"},
        # Operations are named after their functions (get_average), not FastAPI's
        # get_average_measurements__room_id__average__duration__get.
        generate_unique_id_function=lambda route: route.name,
        lifespan=lifespan,
        # FastAPI's built-in OpenTelemetry asks on every request whether it is configured;
        # roomtemp does not use it, and the question costs measurably on the write path.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        # Served from vendored files instead (routes/dashboard.py); no OAuth2 to redirect to.
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    # Single writes get what these give them by a door of their own (front_door.py).
    app.single_writes = None if settings.cors_origins else (telemetry, gatekeeper)
    # The last added runs first: telemetry sees (counts, logs) the requests refused too.
    app.add_middleware(AccessMiddleware, gatekeeper=gatekeeper)
    app.add_middleware(TelemetryMiddleware, telemetry=telemetry)
    app.add_middleware(DefaultContentPolicy)
    if settings.cors_origins:
        # Outermost: a browser's preflight (OPTIONS, no token) is answered before auth.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "HEAD", "POST"],
            allow_headers=["Authorization", "Content-Type"],
            expose_headers=["Retry-After", "X-Request-ID"],
        )
    app.add_middleware(RawRoomSegment)  # first of all: every later step sees the path it makes
    problems.install(app)
    openapi.install(
        app, {("/measurements/{room_id}", "post"): measurements.POST_MEASUREMENT_OPENAPI}
    )
    # First of all routes: FastAPI's router tries each route's pattern in turn, through a
    # wrapper per included router, and it took 28% of a single write's time to get here.
    app.router.routes.insert(0, measurements.POST_MEASUREMENT)
    for api in (measurements.router, summaries.router, rooms.router, health.router):
        app.include_router(answering_head(api), dependencies=[Depends(known_query_only)])
    app.include_router(answering_head(dashboard.router))
    app.include_router(answering_head(problem_types.router))
    # InfluxDB's endpoints take, as InfluxDB does, parameters they do not need (db, rp, u...).
    app.include_router(answering_head(influx.router))
    app.mount("/static", dashboard.static_files(), name="static")
    return app


def answering_head(router: APIRouter) -> APIRouter:
    """`router`, with HEAD on every GET (RFC 9110: the same answer without its body). FastAPI
    adds none; each HEAD is a twin route, left out of the OpenAPI document."""
    routes = [route for route in router.routes if isinstance(route, APIRoute)]
    present = {(route.path, method) for route in routes for method in route.methods or ()}
    for route in routes:
        # Once per router: routers are module-level, shared by every app built.
        if "GET" in (route.methods or ()) and (route.path, "HEAD") not in present:
            router.add_api_route(
                route.path,
                route.endpoint,
                methods=["HEAD"],
                response_model=route.response_model,
                response_class=route.response_class,
                name=route.name,
                include_in_schema=False,
            )
    return router
