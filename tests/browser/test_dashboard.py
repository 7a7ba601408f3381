"""The dashboard in a real browser, against the real server, with rooms whose numbers are known."""

import json
import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlparse

import httpx
import pytest
from playwright.sync_api import Page, Route, expect

from roomtemp.domain.units import Unit, from_kelvin, to_kelvin
from tests.blackbox.server import Server, running_server

LIVING_ROOM = "Living room"
HOSTILE = "<img src=x onerror=alert(1)>"  # a room name is anyone's text
NOW_CELSIUS, LOW_CELSIUS, HIGH_CELSIUS = 22.0, 18.0, 23.0
READINGS_A_DAY = 144  # one every 10 minutes


def living_room_celsius(step: int) -> float:
    """Every 10 minutes for a day, newest (step 0) first: 22.0 now, between 18.0 and 23.0."""
    if step == 0:
        return NOW_CELSIUS
    return round(20.5 + 2.5 * math.cos(2 * math.pi * (step - 6) / READINGS_A_DAY), 2)


def item(room: str, minutes_ago: float, celsius: float, now: datetime) -> dict[str, object]:
    ts = (now - timedelta(minutes=minutes_ago)).isoformat()
    return {"room_id": room, "v": celsius, "u": "C", "ts": ts}


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """A real server with three rooms; the living room measured every 10 minutes for a day."""
    now = datetime.now(UTC)
    items = [item(LIVING_ROOM, 10 * step, living_room_celsius(step), now) for step in range(144)]
    items += [item("Kitchen", minutes, 19.5, now) for minutes in (5, 65, 125)]
    items.append(item(HOSTILE, 1, 20.0, now))
    with running_server("memory://") as running:
        response = httpx.post(f"{running.url}/measurements", json=items)
        assert response.status_code == 200, response.text
        yield running


def open_dashboard(page: Page, server: Server, room: str = LIVING_ROOM) -> None:
    page.goto(f"{server.url}/#room={quote(room)}")
    expect(page.locator("#status")).to_contain_text("Updated")


def shown(celsius: float, unit: Unit) -> str:
    """How the dashboard should show a temperature: one decimal, two in kelvin."""
    value = from_kelvin(to_kelvin(celsius, Unit.CELSIUS), unit)
    return {"C": f"{value:.1f} °C", "F": f"{value:.1f} °F", "K": f"{value:.2f} K"}[unit]


def room_row(page: Page, room: str) -> dict[str, str]:
    row = page.locator("#room-rows tr").filter(has=page.get_by_role("button", name=room))
    cells = row.locator("td")
    return {
        "now": cells.nth(1).inner_text(),
        "min": cells.nth(3).inner_text(),
        "max": cells.nth(4).inner_text(),
    }


def dashboard_should_load_without_errors_and_list_every_room(
    page: Page, server: Server, errors: list[str]
) -> None:
    open_dashboard(page, server)
    names = page.locator("#room-rows .room-name").all_inner_texts()
    assert names == [HOSTILE, "Kitchen", LIVING_ROOM]  # as text, never as markup
    assert page.locator("#room-rows img").count() == 0
    assert room_row(page, LIVING_ROOM) == {
        "now": shown(NOW_CELSIUS, Unit.CELSIUS),
        "min": shown(LOW_CELSIUS, Unit.CELSIUS),
        "max": shown(HIGH_CELSIUS, Unit.CELSIUS),
    }
    expect(page.locator("#empty")).to_be_hidden()
    assert errors == []


def painted_pixels(page: Page) -> int:
    count: int = page.evaluate(
        """() => {
            const canvas = document.querySelector("#chart canvas");
            const context = canvas.getContext("2d");
            const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
            let painted = 0;
            for (let alpha = 3; alpha < data.length; alpha += 4) painted += data[alpha] > 0;
            return painted;
        }"""
    )
    return count


def the_chart_should_draw_a_point_for_each_bucket_of_the_range(
    page: Page, server: Server, errors: list[str]
) -> None:
    open_dashboard(page, server)
    expect(page.locator("#chart-title")).to_have_text(LIVING_ROOM)
    chart = page.locator("#chart")
    # A reading every 10 minutes, in quarter-hour buckets: one or two in each.
    quarters = httpx.get(
        f"{server.url}/measurements/{quote(LIVING_ROOM)}/series/P1D", params={"bucket": "PT15M"}
    ).json()["points"]
    assert len(quarters) in (96, 97)
    expect(chart).to_have_attribute("data-points", str(len(quarters)))
    assert painted_pixels(page) > 1000
    page.get_by_role("button", name="1 h", exact=True).click()
    expect(chart).to_have_attribute("data-points", "6")  # 0, 10, ... 50 minutes ago
    for range_name in ("7 d", "30 d", "1 y"):
        page.get_by_role("button", name=range_name, exact=True).click()
        expect(page.get_by_role("button", name=range_name, exact=True)).to_have_attribute(
            "aria-pressed", "true"
        )
        expect(chart.locator("canvas")).to_have_count(1)
    assert errors == []


def selecting_a_room_should_chart_it(page: Page, server: Server, errors: list[str]) -> None:
    open_dashboard(page, server)
    page.get_by_role("button", name="Kitchen", exact=True).click()
    expect(page.locator("#chart-title")).to_have_text("Kitchen")
    expect(page.locator("#chart")).to_have_attribute("data-points", "3")
    assert urlparse(page.url).fragment == "room=Kitchen"
    assert errors == []


