"""Liveness and readiness for load balancers and orchestrators; metrics for monitoring."""

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST

from roomtemp.http.dependencies import ServicesDep, StoreDep
from roomtemp.http.metrics import PooledStore
from roomtemp.http.problems import Problem, documented_problems
from roomtemp.http.schemas import Health, Readiness

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process is running")
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    summary="Storage answers (and the MQTT broker, if so configured)",
    responses=documented_problems(503),
    response_model_exclude_none=True,
)
async def readyz(store: StoreDep, services: ServicesDep) -> Readiness:
    await store.check()  # StorageUnavailable -> 503
    if services.mqtt is None:
        return Readiness(status="ready")
    connected = services.mqtt.connected
    if not connected and services.settings.mqtt_required_for_ready:
        raise Problem(503, "broker_unavailable", "the MQTT broker is not connected")
    return Readiness(status="ready", mqtt="connected" if connected else "disconnected")


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}},
)
async def metrics(services: ServicesDep) -> Response:
    """Requests by route and status, latencies, measurements stored, batch sizes, storage
    errors and database pool use, over every worker process."""
    store, current = services.store, services.metrics
    if isinstance(store, PooledStore):
        current.set_pool_use(store)  # this worker's, fresh; the others' sampled each second
    return Response(current.exposition(), media_type=CONTENT_TYPE_LATEST)
