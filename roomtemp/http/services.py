"""Services: what routes, handlers and metrics read from the running app, built once by the
lifespan and read through services_of() alone."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from starlette.requests import HTTPConnection

from roomtemp.http.metrics import Metrics
from roomtemp.ingestion import Limits, Recorder
from roomtemp.settings import Settings
from roomtemp.storage.base import MeasurementStore

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


class BrokerLink(Protocol):
    """The MQTT subscriber, as /readyz sees it."""

    @property
    def connected(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    store: MeasurementStore
    record: Recorder  # stores one validated measurement durably: see ingestion.recording
    clock: Clock
    limits: Limits
    metrics: Metrics
    mqtt: BrokerLink | None = None  # with ROOMTEMP_MQTT_URL


def services_of(connection: HTTPConnection) -> Services:
    """The app's services; set while the app runs (between the lifespan's start and end)."""
    services: Services = connection.app.state.services
    return services
