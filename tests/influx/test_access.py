"""Tokens as InfluxDB clients send them, mapped onto roomtemp's scopes."""

import base64
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from roomtemp.domain.access import Scope, mint
from roomtemp.http.app import create_app
from roomtemp.settings import Settings
from roomtemp.storage.memory import InMemoryStore
from tests.influx.conftest import NOW

LINE = "t,room=hall value=20 1700049000"
# A token -> (headers, query parameters) that carry it.
Credentials = Callable[[str], tuple[dict[str, str], dict[str, str]]]


@pytest.fixture
async def tokens() -> AsyncIterator[tuple[httpx.AsyncClient, str, str]]:
    """An app where tokens exist: (client, a write token, a read token)."""
    store = InMemoryStore()
    writer, write_token = mint("sensor", frozenset({Scope.WRITE}), NOW)
    reader, read_token = mint("grafana", frozenset({Scope.READ}), NOW)
    await store.add_token(write_token)
    await store.add_token(read_token)
    app = create_app(Settings(database_url="memory://"), store=store, clock=lambda: NOW)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://localhost"
        ) as client,
    ):
        yield client, writer, reader


def basic(password: str, user: str = "anyone") -> dict[str, str]:
    encoded = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


@pytest.mark.parametrize(
    "credentials",
    [
        lambda token: ({"Authorization": f"Token {token}"}, {}),
        lambda token: ({"Authorization": f"Bearer {token}"}, {}),
        lambda token: (basic(token), {}),
        lambda token: ({}, {"u": "anyone", "p": token}),
    ],
    ids=["Token", "Bearer", "Basic", "p="],
)
async def each_way_influxdb_clients_send_a_token_should_be_taken(
    tokens: tuple[httpx.AsyncClient, str, str], credentials: Credentials
) -> None:
    client, writer, reader = tokens
    headers, parameters = credentials(writer)
    written = await client.post(
        "/write", params={"precision": "s", **parameters}, content=LINE, headers=headers
    )
    assert written.status_code == 204, written.text
    headers, parameters = credentials(reader)
    read = await client.get("/query", params={"q": "SHOW DATABASES", **parameters}, headers=headers)
    assert read.status_code == 200, read.text


async def scopes_should_hold_a_write_token_to_writes_and_a_read_token_to_queries(
    tokens: tuple[httpx.AsyncClient, str, str],
) -> None:
    client, writer, reader = tokens
    reading_to_write = await client.post("/write", content=LINE, headers=basic(reader))
    assert reading_to_write.status_code == 403
    # A POST to /query reads, as Grafana's POST mode does: the write token is not enough.
    writing_to_query = await client.post(
        "/query", params={"q": "SHOW DATABASES"}, headers={"Authorization": f"Token {writer}"}
    )
    assert writing_to_query.status_code == 403
    assert (await client.post("/write", content=LINE)).status_code == 401
    assert (await client.post("/write", content=LINE, headers=basic("wrong"))).status_code == 401
    assert (await client.get("/query", params={"q": "SHOW DATABASES", "p": "x"})).status_code == 401


async def ping_and_health_should_need_no_token(
    tokens: tuple[httpx.AsyncClient, str, str],
) -> None:
    client, _, _ = tokens
    assert (await client.get("/ping")).status_code == 204
    assert (await client.head("/ping")).status_code == 204
    assert (await client.get("/health")).status_code == 200
    assert (await client.head("/health")).status_code == 200
