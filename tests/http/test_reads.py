"""Series, rooms and raw measurements, through the app, with the clock stopped at NOW."""

import zoneinfo
from collections.abc import Iterator, Mapping
from datetime import timedelta

import httpx
import pytest

from roomtemp.domain.measurements import format_ts
from tests.http.conftest import NOW
from tests.http.test_measurements import assert_problem, minutes_ago


async def store(client: httpx.AsyncClient, room: str, readings: Mapping[float, float]) -> None:
    """Measurements of `room`: minutes ago -> kelvin."""
    items = [
        {"room_id": room, "v": v, "ts": minutes_ago(minutes)} for minutes, v in readings.items()
    ]
    assert (await client.post("/measurements", json=items)).status_code == 200


async def series_should_give_each_non_empty_bucket(client: httpx.AsyncClient) -> None:
    await store(client, "hall", {10: 290.0, 20: 292.0, 130: 280.0})
    response = await client.get("/measurements/hall/series/PT3H", params={"bucket": "PT1H"})
    assert response.status_code == 200
    body = response.json()
    assert (body["room_id"], body["u"], body["bucket"], body["exact"]) == (
        "hall",
        "K",
        "PT1H",
        True,
    )
    assert body["points"] == [
        {"ts": "2026-11-27T09:00:00Z", "v": 280.0, "min": 280.0, "max": 280.0, "count": 1},
        {"ts": "2026-11-27T11:00:00Z", "v": 291.0, "min": 290.0, "max": 292.0, "count": 2},
    ]


async def series_should_convert_and_align_days_to_a_zone(client: httpx.AsyncClient) -> None:
    await store(
        client, "hall", {60 * 11: 293.15, 60 * 13: 295.15}
    )  # 01:00 and 23:00 the day before, UTC
    params = {"bucket": "P1D", "tz": "Europe/Berlin", "unit": "C"}
    body = (await client.get("/measurements/hall/series/P2D", params=params)).json()
    assert [(p["ts"], p["count"]) for p in body["points"]] == [
        ("2026-11-26T23:00:00Z", 2)  # both fall on 27 November in Berlin
    ]
    assert body["points"][0]["v"] == pytest.approx(21.0)


@pytest.fixture
def no_system_time_zones() -> Iterator[None]:
    """As on a minimal system or a container without /usr/share/zoneinfo."""
    zoneinfo.reset_tzpath([])
    zoneinfo.ZoneInfo.clear_cache()
    yield
    zoneinfo.reset_tzpath()
    zoneinfo.ZoneInfo.clear_cache()


@pytest.mark.usefixtures("no_system_time_zones")
async def series_should_know_the_zones_browsers_name_without_the_systems_database(
    client: httpx.AsyncClient,
) -> None:
    await store(client, "hall", {60: 293.15})
    # Chrome names India's zone by its old alias.
    params = {"bucket": "P1D", "tz": "Asia/Calcutta"}
    response = await client.get("/measurements/hall/series/P2D", params=params)
    assert response.status_code == 200, response.text
    assert [point["ts"] for point in response.json()["points"]] == ["2026-11-26T18:30:00Z"]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"bucket": "PT0.5S"}, "invalid_bucket"),
        ({"bucket": "PT1S"}, "invalid_bucket"),  # 10,800 buckets in PT3H
        ({"bucket": "P1M"}, "invalid_duration"),
        ({"bucket": "PT1H", "tz": "Mars/Olympus"}, "invalid_parameter"),
        ({"bucket": "PT36H", "tz": "Europe/Berlin"}, "invalid_bucket"),
    ],
)
async def series_should_refuse_buckets_it_cannot_draw(
    client: httpx.AsyncClient, params: dict[str, str], code: str
) -> None:
    await store(client, "hall", {1: 290.0})
    assert_problem(await client.get("/measurements/hall/series/PT3H", params=params), 422, code)


async def series_of_an_unknown_room_should_be_room_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get("/measurements/nowhere/series/PT3H", params={"bucket": "PT1H"})
    assert_problem(response, 404, "room_not_found")


async def rooms_should_list_every_room_sorted_with_its_latest(client: httpx.AsyncClient) -> None:
    await store(client, "kitchen", {5: 300.0, 1: 301.0})
    await store(client, "Hall", {3: 290.0})
    body = (await client.get("/rooms", params={"unit": "C"})).json()
    assert [room["room_id"] for room in body] == ["Hall", "kitchen"]
    kitchen = body[1]
    assert (kitchen["count"], kitchen["u"]) == (2, "C")
    assert (kitchen["first_ts"], kitchen["last_ts"]) == (minutes_ago(5), minutes_ago(1))
    assert kitchen["last_v"] == pytest.approx(301.0 - 273.15)


