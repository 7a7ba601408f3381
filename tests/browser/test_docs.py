"""The API's documentation pages in a real browser: drawn from files served by roomtemp under
its Content-Security-Policy, with no network beyond the server itself."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, Route, expect

from tests.blackbox.server import Server, running_server

REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with running_server("memory://") as running:
        yield running


@pytest.fixture
def offline(page: Page, server: Server) -> list[str]:
    """The page cut off from everything but the server; the addresses it tried to reach."""
    elsewhere: list[str] = []

    def only_the_server(route: Route) -> None:
        if route.request.url.startswith(f"{server.url}/") or route.request.url.startswith("data:"):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort("internetdisconnected")

    page.route("**/*", only_the_server)
    return elsewhere


def swagger_ui_should_show_the_operations_offline_and_break_no_policy(
    page: Page, server: Server, offline: list[str], errors: list[str]
) -> None:
    page.goto(f"{server.url}/docs")
    operation = page.locator(".opblock-summary-path", has_text="/measurements/{room_id}")
    expect(operation.first).to_be_visible()
    page.locator(".opblock-summary", has_text="/healthz").first.click()  # its details open
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()  # a request the policy lets through
    expect(page.locator(".live-responses-table tbody .response-col_status").first).to_have_text(
        "200"
    )
    assert offline == []
    assert errors == []  # a script or style the policy refused would be a console error


def redoc_should_show_the_operations_offline_and_break_no_policy(
    page: Page, server: Server, offline: list[str], errors: list[str]
) -> None:
    page.goto(f"{server.url}/redoc")
    expect(page.get_by_text("/measurements/{room_id}/average/{duration}").first).to_be_attached()
    expect(page.get_by_role("heading", name="roomtemp").first).to_be_visible()
    assert offline == []
    # ReDoc's sidebar always shows its maker's logo from their CDN (hidden when it fails to
    # load): the policy refuses it, which is all the console may complain of.
    assert [error for error in errors if REDOC_LOGO not in error] == []