@pytest.mark.parametrize("unit", [Unit.FAHRENHEIT, Unit.KELVIN])
def the_unit_toggle_should_convert_every_value_and_be_remembered(
    page: Page, server: Server, errors: list[str], unit: Unit
) -> None:
    open_dashboard(page, server)
    page.locator(f"[data-unit={unit.value}]").click()
    expected = {
        "now": shown(NOW_CELSIUS, unit),
        "min": shown(LOW_CELSIUS, unit),
        "max": shown(HIGH_CELSIUS, unit),
    }
    assert room_row(page, LIVING_ROOM) == expected
    page.reload()
    expect(page.locator("#status")).to_contain_text("Updated")
    expect(page.locator(f"[data-unit={unit.value}]")).to_have_attribute("aria-pressed", "true")
    assert room_row(page, LIVING_ROOM) == expected
    assert errors == []


def the_dashboard_should_refresh_by_itself(page: Page, server: Server, errors: list[str]) -> None:
    page.clock.install()
    open_dashboard(page, server)
    kitchen = page.get_by_role("row").filter(has=page.get_by_role("button", name="Kitchen"))
    expect(kitchen).to_contain_text(shown(19.5, Unit.CELSIUS))
    later = {"v": 25.0, "u": "C", "ts": datetime.now(UTC).isoformat()}
    assert httpx.post(f"{server.url}/measurements/Kitchen", json=later).status_code == 201
    page.clock.fast_forward(31_000)
    expect(kitchen).to_contain_text(shown(25.0, Unit.CELSIUS))
    assert errors == []


def the_layout_should_fit_a_phone(page: Page, server: Server, errors: list[str]) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    open_dashboard(page, server)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    chart_box = page.locator("#chart canvas").bounding_box()
    assert chart_box is not None
    assert chart_box["x"] >= 0
    assert chart_box["x"] + chart_box["width"] <= 390
    expect(page.locator("#room-rows .room-name").first).to_be_in_viewport()
    assert errors == []


TOKEN = "s3cret-read-token"
API_PATHS = ("/rooms", "/measurements")


def require_token(route: Route) -> None:
    """The server as it answers once access needs a token (issue 6): 401 without this one."""
    if route.request.headers.get("authorization") == f"Bearer {TOKEN}":
        route.continue_()
        return
    problem = {"status": 401, "code": "unauthorized", "detail": "a token is needed"}
    route.fulfill(status=401, content_type="application/problem+json", body=json.dumps(problem))


def a_401_should_ask_for_a_token_then_send_and_remember_it(page: Page, server: Server) -> None:
    page.route(lambda url: urlparse(url).path.startswith(API_PATHS), require_token)
    page.goto(server.url)
    form = page.locator("#token-form")
    expect(form).to_be_visible()
    expect(page.locator("#room-rows tr")).to_have_count(0)
    page.locator("#token").fill(TOKEN)
    page.get_by_role("button", name="Use token").click()
    expect(form).to_be_hidden()
    expect(page.locator("#room-rows tr")).to_have_count(3)
    assert page.evaluate("localStorage.getItem('roomtemp.token')") == TOKEN
    page.reload()
    expect(page.locator("#status")).to_contain_text("Updated")
    expect(form).to_be_hidden()


def an_empty_server_should_say_how_to_add_data(page: Page, errors: list[str]) -> None:
    with running_server("memory://") as empty:
        page.goto(empty.url)
        expect(page.locator("#status")).to_contain_text("Updated")
        expect(page.locator("#empty")).to_be_visible()
        expect(page.locator("#empty")).to_contain_text("make demo")
        expect(page.locator("#curl-example")).to_contain_text(
            f"{empty.url}/measurements/Living%20room"
        )
        expect(page.locator("#rooms")).to_be_hidden()
    assert errors == []


MANY_ROOMS = 1_000


@pytest.fixture(scope="module")
def crowded() -> Iterator[Server]:
    """A server with a thousand rooms, a measurement each."""
    now = datetime.now(UTC)
    items = [item(f"room {index:04}", 1, 20.0 + index % 5, now) for index in range(MANY_ROOMS)]
    with running_server("memory://") as running:
        response = httpx.post(f"{running.url}/measurements", json=items)
        assert response.status_code == 200, response.text
        yield running


def many_rooms_should_be_shown_a_page_at_a_time_from_one_request_each(
    page: Page, crowded: Server, errors: list[str]
) -> None:
    asked: list[str] = []
    page.on("request", lambda request: asked.append(urlparse(request.url).path))
    page.goto(crowded.url)
    expect(page.locator("#status")).to_contain_text("Updated")
    rows = page.locator("#room-rows .room-name")
    expect(rows).to_have_count(50)
    assert rows.first.inner_text() == "room 0000"
    expect(page.locator("#page-range")).to_have_text("Rooms 1\u201350")
    # The table is one request; the chart of the first room another; nothing per room.
    assert [path for path in asked if path.startswith(("/rooms", "/measurements"))] == [
        "/rooms",
        "/measurements/room%200000/series/P1D",
    ]
    assert room_row(page, "room 0001")["min"] == shown(21.0, Unit.CELSIUS)
    page.get_by_role("button", name="Next").click()
    expect(page.locator("#page-range")).to_have_text("Rooms 51\u2013100")
    expect(rows.first).to_have_text("room 0050")
    expect(page.get_by_role("button", name="Previous")).to_be_enabled()
    page.get_by_role("button", name="Previous").click()
    expect(rows.first).to_have_text("room 0000")
    expect(page.get_by_role("button", name="Previous")).to_be_disabled()
    assert errors == []