async def rooms_should_come_in_pages_named_by_the_link_header(
    client: httpx.AsyncClient,
) -> None:
    names = ["Zimmer", "attic", "Äpfel", "Büro", "hall", "Ω", "Floor 2/Room 5", "10", "9"]
    for name in names:
        await store(client, name, {1: 290.0})
    seen: list[str] = []
    path: str | None = "/rooms?limit=4&unit=C"
    while path is not None:
        response = await client.get(path)
        assert response.status_code == 200
        page = response.json()
        assert len(page) <= 4
        assert all(room["u"] == "C" for room in page)
        seen += [room["room_id"] for room in page]
        path = response.links.get("next", {}).get("url")
        assert (path is None) == (len(seen) == len(names))
    assert seen == sorted(names)  # code point order, whatever the database's collation


@pytest.mark.parametrize("cursor", ["%%%", "", "AA", "_w", "YQ"[:1]])  # junk, NUL, bad UTF-8
async def rooms_should_refuse_a_cursor_it_never_gave(
    client: httpx.AsyncClient, cursor: str
) -> None:
    response = await client.get("/rooms", params={"cursor": cursor})
    assert_problem(response, 422, "invalid_parameter")


async def rooms_with_a_window_should_summarise_each_room_over_it(
    client: httpx.AsyncClient,
) -> None:
    await store(client, "hall", {10: 290.0, 30: 294.0, 60 * 30: 200.0})
    await store(client, "kitchen", {60 * 30: 300.0})
    body = (await client.get("/rooms", params={"window": "PT1H"})).json()
    hall, kitchen = body
    assert hall["window"] == {"v": 292.0, "min": 290.0, "max": 294.0, "count": 2}
    assert kitchen["window"] is None  # nothing in the last hour
    assert "window" not in (await client.get("/rooms")).json()[0]


async def measurements_should_come_in_pages_by_cursor(client: httpx.AsyncClient) -> None:
    await store(client, "hall", {minutes: 290.0 + minutes for minutes in range(1, 6)})
    first = (await client.get("/measurements/hall", params={"limit": 2})).json()
    assert [item["ts"] for item in first["items"]] == [minutes_ago(5), minutes_ago(4)]
    assert first["items"][0] == {"ts": minutes_ago(5), "v": 295.0, "u": "K"}
    second = (
        await client.get("/measurements/hall", params={"limit": 2, "cursor": first["next"]})
    ).json()
    third = (
        await client.get("/measurements/hall", params={"limit": 2, "cursor": second["next"]})
    ).json()
    assert [item["ts"] for item in second["items"] + third["items"]] == [
        minutes_ago(3),
        minutes_ago(2),
        minutes_ago(1),
    ]
    assert third["next"] is None


async def measurements_should_keep_to_start_and_end(client: httpx.AsyncClient) -> None:
    await store(client, "hall", dict.fromkeys(range(1, 6), 290.0))
    params = {"start": minutes_ago(4), "end": minutes_ago(2), "unit": "F"}
    items = (await client.get("/measurements/hall", params=params)).json()["items"]
    assert [item["ts"] for item in items] == [minutes_ago(4), minutes_ago(3), minutes_ago(2)]
    assert items[0]["u"] == "F"


async def measurements_as_csv_should_stream_every_one(client: httpx.AsyncClient) -> None:
    await store(client, "hall", {minutes: 290.0 + minutes for minutes in (2, 1)})
    response = await client.get(
        "/measurements/hall", headers={"Accept": "text/csv"}, params={"unit": "C"}
    )
    assert response.headers["content-type"].startswith("text/csv")
    lines = response.text.splitlines()
    assert lines[0] == "ts,v,u"
    assert lines[1].startswith(f"{minutes_ago(2)},")
    assert float(lines[1].split(",")[1]) == pytest.approx(292.0 - 273.15)
    assert len(lines) == 3


async def a_cursor_not_given_out_should_be_refused(client: httpx.AsyncClient) -> None:
    await store(client, "hall", {1: 290.0})
    response = await client.get("/measurements/hall", params={"cursor": "not-a-cursor"})
    assert response.json()["errors"][0]["parameter"] == "cursor"


async def measurements_of_an_unknown_room_should_be_room_not_found(
    client: httpx.AsyncClient,
) -> None:
    assert_problem(await client.get("/measurements/nowhere"), 404, "room_not_found")


async def the_average_over_a_window_wholly_in_rollups_should_equal_the_raw_mean(
    client: httpx.AsyncClient,
) -> None:
    readings: dict[float, float] = {
        minutes: 280.0 + (minutes * 7) % 23 for minutes in range(0, 60 * 24 * 3, 17)
    }
    await store(client, "hall", readings)
    body = (await client.get("/measurements/hall/average/P2DT5H")).json()
    inside = [v for minutes, v in readings.items() if minutes <= 60 * 53]
    assert body["count"] == len(inside)
    assert body["v"] == pytest.approx(sum(inside) / len(inside), rel=1e-12)
    assert body["ts"] == format_ts(
        NOW - timedelta(minutes=max(m for m in readings if m <= 60 * 53))
    )
