"""A page of another origin, in the real browser, against the real server in anonymous mode:
it can neither write nor read, whether it sends requests across origins (a page on another
local port) or makes them same-origin by DNS rebinding (its name resolved to 127.0.0.1)."""

import http.server
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, Playwright, Response, sync_playwright

from tests.blackbox.server import Server, running_server
from tests.browser.chromium import launch_options
from tests.network import free_port

REBINDING = "rebind.test"
# What a hostile page tries: writes without a declared JSON body (no preflight needed), a
# write that is JSON (refused by the browser's preflight, or by Host when rebound), and reads.
SCRIPT = """
async function attempt(url, init) {
  try {
    const response = await fetch(url, init);
    return response.type === "opaque" ? "opaque" : `${response.status} ${await response.text()}`;
  } catch (error) {
    return `failed: ${error}`;
  }
}
window.attack = async (base) => {
  const body = JSON.stringify({ v: 300.0 });
  return [
    await attempt(`${base}/measurements/hall`, {
      method: "POST", mode: "no-cors", body: new Blob([body]),
    }),
    await attempt(`${base}/measurements/hall`, {
      method: "POST", mode: "no-cors", headers: { "Content-Type": "text/plain" }, body,
    }),
    await attempt(`${base}/measurements`, {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify([{ room_id: "hall", v: 300.0 }]),
    }),
    await attempt(`${base}/measurements/hall/average/P1D`, {}),
    await attempt(`${base}/rooms`, {}),
  ];
};
"""
ATTACK = f"<!doctype html><title>attack</title><script>{SCRIPT}</script>"


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with running_server("memory://") as running:
        stored = httpx.post(f"{running.url}/measurements/hall", json={"v": 290.0})
        assert stored.status_code == 201
        yield running


@pytest.fixture(scope="module")
def other_origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The hostile page, served on another local port: another origin, the same site."""
    folder: Path = tmp_path_factory.mktemp("other-origin")
    (folder / "attack.html").write_text(ATTACK)
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    port = free_port()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://localhost:{port}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as started:
        yield started


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """This module's own, beside the one below: one Playwright drives both."""
    chromium = playwright.chromium.launch(**launch_options())
    yield chromium
    chromium.close()


@pytest.fixture(scope="module")
def rebinding_browser(playwright: Playwright) -> Iterator[Browser]:
    """A Chromium in which rebind.test resolves to 127.0.0.1, as after DNS rebinding."""
    options = launch_options()
    options["args"] = [*options["args"], f"--host-resolver-rules=MAP {REBINDING} 127.0.0.1"]
    chromium = playwright.chromium.launch(**options)
    yield chromium
    chromium.close()


def answers_of(page: Page, server: Server) -> list[int]:
    """Statuses of the server's answers to the page (the network sees what the page cannot)."""
    statuses: list[int] = []

    def seen(response: Response) -> None:
        if f":{server.port}/" in response.url and "/attack" not in response.url:
            statuses.append(response.status)

    page.on("response", seen)
    return statuses


def hall_is_untouched(server: Server) -> None:
    average = httpx.get(f"{server.url}/measurements/hall/average/P1D").json()
    assert (average["count"], average["max"]) == (1, 290.0)


def a_page_of_another_origin_should_neither_write_nor_read(
    browser: Browser, server: Server, other_origin: str
) -> None:
    page = browser.new_page()
    statuses = answers_of(page, server)
    page.goto(f"{other_origin}/attack.html")
    results = page.evaluate("base => window.attack(base)", server.url)
    page.close()
    assert results[0:2] == ["opaque", "opaque"]  # sent, answer unseen: refused server-side
    assert all(result.startswith("failed") for result in results[2:]), results
    assert statuses
    assert all(status in (403, 415) for status in statuses), statuses
    hall_is_untouched(server)


def a_rebound_page_should_neither_write_nor_read(
    rebinding_browser: Browser, server: Server
) -> None:
    # Without roomtemp's CSP: the attacker's own page, served before the rebinding, has none.
    page = rebinding_browser.new_page(bypass_csp=True)
    origin = f"http://{REBINDING}:{server.port}"
    # The attacker's script in a document of that origin, as after the rebinding. (Any open
    # path will do for the document; a page fulfilled by Playwright would count as a public
    # one, which Chromium's Private Network Access checks stop, but other browsers do not.)
    page.goto(f"{origin}/healthz")
    page.add_script_tag(content=SCRIPT)
    statuses = answers_of(page, server)
    results = page.evaluate("base => window.attack(base)", origin)
    page.close()
    readable = [result for result in results if result[:3].isdigit()]
    assert readable, results  # same-origin now: the page reads every answer...
    assert all(result.startswith("403 ") for result in readable), results  # ...all refusals
    assert all("non_loopback_host" in result for result in readable)
    assert all(status == 403 for status in statuses), statuses
    hall_is_untouched(server)


def the_dashboard_should_still_read_its_own_server(browser: Browser, server: Server) -> None:
    page = browser.new_page()
    statuses = answers_of(page, server)
    page.goto(f"{server.url}/")
    page.wait_for_selector("#room-rows tr")
    assert "hall" in page.locator("#room-rows").inner_text()
    page.close()
    assert statuses
    assert all(status == 200 for status in statuses), statuses
