"""What routes receive from the app: the store, the clock and the limits of writes.

Async on purpose: FastAPI runs a plain `def` dependency in a thread pool, a hop per request.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request

from roomtemp.ingestion import Limits
from roomtemp.settings import Settings
from roomtemp.storage.base import MeasurementStore

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


async def get_store(request: Request) -> MeasurementStore:
    store: MeasurementStore = request.app.state.store
    return store


async def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


async def get_limits(request: Request) -> Limits:
    limits: Limits = request.app.state.limits
    return limits


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


StoreDep = Annotated[MeasurementStore, Depends(get_store)]
ClockDep = Annotated[Clock, Depends(get_clock)]
LimitsDep = Annotated[Limits, Depends(get_limits)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
