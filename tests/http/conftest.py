from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from roomtemp.http.app import create_app
from roomtemp.settings import Settings
from roomtemp.storage.memory import InMemoryStore

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture
def memory_store() -> InMemoryStore:
    return InMemoryStore()


@pytest.fixture
async def client(memory_store: InMemoryStore) -> AsyncIterator[httpx.AsyncClient]:
    """The app over an in-memory store, with the clock stopped at NOW."""
    app = create_app(Settings(database_url="memory://"), store=memory_store, clock=lambda: NOW)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://localhost") as client,
    ):
        yield client
