"""The original two endpoints, through the app, with the clock stopped at NOW."""

from datetime import timedelta
from typing import Any

import httpx
import pytest

from roomtemp.domain.measurements import format_ts
from roomtemp.storage.memory import InMemoryStore
from tests.http.conftest import NOW

PROBLEM = "application/problem+json"


def minutes_ago(minutes: float) -> str:
    return format_ts(NOW - timedelta(minutes=minutes))


async def post(client: httpx.AsyncClient, room: str, body: dict[str, Any]) -> httpx.Response:
    return await client.post(f"/measurements/{room}", json=body)


async def average(
    client: httpx.AsyncClient, room: str, duration: str, **params: str
) -> httpx.Response:
    return await client.get(f"/measurements/{room}/average/{duration}", params=params)


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert (body["status"], body["code"]) == (status, code)
    assert body["type"] == f"/problems/{code}"
    assert body["title"]
    assert body["detail"]
    return body


async def post_should_answer_201_with_the_measurement_as_stored(client: httpx.AsyncClient) -> None:
    response = await post(client, "hall", {"v": 293.4, "u": "K", "ts": "2026-11-27T11:50:00Z"})
    assert response.status_code == 201
    assert response.json() == {
        "room_id": "hall",
        "v": 293.4,
        "u": "K",
        "ts": "2026-11-27T11:50:00Z",
    }


async def post_should_read_a_naive_timestamp_as_utc(client: httpx.AsyncClient) -> None:
    response = await post(client, "hall", {"v": 293.4, "ts": "2026-11-27T11:50:00.250000"})
    assert response.json()["ts"] == "2026-11-27T11:50:00.250000Z"


async def post_should_convert_an_offset_to_utc(client: httpx.AsyncClient) -> None:
    response = await post(client, "hall", {"v": 293.4, "ts": "2026-11-27T13:50:00+02:00"})
    assert response.json()["ts"] == "2026-11-27T11:50:00Z"


async def post_without_ts_should_store_it_at_the_server_clock(client: httpx.AsyncClient) -> None:
    response = await post(client, "hall", {"v": 293.4})
    assert response.status_code == 201
    assert response.json()["ts"] == format_ts(NOW)


async def post_should_take_units_in_any_case_and_answer_in_the_unit_posted(
    client: httpx.AsyncClient,
) -> None:
    response = await post(client, "hall", {"v": 20.5, "u": "c", "ts": minutes_ago(1)})
    assert response.status_code == 201
    assert (response.json()["v"], response.json()["u"]) == (20.5, "C")
    kelvin = (await average(client, "hall", "PT5M")).json()
    assert kelvin["v"] == pytest.approx(293.65)


async def post_should_accept_spaces_and_unicode_in_room_names(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/measurements/Living%20room%20%E5%AE%A2%E5%8E%85", json={"v": 293.0}
    )
    assert response.status_code == 201
    assert response.json()["room_id"] == "Living room 客厅"


async def post_again_should_store_nothing_new(
    client: httpx.AsyncClient, memory_store: InMemoryStore
) -> None:
    body = {"v": 293.4, "ts": minutes_ago(1)}
    assert (await post(client, "hall", body)).status_code == 201
    assert (await post(client, "hall", body)).status_code == 201
    assert (await average(client, "hall", "PT5M")).json()["count"] == 1


async def post_again_in_another_unit_should_be_the_same_measurement(
    client: httpx.AsyncClient,
) -> None:
    ts = minutes_ago(1)
    assert (await post(client, "hall", {"v": 20.0, "u": "C", "ts": ts})).status_code == 201
    assert (await post(client, "hall", {"v": 293.15, "u": "K", "ts": ts})).status_code == 201
    assert (await post(client, "hall", {"v": 68.0, "u": "F", "ts": ts})).status_code == 201
    assert (await average(client, "hall", "PT5M")).json()["count"] == 1


async def post_of_another_value_at_a_stored_ts_should_conflict(client: httpx.AsyncClient) -> None:
    ts = minutes_ago(1)
    await post(client, "hall", {"v": 293.4, "ts": ts})
    assert_problem(await post(client, "hall", {"v": 295.0, "ts": ts}), 409, "conflict")
    assert (await average(client, "hall", "PT5M")).json()["v"] == 293.4


@pytest.mark.parametrize(
    ("body", "pointer", "words"),
    [
        ({"v": -0.01}, "#/v", "below absolute zero"),
        ({"v": -273.16, "u": "C"}, "#/v", "below absolute zero"),
        ({"v": -459.68, "u": "F"}, "#/v", "below absolute zero"),
        ({"v": 1273.16}, "#/v", "above the ceiling"),
        ({"v": 1000.01, "u": "C"}, "#/v", "above the ceiling of 1000 C"),
        ({"v": 293.0, "ts": "2026-11-27T13:00:01Z"}, "#/ts", "ahead of the server's clock"),
        ({"v": 293.0, "ts": "1899-12-31T23:59:59Z"}, "#/ts", "outside the years"),
    ],
)
async def post_should_refuse_values_outside_the_rules(
    client: httpx.AsyncClient, body: dict[str, Any], pointer: str, words: str
) -> None:
    problem = assert_problem(await post(client, "hall", body), 422, "invalid_measurement")
    assert [error["pointer"] for error in problem["errors"]] == [pointer]
    assert words in problem["errors"][0]["detail"]


