"""What a hostile batch costs: counted before decoded, memory a few times its body, at most 100
failing items explained (issue 10 item 2)."""

import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import msgspec
import pytest

from roomtemp.http.app import create_app
from roomtemp.settings import Settings
from roomtemp.storage.memory import InMemoryStore
from tests.http.conftest import NOW
from tests.http.test_batch import item
from tests.http.test_measurements import assert_problem

MIB = 1 << 20
NDJSON = {"Content-Type": "application/x-ndjson"}
# Peak Python memory while answering, in bodies: the body itself is read into memory once.
MAX_BODIES = 3


@pytest.fixture
async def big_client() -> AsyncIterator[httpx.AsyncClient]:
    """The app with its default limits: 100,000 items, 32 MiB."""
    app = create_app(Settings(database_url="memory://"), store=InMemoryStore(), clock=lambda: NOW)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://roomtemp.test") as client,
    ):
        yield client


async def peak_bodies(body: bytes, send: Callable[[], Awaitable[httpx.Response]]) -> float:
    """(Peak Python memory while `send` runs, beyond what was there before) / len(body)."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        response = await send()
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert response.status_code in (413, 422), response.text
    return peak / len(body)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"[" + b"1," * (4 * MIB - 1) + b"1]", "application/json"),
        (b"[" + b"{}," * (MIB - 1) + b"{}]", "application/json"),
        (b"1\n" * 4 * MIB, "application/x-ndjson"),
    ],
    ids=["ints", "empty objects", "ndjson lines"],
)
async def millions_of_tiny_items_should_be_413_at_the_cost_of_a_few_bodies(
    big_client: httpx.AsyncClient, body: bytes, content_type: str
) -> None:
    async def send() -> httpx.Response:
        headers = {"Content-Type": content_type}
        return await big_client.post("/measurements", content=body, headers=headers)

    assert await peak_bodies(body, send) <= MAX_BODIES
    assert_problem(await send(), 413, "batch_too_large")


@pytest.mark.parametrize("content_type", ["application/json", "application/x-ndjson"])
async def a_batch_of_failing_items_should_explain_the_first_100_at_the_cost_of_a_few_bodies(
    big_client: httpx.AsyncClient, content_type: str
) -> None:
    items = [{"room_id": "the hall on the second floor, by the stairs", "v": "warm"}] * 90_000
    if content_type == "application/json":
        body = msgspec.json.encode(items)
    else:
        body = b"\n".join(msgspec.json.encode(one) for one in items)

    async def send() -> httpx.Response:
        return await big_client.post(
            "/measurements", content=body, headers={"Content-Type": content_type}
        )

    assert await peak_bodies(body, send) <= MAX_BODIES
    problem = assert_problem(await send(), 422, "invalid_measurement")
    assert [error["index"] for error in problem["errors"]] == list(range(100))
    assert problem["errors"][0]["pointer"] == "#/0/v"
    assert "at least 100" in problem["detail"]


async def items_past_the_limit_should_be_413_though_the_first_is_already_invalid(
    big_client: httpx.AsyncClient,
) -> None:
    body = msgspec.json.encode([item("hall", 1), *[1] * 100_000])
    response = await big_client.post(
        "/measurements", content=body, headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 413, "batch_too_large")


async def failing_items_far_apart_should_each_be_named(big_client: httpx.AsyncClient) -> None:
    items = [item("hall", index / 1000) for index in range(20_000)]
    for index in (3, 7_000, 19_999):
        items[index] = {**items[index], "v": True}
    items[12_345] = {**items[12_345], "v": -1.0}  # valid JSON, but below absolute zero
    response = await big_client.post("/measurements", json=items)
    problem = assert_problem(response, 422, "invalid_measurement")
    assert [error["index"] for error in problem["errors"]] == [3, 7_000, 19_999]
    assert problem["detail"].startswith("3 items are invalid")


async def value_rules_should_count_every_failing_item_and_explain_100(
    big_client: httpx.AsyncClient,
) -> None:
    items = [item("hall", index / 1000, v=-1.0 if index % 2 else 290.0) for index in range(5_000)]
    problem = assert_problem(
        await big_client.post("/measurements", json=items), 422, "invalid_measurement"
    )
    assert [error["index"] for error in problem["errors"]] == list(range(1, 200, 2))
    assert problem["detail"].startswith("2500 items are invalid")


async def a_valid_batch_of_100000_items_should_be_stored_whole(
    big_client: httpx.AsyncClient,
) -> None:
    lines = b"\n".join(
        msgspec.json.encode(item(f"room {index % 100}", index / 1000)) for index in range(100_000)
    )
    response = await big_client.post("/measurements", content=lines, headers=NDJSON)
    assert response.json() == {"received": 100_000, "stored": 100_000, "duplicates": 0}
