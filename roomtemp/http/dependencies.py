"""What FastAPI routes receive: the services, or one of them, all read through services_of().

Async on purpose: FastAPI runs a plain `def` dependency in a thread pool, a hop per request.
"""

from typing import Annotated

from fastapi import Depends, Request

from roomtemp.http.services import Clock, Services, services_of
from roomtemp.ingestion import Limits
from roomtemp.settings import Settings
from roomtemp.storage.base import MeasurementStore


async def get_services(request: Request) -> Services:
    return services_of(request)


async def get_store(request: Request) -> MeasurementStore:
    return services_of(request).store


async def get_clock(request: Request) -> Clock:
    return services_of(request).clock


async def get_limits(request: Request) -> Limits:
    return services_of(request).limits


async def get_settings(request: Request) -> Settings:
    return services_of(request).settings


ServicesDep = Annotated[Services, Depends(get_services)]
StoreDep = Annotated[MeasurementStore, Depends(get_store)]
ClockDep = Annotated[Clock, Depends(get_clock)]
LimitsDep = Annotated[Limits, Depends(get_limits)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
