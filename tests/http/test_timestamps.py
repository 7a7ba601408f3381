"""Timestamps keep microseconds: more fractional digits are refused wherever a timestamp is
read, never rounded (rounding turned two distinct readings into a conflict, or into one)."""

import base64
import json

import httpx
import pytest

from roomtemp.storage.memory import InMemoryStore
from tests.http.test_measurements import assert_problem

SIX = "2026-11-27T11:00:00.123456Z"
TOO_PRECISE = [
    "2026-11-27T11:00:00.1234567Z",
    "2026-11-27T11:00:00.123456789+01:00",
    "2026-11-27 11:00:00.0000000",
    "2026-11-27T11:00:00.1234560Z",  # a zero is a digit too: precision claimed is kept
]


@pytest.mark.parametrize("ts", TOO_PRECISE)
async def a_body_ts_with_more_than_six_fractional_digits_should_be_refused_on_every_write_path(
    client: httpx.AsyncClient, memory_store: InMemoryStore, ts: str
) -> None:
    item = {"room_id": "hall", "v": 290.0, "ts": ts}
    single = await client.post("/measurements/hall", json={"v": 290.0, "ts": ts})
    assert assert_problem(single, 422, "invalid_measurement")["errors"][0]["pointer"] == "#/ts"
    array = await client.post("/measurements", json=[{**item, "ts": SIX}, item])
    assert assert_problem(array, 422, "invalid_measurement")["errors"][0]["index"] == 1
    lines = f"{json.dumps({**item, 'ts': SIX})}\n{json.dumps(item)}\n"
    ndjson = await client.post(
        "/measurements", content=lines, headers={"Content-Type": "application/x-ndjson"}
    )
    assert assert_problem(ndjson, 422, "invalid_measurement")["errors"][0]["index"] == 1
    assert not await memory_store.has_room("hall")


@pytest.mark.parametrize("ts", TOO_PRECISE)
async def a_query_timestamp_with_more_than_six_fractional_digits_should_be_refused(
    client: httpx.AsyncClient, ts: str
) -> None:
    assert (
        await client.post("/measurements/hall", json={"v": 290.0, "ts": SIX})
    ).status_code == 201
    cursor = base64.urlsafe_b64encode(ts.encode()).decode().rstrip("=")
    for path, params in [
        ("/measurements/hall/average/PT1H", {"end": ts}),
        ("/measurements/hall/series/PT1H", {"end": ts, "bucket": "PT10M"}),
        ("/measurements/hall", {"start": ts}),
        ("/measurements/hall", {"end": ts}),
        ("/measurements/hall", {"cursor": cursor}),
    ]:
        problem = assert_problem(await client.get(path, params=params), 422, "invalid_parameter")
        assert problem["errors"][0]["parameter"] in params


async def six_fractional_digits_should_be_kept_exactly(client: httpx.AsyncClient) -> None:
    posted = await client.post("/measurements/hall", json={"v": 290.0, "ts": SIX})
    assert posted.json()["ts"] == SIX
    naive = await client.post("/measurements/hall", json={"v": 290.0, "ts": SIX[:-1]})
    assert naive.json()["ts"] == SIX
    items = (await client.get("/measurements/hall", params={"start": SIX, "end": SIX})).json()
    assert [item["ts"] for item in items["items"]] == [SIX]
