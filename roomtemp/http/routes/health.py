"""Liveness and readiness, for load balancers and orchestrators."""

from fastapi import APIRouter

from roomtemp.http.dependencies import StoreDep
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
