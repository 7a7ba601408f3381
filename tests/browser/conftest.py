"""A headless Chromium, and pages that collect what went wrong in them and leave a screenshot
in test-artifacts/browser/ (git-ignored; CI keeps them)."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Dialog,
    Page,
    ViewportSize,
    sync_playwright,
)

from tests.browser.chromium import launch_options

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
DESKTOP = ViewportSize(width=1280, height=800)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Module-scoped: Playwright's synchronous API keeps an event loop of its own, which is
    # better gone before the asynchronous tests of other modules run theirs.
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(**launch_options())
        yield chromium
        chromium.close()


@pytest.fixture
def errors() -> list[str]:
    """Console errors, uncaught exceptions and dialogs (an alert() would mean injected code)
    of the test's page."""
    return []


@pytest.fixture
def page(browser: Browser, errors: list[str], request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page in a fresh context (no localStorage), in English and UTC, so that the numbers
    and times shown do not depend on the machine."""
    context = browser.new_context(locale="en-US", timezone_id="UTC", viewport=DESKTOP)
    opened = context.new_page()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(f"console: {message.text} ({message.location.get('url')})")

    def on_dialog(dialog: Dialog) -> None:
        errors.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    opened.on("console", on_console)
    opened.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    opened.on("dialog", on_dialog)
    yield opened
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    opened.screenshot(path=ARTIFACTS / f"{request.node.name}.png", full_page=True)
    context.close()