@pytest.mark.parametrize(
    "body",
    [{"v": 0.0}, {"v": -273.15, "u": "C"}, {"v": 1273.15}, {"v": 1, "ts": "2026-11-27T13:00:00Z"}],
)
async def post_should_accept_values_on_the_bounds(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    assert (await post(client, "hall", body)).status_code == 201


async def post_should_name_every_broken_rule(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/measurements/hall%0A", json={"v": -1.0, "ts": "2027-01-01T00:00:00Z"}
    )
    problem = assert_problem(response, 422, "invalid_measurement")
    places = [error.get("parameter") or error.get("pointer") for error in problem["errors"]]
    assert places == ["room_id", "#/v", "#/ts"]


async def an_invalid_room_id_should_be_said_why_like_any_field(client: httpx.AsyncClient) -> None:
    # Found by schemathesis: the room's error had no detail, which FieldError requires.
    response = await client.post("/measurements/%C3%97%C3%B8%C2%9B", json={"v": 21.5})
    problem = assert_problem(response, 422, "invalid_measurement")
    assert problem["errors"] == [
        {"parameter": "room_id", "detail": "a room id must not contain control character U+009B"}
    ]


async def average_should_be_the_exact_mean_of_the_window(client: httpx.AsyncClient) -> None:
    values = {1: 290.1, 5: 291.7, 14.9: 293.3, 15.1: 400.0, 30: 100.0}
    for minutes, value in values.items():
        await post(client, "hall", {"v": value, "ts": minutes_ago(minutes)})
    response = await average(client, "hall", "PT15M")
    assert response.status_code == 200
    body = response.json()
    inside = [290.1, 291.7, 293.3]
    assert body["v"] == pytest.approx(sum(inside) / 3, rel=1e-12)
    assert body == {
        "v": body["v"],
        "u": "K",
        "ts": minutes_ago(14.9),
        "count": 3,
        "min": 290.1,
        "max": 293.3,
        "start": minutes_ago(15),
        "end": format_ts(NOW),
        "exact": True,
    }


async def average_should_include_both_ends_of_the_window(client: httpx.AsyncClient) -> None:
    await post(client, "hall", {"v": 290.0, "ts": minutes_ago(15)})
    await post(client, "hall", {"v": 300.0, "ts": minutes_ago(0)})
    assert (await average(client, "hall", "PT15M")).json()["count"] == 2


async def average_should_convert_to_the_unit_asked(client: httpx.AsyncClient) -> None:
    await post(client, "hall", {"v": 20.0, "u": "C", "ts": minutes_ago(1)})
    body = (await average(client, "hall", "PT15M", unit="f")).json()
    assert body["u"] == "F"
    assert body["v"] == pytest.approx(68.0)
    assert body["min"] == pytest.approx(68.0)


async def values_read_in_c_or_f_should_be_free_of_binary_noise(
    client: httpx.AsyncClient, memory_store: InMemoryStore
) -> None:
    await post(client, "hall", {"v": 294.1, "u": "K", "ts": minutes_ago(2)})
    await post(client, "den", {"v": 68, "u": "F", "ts": minutes_ago(2)})
    hall = (await average(client, "hall", "PT15M", unit="C")).json()
    den = (await average(client, "den", "PT15M", unit="C")).json()
    assert (hall["v"], hall["min"], den["v"]) == (20.95, 20.95, 20.0)  # as JSON text, too
    raw = await client.get("/measurements/hall", params={"unit": "F"})
    assert raw.json()["items"][0]["v"] == 69.71
    [stored] = await memory_store.raw("hall", NOW - timedelta(hours=1), NOW, 10)
    assert stored[1] == 294.1  # kelvin is stored as posted


async def average_should_end_where_asked(client: httpx.AsyncClient) -> None:
    await post(client, "hall", {"v": 290.0, "ts": "2026-11-27T10:00:00Z"})
    await post(client, "hall", {"v": 300.0, "ts": "2026-11-27T11:00:00Z"})
    body = (await average(client, "hall", "PT30M", end="2026-11-27T12:15:00+02:00")).json()
    assert (body["count"], body["v"], body["end"]) == (1, 290.0, "2026-11-27T10:15:00Z")


async def average_of_a_room_never_seen_should_be_room_not_found(client: httpx.AsyncClient) -> None:
    assert_problem(await average(client, "nowhere", "PT15M"), 404, "room_not_found")


async def average_of_an_empty_window_should_be_no_measurements(client: httpx.AsyncClient) -> None:
    await post(client, "hall", {"v": 290.0, "ts": minutes_ago(60)})
    assert_problem(await average(client, "hall", "PT15M"), 404, "no_measurements")


@pytest.mark.parametrize(
    ("duration", "code", "words"),
    [
        ("P1M", "invalid_duration", "P30D"),
        ("P1Y", "invalid_duration", "P365D"),
        ("PT0S", "invalid_duration", "empty"),
        ("-PT15M", "invalid_duration", "negative"),
        ("P36526D", "invalid_duration", "100 years"),
        ("fifteen", "invalid_duration", "ISO 8601"),
    ],
)
async def average_should_refuse_unusable_durations(
    client: httpx.AsyncClient, duration: str, code: str, words: str
) -> None:
    problem = assert_problem(await average(client, "hall", duration), 422, code)
    assert words in problem["detail"]


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"unit": "X"}, "unit"),
        ({"unit": "kelvin"}, "unit"),
        ({"end": "yesterday"}, "end"),
        ({"end": "1700000000"}, "end"),
        ({"end": "1800-01-01T00:00:00Z"}, "end"),
    ],
)
async def average_should_refuse_bad_parameters(
    client: httpx.AsyncClient, params: dict[str, str], parameter: str
) -> None:
    response = await average(client, "hall", "PT15M", **params)
    assert response.status_code == 422
    assert response.json()["errors"][0]["parameter"] == parameter
