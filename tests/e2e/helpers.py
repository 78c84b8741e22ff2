"""What a person does in the browser app, as named steps for the end-to-end tests."""

import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, Page, WebSocket, expect

from tests.api_client import SEED_USERS

# axe-core, the accessibility engine, from the front end's (pinned) dev dependencies.
AXE = Path(__file__).resolve().parents[2] / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
AXE_RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def euro(amount: Decimal | str) -> str:
    """How the app shows money (Intl en-IE): €2,437.23, -€5.00."""
    value = Decimal(amount)
    return f"{'-' if value < 0 else ''}€{abs(value):,.2f}"


@dataclass
class BrowserSession:
    context: BrowserContext
    page: Page
    base: str
    screenshots: Path
    sockets: list[WebSocket] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.page.on("websocket", lambda ws: self.sockets.append(ws))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        # a CSP refusal, a failed asset or request shows up here
        self.page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))

    def close(self) -> None:
        self.context.close()

    def goto(self, path: str) -> None:
        self.page.goto(self.base + path)

    def shot(self, name: str, full_page: bool = True) -> Path:
        path = self.screenshots / f"{name}.png"
        self.page.wait_for_timeout(150)  # let transitions settle
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    # --- signing in and out -----------------------------------------------------------------

    def login(self, email: str, password: str) -> None:
        self.goto("/login")
        self.page.get_by_label("E-mail address", exact=True).fill(email)
        self.page.get_by_label("Password", exact=True).fill(password)
        self.page.get_by_role("button", name="Sign in").click()
        expect(self.page.get_by_role("heading", name="Overview", level=1)).to_be_visible()

    def login_seed(self, who: str) -> None:
        self.login(*SEED_USERS[who])

    def token(self) -> str | None:
        saved = "sessionStorage.getItem('piggybank.session') || 'null'"
        return self.page.evaluate(f"() => JSON.parse({saved})?.token ?? null")

    # --- the live connection ------------------------------------------------------------------

    def live_instance(self, timeout: float = 15_000) -> str:
        """The app server holding this page's WebSocket (from the server's welcome message)."""
        status = self.page.get_by_test_id("live-status")
        expect(status).to_have_attribute("data-status", "online", timeout=timeout)
        return status.get_attribute("data-instance")

    def wait_for_toast(self, text: str, timeout: float = 15_000):
        toast = self.page.get_by_test_id("toast").filter(has_text=text)
        expect(toast).to_be_visible(timeout=timeout)
        return toast

    # --- screens ------------------------------------------------------------------------------

    def nav(self, label: str) -> None:
        self.page.get_by_role("navigation", name="Main").get_by_role("link", name=label, exact=True).click()

    def balance_text(self) -> str:
        return self.page.get_by_test_id("balance").inner_text()

    def fill_transfer(self, name: str, iban: str, amount: str, reference: str = "", tags: tuple[str, ...] = ()) -> None:
        page = self.page
        page.get_by_label("Recipient's name").fill(name)
        page.get_by_label("IBAN", exact=True).fill(iban)
        page.get_by_label("Amount (€)").fill(amount)
        if reference:
            page.get_by_label("Payment reference").fill(reference)
        for tag in tags:
            page.get_by_role("button", name=tag).click()

    def newest_sms_id(self) -> int:
        ids = self.page.get_by_test_id("sms").evaluate_all("els => els.map(e => Number(e.dataset.smsId))")
        return max(ids, default=0)

    def request_mtan(self) -> str:
        """Submit step 1 and return the new mTAN, as the demo phone panel shows it."""
        expect(self.page.get_by_test_id("demo-phone")).not_to_contain_text("Loading messages")
        before = self.newest_sms_id()
        self.page.get_by_test_id("transfer-submit").click()
        expect(self.page.get_by_label("mTAN (6 digits)")).to_be_visible()
        newest = self.page.get_by_test_id("sms").first
        expect(newest).not_to_have_attribute("data-sms-id", str(before))
        code = newest.get_by_test_id("sms-code")
        expect(code).to_have_text(re.compile(r"^\d{6}$"))
        return code.inner_text()


def axe_violations(page: Page) -> list[str]:
    """WCAG 2.1 A/AA and best-practice problems axe-core finds on the page, one line each."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_RULES)
    return [f"{v['impact']} {v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"]]


def pin_transfers_to(page: Page, port: int) -> list[str]:
    """Sends the page's transfer requests to one app server (http://127.0.0.1:port) instead of
    through nginx, so a test knows which server booked them. The requests are real, unchanged."""
    used: list[str] = []

    def forward(route):
        target = f"http://127.0.0.1:{port}{urlsplit(route.request.url).path}"
        used.append(target)
        route.fulfill(response=route.fetch(url=target))

    page.route(re.compile(r".*/api/transfers(/\d+/confirm)?$"), forward)
    return used
