"""Fixtures for the browser tests: Debian's Chromium driven by Playwright against the test stack.

Playwright's own browser download can't work on these machines, so the tests launch
/usr/bin/chromium. Each test gets fresh browser contexts (separate cookies and sessionStorage,
like two people on two computers); screenshots go to test-artifacts/screenshots/.
"""

import os
from pathlib import Path

import pytest

from tests.e2e.helpers import BrowserSession

CHROMIUM = os.environ.get("PIGGY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture(scope="session")
def browser(stack):
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `python3 -m stack.install --for-tests` installs Debian's chromium")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # The machine may be busy (2 cores shared with other test stacks): wait generously, fail clearly.
    playwright_api.expect.set_options(timeout=15_000)
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def open_browser(browser, stack):
    """open_browser(viewport=...) → a BrowserSession: a new context and page on the stack's URL."""
    sessions: list[BrowserSession] = []

    def open_(width: int = 1280, height: int = 860, bypass_csp: bool = False) -> BrowserSession:
        context = browser.new_context(ignore_https_errors=True, viewport={"width": width, "height": height},
                                      locale="en-GB", timezone_id="Europe/Vienna", bypass_csp=bypass_csp)
        context.set_default_timeout(15_000)
        session = BrowserSession(context, context.new_page(), stack.url(""), SCREENSHOTS)
        sessions.append(session)
        return session

    yield open_
    for session in sessions:
        session.close()
