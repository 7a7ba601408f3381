"""Every request gets an id, echoed in the answer, and one access log line naming its route."""

import logging
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from roomtemp.http.app import create_app
from roomtemp.settings import Settings
from roomtemp.storage.memory import InMemoryStore
from tests.http.conftest import app_client

GENERATED_ID = re.compile(r"[0-9a-f]{32}")


def access_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "roomtemp.access"]


async def a_given_request_id_should_be_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "lb-7f3a:42"})
    assert response.headers["x-request-id"] == "lb-7f3a:42"


@pytest.mark.parametrize("given", ["", "two words", 'quote"d', "x" * 129, "caf\u00e9"], ids=repr)
async def an_unsafe_request_id_should_be_replaced(client: httpx.AsyncClient, given: str) -> None:
    response = await client.get("/healthz", headers={b"X-Request-ID": given.encode()})
    assert GENERATED_ID.fullmatch(response.headers["x-request-id"])


async def each_request_without_an_id_should_get_a_new_one(client: httpx.AsyncClient) -> None:
    first, second = [(await client.get("/healthz")).headers["x-request-id"] for _ in range(2)]
    assert GENERATED_ID.fullmatch(first)
    assert first != second


async def a_problem_answer_should_carry_its_request_id_too(client: httpx.AsyncClient) -> None:
    response = await client.post("/measurements/hall", json={"v": -1})
    assert response.status_code == 422
    assert GENERATED_ID.fullmatch(response.headers["x-request-id"])


async def the_access_log_should_name_method_route_status_duration_and_id(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "roomtemp.access")
    response = await client.post(
        "/measurements/Living%20room", json={"v": 293.0}, headers={"X-Request-ID": "req-1"}
    )
    assert response.status_code == 201
    [line] = access_lines(caplog)
    assert line.getMessage() == "POST /measurements/Living%20room 201"
    assert line.__dict__["method"] == "POST"
    assert line.__dict__["route"] == "/measurements/{room_id}"
    assert line.__dict__["status"] == 201
    assert line.__dict__["request_id"] == "req-1"
    assert line.__dict__["duration_ms"] >= 0


async def an_unknown_path_should_be_logged_under_one_route(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "roomtemp.access")
    for path in ("/nothing", "/nothing/else", "/measurements/hall/nothing/else"):
        await client.get(path)
    assert [line.__dict__["route"] for line in access_lines(caplog)] == ["<unmatched>"] * 3
    assert [line.__dict__["status"] for line in access_lines(caplog)] == [404, 404, 404]


async def a_decoded_newline_should_not_reach_the_log_line(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "roomtemp.access")
    await client.post("/measurements/hall%0Afake%20line", json={"v": 293.0})
    [line] = access_lines(caplog)
    assert "\n" not in line.getMessage()
    assert "%0A" in line.getMessage()


@pytest.fixture
async def crashing_app() -> AsyncIterator[FastAPI]:
    app = create_app(Settings(database_url="memory://"), store=InMemoryStore())

    @app.get("/crash/{thing}")
    async def crash(thing: str) -> None:
        raise RuntimeError(f"a bug about {thing}")

    async with app.router.lifespan_context(app):
        yield app


async def a_crash_should_be_logged_as_a_500_with_its_route(
    crashing_app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "roomtemp.access")
    transport = httpx.ASGITransport(app=crashing_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/crash/now")
    assert response.status_code == 500
    [line] = access_lines(caplog)
    assert (line.__dict__["route"], line.__dict__["status"]) == ("/crash/{thing}", 500)


async def access_log_off_should_log_no_request(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "roomtemp.access")
    settings = Settings(database_url="memory://", access_log=False)
    async with app_client(settings, store=InMemoryStore()) as client:
        response = await client.get("/healthz", headers={"X-Request-ID": "still-echoed"})
    assert response.headers["x-request-id"] == "still-echoed"
    assert access_lines(caplog) == []
