from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import httpx
import pytest

from roomtemp.http.app import create_app
from roomtemp.settings import Settings
from roomtemp.storage.base import MeasurementStore
from roomtemp.storage.memory import InMemoryStore

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@asynccontextmanager
async def app_client(
    settings: Settings | None = None,
    *,
    store: MeasurementStore | None = None,
    clock: Callable[[], datetime] = lambda: NOW,
) -> AsyncIterator[httpx.AsyncClient]:
    """The app, started (its lifespan run), and a client speaking HTTP to it in-process. By
    default over memory:// with the clock stopped at NOW; without `store`, the app opens the
    one `settings` names."""
    app = create_app(settings or Settings(database_url="memory://"), store=store, clock=clock)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://roomtemp.test") as client,
    ):
        yield client


@pytest.fixture
def memory_store() -> InMemoryStore:
    return InMemoryStore()


@pytest.fixture
async def client(memory_store: InMemoryStore) -> AsyncIterator[httpx.AsyncClient]:
    """The app over an in-memory store, with the clock stopped at NOW."""
    async with app_client(store=memory_store) as client:
        yield client
