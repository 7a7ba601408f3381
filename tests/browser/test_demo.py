"""The dashboard over a simulated week, as `make demo` shows it. Its screenshot,
test-artifacts/browser/a_simulated_week_should_chart_every_room_without_errors.png, is the one
in the README (docs/dashboard.png)."""

import subprocess
from urllib.parse import quote

from playwright.sync_api import Page, expect

from tests.blackbox.server import ROOMTEMP, running_server

ROOMS = ["Bedroom", "Kids room", "Kitchen", "Living room"]


def a_simulated_week_should_chart_every_room_without_errors(page: Page, errors: list[str]) -> None:
    with running_server("memory://") as server:
        simulate = [str(ROOMTEMP), "simulate", "--url", server.url, "--backfill", "P7D"]
        subprocess.run(
            [*simulate, "--interval", "PT15S", "--seed", "1", "--zone", "UTC"],
            check=True,
            capture_output=True,
            timeout=120,
        )
        page.goto(f"{server.url}/#room={quote('Living room')}")
        expect(page.locator("#status")).to_contain_text("Updated")
        assert page.locator("#room-rows .room-name").all_inner_texts() == ROOMS
        # Quarter-hour buckets over a day, less those a sensor was silent through.
        points = int(page.locator("#chart").get_attribute("data-points") or 0)
        assert 80 <= points <= 97
        for range_name in ("7 d", "30 d", "1 y", "1 h", "24 h"):
            page.get_by_role("button", name=range_name, exact=True).click()
            expect(page.get_by_role("button", name=range_name, exact=True)).to_have_attribute(
                "aria-pressed", "true"
            )
            expect(page.locator("#chart canvas")).to_have_count(1)
        expect(page.locator("#chart")).to_have_attribute("data-points", str(points))
    assert errors == []
