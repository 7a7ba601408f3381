"""Access in-process: what is hard to reach over real HTTP (a store that stops answering)."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from roomtemp.domain.access import AccessToken, Scope, mint
from roomtemp.settings import Settings
from roomtemp.storage.base import StorageUnavailable
from roomtemp.storage.memory import InMemoryStore
from tests.http.conftest import app_client

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


class TokensGoneAfterOneRead(InMemoryStore):
    """A store whose database stops answering after the first read of the tokens."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0
        self.failed_twice = asyncio.Event()

    async def tokens(self) -> list[AccessToken]:
        self.reads += 1
        if self.reads > 1:
            if self.reads == 3:
                self.failed_twice.set()
            raise StorageUnavailable("connection refused")
        return await super().tokens()


@pytest.fixture
def store() -> TokensGoneAfterOneRead:
    return TokensGoneAfterOneRead()


async def the_tokens_read_last_should_stay_in_force_while_the_store_does_not_answer(
    store: TokensGoneAfterOneRead,
) -> None:
    text, token = mint("reader", frozenset({Scope.READ}), NOW)
    await store.add_token(token)
    settings = Settings(database_url="memory://", token_refresh=timedelta(milliseconds=10))
    async with app_client(settings, store=store) as client:
        await store.failed_twice.wait()
        assert (
            await client.get("/rooms", headers={"Authorization": f"Bearer {text}"})
        ).status_code == 200
        assert (await client.get("/rooms")).status_code == 401


async def refused_requests_should_be_counted_and_carry_a_request_id(
    store: InMemoryStore,
) -> None:
    admin_token = "an-admin-token-for-the-tests"
    settings = Settings(database_url="memory://", admin_token=admin_token)
    async with app_client(settings, store=store) as client:
        refused = await client.get("/rooms")
        assert refused.status_code == 401
        assert len(refused.headers["x-request-id"]) == 32
        admin = {"Authorization": f"Bearer {admin_token}"}
        metrics = (await client.get("/metrics", headers=admin)).text
    assert 'method="GET",route="<unmatched>",status="401"} 1.0' in metrics
