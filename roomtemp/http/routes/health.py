"""Liveness and readiness for load balancers and orchestrators; metrics for monitoring."""

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST

from roomtemp.http.dependencies import ServicesDep, StoreDep
from roomtemp.http.metrics import PooledStore
from roomtemp.http.problems import documented_problems
from roomtemp.http.schemas import Health

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process is running")
async def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", summary="Storage answers", responses=documented_problems(503))
async def readyz(store: StoreDep) -> Health:
    await store.check()  # StorageUnavailable -> 503
    return Health(status="ready")


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
