"""PiggyBank's board in the browser, as named steps for the end-to-end tests: open a dashboard, wait
until every panel has drawn, read what the panels show."""

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Page, expect

TERMINAL = ("ready", "nodata", "error")


@dataclass
class Board:
    page: Page
    base: str  # http://127.0.0.1:<grafana port>
    screenshots: Path
    errors: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))

    def open(self, path: str = "/", timeout: float = 30_000) -> None:
        """Open a board URL and wait until every panel has drawn its first answer."""
        self.page.goto(self.base + path)
        expect(self.page.get_by_test_id("board")).to_have_attribute("data-drawn-tick", "0", timeout=timeout)

    def tick(self) -> int:
        return int(self.page.get_by_test_id("board").get_attribute("data-tick"))

    def wait_drawn_after(self, tick: int, timeout: float = 20_000) -> int:
        """Wait until a refresh later than `tick` has drawn every panel; returns its tick."""
        self.page.wait_for_function(
            "t => Number(document.querySelector('[data-testid=board]').dataset.drawnTick) > t", arg=tick,
            timeout=timeout)
        return int(self.page.get_by_test_id("board").get_attribute("data-drawn-tick"))

    def refresh_now(self) -> int:
        before = self.tick()
        self.page.get_by_role("button", name="Refresh now").click()
        return self.wait_drawn_after(before)

    def panels(self) -> list[dict]:
        return self.page.eval_on_selector_all("[data-testid=panel]", """els => els.map(e => ({
            title: e.dataset.title, type: e.dataset.type, state: e.dataset.state, series: Number(e.dataset.series),
            error: e.querySelector('[data-testid=panel-error]')?.textContent ?? null}))""")

    def panel(self, title: str):
        return self.page.locator(f'[data-testid=panel][data-title="{title}"]')

    def stats(self, title: str) -> dict[str, dict]:
        """A stat panel's tiles: name -> {text, color}."""
        return {t["name"]: t for t in self.panel(title).locator("[data-testid=stat-value]").evaluate_all(
            "els => els.map(e => ({name: e.dataset.name, text: e.querySelector('.stat-value').textContent,"
            " color: e.dataset.color, value: e.dataset.value}))")}

    def table(self, title: str) -> list[dict[str, str]]:
        """A table panel's rows as {column title: cell text}."""
        return self.panel(title).locator("table").evaluate("""t => {
            const heads = [...t.querySelectorAll('thead th')].map(h => h.textContent)
            return [...t.querySelectorAll('tbody tr')].map(r => Object.fromEntries(
                [...r.children].map((c, i) => [heads[i], c.textContent])))}""")

    def timeline(self, title: str) -> dict[str, list[dict]]:
        """A state timeline's rows: name -> segments {from, to, value, text} (value None: a gap)."""
        rows = self.panel(title).locator("[data-testid=timeline-summary] li").evaluate_all(
            "els => els.map(e => [e.dataset.row, e.dataset.segments])")
        return {name: json.loads(segments) for name, segments in rows}

    def alerts(self, title: str) -> dict[str, str]:
        """An alert list: alert name -> state."""
        return dict(self.panel(title).locator("[data-testid=alert]").evaluate_all(
            "els => els.map(e => [e.dataset.alert, e.dataset.state])"))

    def choose(self, variable: str, value: str) -> None:
        """Pick "All" or one value of a variable in its menu, as a person does, and wait for the redraw."""
        before = self.tick()
        picker = self.page.get_by_test_id(f"variable-{variable}")
        picker.click()
        menu = self.page.locator(f"#variable-{variable}")
        if not menu.get_by_label("All", exact=True).is_checked():
            menu.get_by_label("All", exact=True).click()
        if value != "All":
            menu.get_by_label(value, exact=True).click()
        self.page.keyboard.press("Escape")
        expect(picker).to_have_attribute("data-selected", "$__all" if value == "All" else value)
        self.wait_drawn_after(before)

    def shot(self, name: str) -> Path:
        path = self.screenshots / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


def poll(what: str, check, timeout: float, interval: float = 0.2):
    """check() until truthy; returns (value, seconds waited) or fails naming what was awaited."""
    started = time.monotonic()
    last = None
    while time.monotonic() - started < timeout:
        last = check()
        if last:
            return last, time.monotonic() - started
        time.sleep(interval)
    raise AssertionError(f"not within {timeout:.0f} s: {what}; last seen: {last!r}")
