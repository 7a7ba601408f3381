"""POST /measurements: many at once, all or nothing."""

from typing import Any

import httpx
import msgspec
import pytest

from roomtemp.settings import Settings
from roomtemp.storage.memory import InMemoryStore
from tests.http.conftest import app_client
from tests.http.test_measurements import assert_problem, minutes_ago


def item(room: str, minutes: float, v: float = 290.0, **extra: Any) -> dict[str, Any]:
    return {"room_id": room, "v": v, "ts": minutes_ago(minutes), **extra}


async def stored_count(client: httpx.AsyncClient, room: str) -> int:
    response = await client.get(f"/measurements/{room}/average/P1D")
    return int(response.json()["count"]) if response.status_code == 200 else 0


async def batch_should_store_a_json_array_and_count_it(client: httpx.AsyncClient) -> None:
    items = [item("hall", minute, 290.0 + minute) for minute in range(1, 11)]
    response = await client.post("/measurements", json=items)
    assert response.status_code == 200
    assert response.json() == {"received": 10, "stored": 10, "duplicates": 0}
    assert await stored_count(client, "hall") == 10


async def batch_should_take_ndjson(client: httpx.AsyncClient) -> None:
    lines = b"\n".join(msgspec.json.encode(item("hall", minute)) for minute in range(1, 4)) + b"\n"
    response = await client.post(
        "/measurements", content=lines, headers={"Content-Type": "application/x-ndjson"}
    )
    assert response.json() == {"received": 3, "stored": 3, "duplicates": 0}


async def batch_should_count_items_already_stored_or_repeated_as_duplicates(
    client: httpx.AsyncClient,
) -> None:
    await client.post("/measurements", json=[item("hall", 1)])
    again = [item("hall", 1), item("hall", 2), item("hall", 2), item("hall", 3, u="K")]
    response = await client.post("/measurements", json=again)
    assert response.json() == {"received": 4, "stored": 2, "duplicates": 2}


async def batch_should_apply_units_and_utc_to_each_item(client: httpx.AsyncClient) -> None:
    items = [
        {"room_id": "hall", "v": 20.0, "u": "c", "ts": "2026-11-27T13:50:00+02:00"},
        {"room_id": "hall", "v": 68.0, "u": "F", "ts": "2026-11-27T11:51:00"},
    ]
    assert (await client.post("/measurements", json=items)).status_code == 200
    body = (await client.get("/measurements/hall/average/PT15M", params={"unit": "C"})).json()
    assert (body["count"], body["ts"]) == (2, "2026-11-27T11:50:00Z")
    assert body["v"] == pytest.approx(20.0)


async def batch_without_ts_should_store_at_the_server_clock(client: httpx.AsyncClient) -> None:
    await client.post("/measurements", json=[{"room_id": "hall", "v": 290.0}])
    body = (await client.get("/measurements/hall/average/PT1M")).json()
    assert body["ts"] == "2026-11-27T12:00:00Z"


async def batch_with_one_invalid_item_should_store_nothing_and_name_it(
    client: httpx.AsyncClient,
) -> None:
    items = [item("hall", 1), item("hall", 2, v=-5.0), item("hall", 3)]
    problem = assert_problem(
        await client.post("/measurements", json=items), 422, "invalid_measurement"
    )
    assert [(e["index"], e["pointer"]) for e in problem["errors"]] == [(1, "#/1/v")]
    assert "below absolute zero" in problem["errors"][0]["detail"]
    assert await stored_count(client, "hall") == 0


async def batch_should_list_items_of_the_wrong_type_by_index(client: httpx.AsyncClient) -> None:
    items: list[Any] = [item("hall", 1), {"room_id": "hall", "v": "20"}, 5, item("hall", 2)]
    problem = assert_problem(
        await client.post("/measurements", json=items), 422, "invalid_measurement"
    )
    assert [(e["index"], e["pointer"]) for e in problem["errors"]] == [(1, "#/1/v"), (2, "#/2")]
    assert await stored_count(client, "hall") == 0


async def batch_should_list_at_most_100_failing_items(client: httpx.AsyncClient) -> None:
    items = [item("hall", minute / 100, v=-1.0) for minute in range(150)]
    problem = assert_problem(
        await client.post("/measurements", json=items), 422, "invalid_measurement"
    )
    assert len(problem["errors"]) == 100
    assert problem["errors"][-1]["index"] == 99
    assert "150 items" in problem["detail"]


