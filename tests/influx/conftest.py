from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from roomtemp.http.app import create_app
from roomtemp.settings import Settings
from roomtemp.storage.memory import InMemoryStore

NOW = datetime(2023, 11, 16, 0, 0, tzinfo=UTC)  # 1700092800 s since the epoch


@pytest.fixture
def memory_store() -> InMemoryStore:
    return InMemoryStore()


@pytest.fixture
async def client(memory_store: InMemoryStore) -> AsyncIterator[httpx.AsyncClient]:
    """The app over an in-memory store, anonymous (no token exists), the clock at NOW."""
    app = create_app(Settings(database_url="memory://"), store=memory_store, clock=lambda: NOW)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://roomtemp.test") as client,
    ):
        yield client


async def stored(client: httpx.AsyncClient, room: str) -> list[tuple[str, float]]:
    """(ts, °C) of every measurement of the room, through the native API."""
    response = await client.get(
        f"/measurements/{room}", params={"unit": "C", "start": "1970-01-01T00:00:00Z"}
    )
    if response.status_code == 404:
        return []
    return [(item["ts"], round(item["v"], 9)) for item in response.json()["items"]]