async def batch_conflicting_with_stored_data_should_store_nothing(
    client: httpx.AsyncClient,
) -> None:
    await client.post("/measurements", json=[item("hall", 2, v=290.0)])
    items = [item("hall", 1), item("hall", 2, v=295.0), item("kitchen", 1)]
    problem = assert_problem(await client.post("/measurements", json=items), 409, "conflict")
    assert [e["index"] for e in problem["errors"]] == [1]
    assert await stored_count(client, "hall") == 1
    assert await stored_count(client, "kitchen") == 0


async def batch_repeating_a_key_with_another_value_should_conflict(
    client: httpx.AsyncClient,
) -> None:
    items = [item("hall", 1, v=290.0), item("hall", 1, v=291.0)]
    problem = assert_problem(await client.post("/measurements", json=items), 409, "conflict")
    assert [e["index"] for e in problem["errors"]] == [1]


async def an_ndjson_line_that_is_not_json_should_be_named(client: httpx.AsyncClient) -> None:
    lines = b'{"room_id": "hall", "v": 290}\n\n{"room_id": "hall", "v": \n'
    response = await client.post(
        "/measurements", content=lines, headers={"Content-Type": "application/x-ndjson"}
    )
    problem = assert_problem(response, 400, "malformed_json")
    assert "line 3" in problem["detail"]


async def an_invalid_ndjson_line_should_be_named_by_index_and_line(
    client: httpx.AsyncClient,
) -> None:
    lines = b'{"room_id": "hall", "v": 290}\n\n{"room_id": "hall", "v": true}\n'
    response = await client.post(
        "/measurements", content=lines, headers={"Content-Type": "application/x-ndjson"}
    )
    problem = assert_problem(response, 422, "invalid_measurement")
    assert [(e["index"], e["line"]) for e in problem["errors"]] == [(1, 3)]


@pytest.mark.parametrize(
    ("content", "content_type", "status", "code"),
    [
        (b'[{"room_id": "hall", "v": 29', "application/json", 400, "malformed_json"),
        (b'{"room_id": "hall", "v": 290}', "application/json", 422, "invalid_measurement"),
        (b"[]", "text/csv", 415, "unsupported_media_type"),
    ],
)
async def a_batch_that_is_no_json_array_should_be_refused(
    client: httpx.AsyncClient, content: bytes, content_type: str, status: int, code: str
) -> None:
    response = await client.post(
        "/measurements", content=content, headers={"Content-Type": content_type}
    )
    assert_problem(response, status, code)


async def an_empty_batch_should_store_nothing(client: httpx.AsyncClient) -> None:
    response = await client.post("/measurements", json=[])
    assert response.json() == {"received": 0, "stored": 0, "duplicates": 0}


async def batches_over_the_limits_should_be_413() -> None:
    settings = Settings(database_url="memory://", batch_max_items=3, batch_max_bytes=2048)
    async with app_client(settings, store=InMemoryStore()) as client:
        four = [item("hall", minute) for minute in range(4)]
        assert_problem(await client.post("/measurements", json=four), 413, "batch_too_large")
        lines = b"\n".join(msgspec.json.encode(i) for i in four)
        ndjson = {"Content-Type": "application/x-ndjson"}
        response = await client.post("/measurements", content=lines, headers=ndjson)
        assert_problem(response, 413, "batch_too_large")
        big = [item("hall", minute, note="x" * 1000) for minute in range(3)]
        assert_problem(await client.post("/measurements", json=big), 413, "body_too_large")


async def batch_items_naming_no_room_should_be_listed(client: httpx.AsyncClient) -> None:
    items = [item("hall", 1), item("hall\n", 2), item("hall\x7f", 3), item("hall", 4)]
    response = await client.post("/measurements", json=items)
    problem = assert_problem(response, 422, "invalid_measurement")
    places = [(e["index"], e["pointer"]) for e in problem["errors"]]
    assert places == [(1, "#/1/room_id"), (2, "#/2/room_id")]
    assert "control character" in problem["errors"][0]["detail"]
    assert await stored_count(client, "hall") == 0
