"""PiggyBank's board on the Grafana port, in a real Chromium against the test stack (issue 11): it
draws the provisioned Grafana dashboards themselves, shows data in every panel for "All" and for
each app server, and shows a killed and a hung app server as they happen.

One browser page is shared by the module (each test opens the URL it needs); screenshots go to
test-artifacts/screenshots/board-*.png.
"""

import json
import os
import signal
import time
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import expect

from tests.e2e.board import Board, poll
from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.helpers import AXE, axe_violations
from tests.observability import dashboards as dash
from tests.observability import traffic
from tests.observability.live import Prometheus
from tests.polling import wait_until

FIXTURE = Path(__file__).parent / "fixtures" / "board-fixture.json"
RECORDING_RULES = Path(__file__).parents[2] / "prometheus" / "rules" / "piggybank-recording.yml"
DASHBOARDS = {dash.load(path)["uid"]: dash.load(path) for path in dash.DASHBOARDS}
GREEN, RED = "#73BF69", "#F2495C"
SLO_EVALUATION_SECONDS = next(
    int(group["interval"].rstrip("s")) for group in yaml.safe_load(RECORDING_RULES.read_text())["groups"]
    if group["name"] == "piggybank-slo-sli")


@pytest.fixture(scope="module")
def prometheus(stack, db_engine) -> Prometheus:
    """Known traffic on both app servers, scraped from both: every panel has something to show."""
    prom = Prometheus(stack)
    traffic.drive_until_scraped(stack, db_engine, prom)
    # The SLO panels draw recording rules, which have a value once a rule evaluation saw two scrapes.
    # Their group is evaluated every 30 s at an offset of Prometheus' choosing, so the first
    # evaluation may come just before the second scrape: wait for two evaluations and then some.
    for rule in ("job:slo_errors_per_request:ratio_rate5m", "job:slo_errors_per_request:ratio_rate6h"):
        wait_until(f"Prometheus to have recorded {rule}", lambda r=rule: prom.query(r),
                   timeout=2 * SLO_EVALUATION_SECONDS + 15)
    # A rate() needs two scrapes inside its window. On a young stack some job (the database's
    # exporter, say) may not have them yet, so wait until every panel's query has a value as of 10 s
    # ago, with the board's shortest window (4 x the 2 s scrape interval): then every point the
    # board asks for from now on has one too.
    for dashboard in DASHBOARDS.values():
        for panel, target in dash.queries(dashboard):
            if panel["type"] == "alertlist":
                continue
            expr = dash.substitute(target["expr"], {"appserver": ".*"}, rate_interval="8s", interval="5s")
            wait_until(f"data for {dashboard['uid']} / {panel['title']}: {expr}", lambda e=expr: prom.api(
                "/api/v1/query", {"query": e, "time": time.time() - 10})["result"], timeout=60)
    return prom


@pytest.fixture(scope="module")
def board(browser, stack, prometheus):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-GB", timezone_id="Europe/Vienna")
    context.set_default_timeout(20_000)
    yield Board(context.new_page(), f"http://127.0.0.1:{stack.ports['grafana']}", SCREENSHOTS)
    context.close()


def app_server_names(stack) -> list[str]:
    return [server.name for server in stack.app_servers]


def every_panel(board: Board) -> dict[str, dict]:
    return {p["title"]: p for p in board.panels()}


def assert_every_panel_shows_data(board: Board, dashboard: dict, selection: str) -> None:
    shown = every_panel(board)
    expected = {p["title"] for p in dash.panels(dashboard) if p["type"] != "row"}
    assert set(shown) == expected, f"panels drawn differ from the file: {set(shown) ^ expected}"
    problems = {title: p for title, p in shown.items()
                if p["state"] != "ready" or (p["type"] != "alertlist" and p["series"] < 1)}
    assert not problems, f"{dashboard['uid']} with {selection}: panels without data: {json.dumps(problems, indent=1)}"


def assert_status_up(board: Board, servers: list[str], dashboard: str) -> None:
    """Every app server and the database (the stats' legend is its node name) UP."""
    databases = ["mariadb"]  # the test stack's single MariaDB
    if dashboard == "piggybank-overview":
        assert board.stats("Site (through nginx)")["site"]["text"] == "UP"
        assert {name: t["text"] for name, t in board.stats("Database").items()} == dict.fromkeys(databases, "UP")
        tiles = board.stats("App servers")
        assert {name: t["text"] for name, t in tiles.items()} == dict.fromkeys(servers, "UP")
        assert all(t["color"] == GREEN for t in tiles.values())
        rows = board.table("App servers now")
        assert {r["appserver"]: (r["Process"], r["Healthcheck"]) for r in rows} == dict.fromkeys(servers, ("UP", "ok"))
    else:
        assert {name: t["text"] for name, t in board.stats("MariaDB").items()} == dict.fromkeys(databases, "UP")


def status_up(board: Board, servers: list[str]) -> bool:
    try:
        assert_status_up(board, servers, "piggybank-overview")
    except (AssertionError, KeyError):
        return False
    return True


def test_both_dashboards_show_data_in_every_panel_for_all_and_for_each_app_server(board, stack):
    servers = app_server_names(stack)
    assert len(servers) >= 2
    for uid, dashboard in DASHBOARDS.items():
        board.open(f"/d/{uid}?refresh=")
        expect(board.page.get_by_role("heading", level=1)).to_have_text(dashboard["title"])
        expect(board.page.get_by_test_id("variable-appserver")).to_have_attribute("data-selected", "$__all")
        assert_every_panel_shows_data(board, dashboard, "All")
        assert_status_up(board, servers, uid)
        board.shot(f"board-{uid}")
        for server in servers:  # chosen in the variable's menu, as a person does
            board.choose("appserver", server)
            assert_every_panel_shows_data(board, dashboard, server)
            assert_status_up(board, [server], uid)
            if uid == "piggybank-overview":
                assert set(board.stats("Restarts in the time range")) == {server}
        board.choose("appserver", "All")
        assert_every_panel_shows_data(board, dashboard, "All")
    # The header says what this is, the home page is the overview, links and the dashboard list work.
    board.open("/")
    notice = board.page.get_by_test_id("board-notice")
    expect(notice).to_contain_text("PiggyBank's board, not Grafana")
    expect(notice).to_contain_text("PIGGY_GRAFANA=off")  # why the test stack has no Grafana
    expect(notice).to_contain_text("apt.grafana.com")
    expect(board.page.get_by_role("heading", level=1)).to_have_text("PiggyBank overview")
    description = board.panel("App servers").get_by_test_id("panel-description")
    expect(description).to_be_hidden()
    board.panel("App servers").get_by_role("button", name="About App servers").hover()
    expect(description).to_be_visible()
    expect(description).to_have_text(next(p["description"] for p in dash.panels(DASHBOARDS["piggybank-overview"])
                                           if p.get("title") == "App servers"))
    board.page.get_by_role("link", name="Database").click()
    expect(board.page.get_by_role("heading", level=1)).to_have_text("PiggyBank database")
    assert "from=now-30m" in board.page.url  # the link keeps the time range
    board.page.get_by_test_id("dashboard-picker").select_option("piggybank-overview")
    expect(board.page.get_by_role("heading", level=1)).to_have_text("PiggyBank overview")
    # A row collapses and opens again.
    row = board.page.get_by_test_id("row").filter(has_text="Banking").get_by_role("button")
    row.click()
    expect(board.panel("Sign-ins")).to_have_count(0)
    row.click()
    expect(board.panel("Sign-ins")).to_have_count(1)
    assert not board.errors, board.errors


def next_scrape(prometheus: Prometheus, server: str) -> float:
    """When Prometheus will next scrape an app server (it scrapes each target on a fixed beat)."""
    [target] = [t for t in prometheus.api("/api/v1/targets")["activeTargets"]
                if t["labels"].get("job") == "app" and t["labels"].get("appserver") == server]
    from datetime import datetime

    last = datetime.fromisoformat(target["lastScrape"].replace("Z", "+00:00")).timestamp()
    interval = float(target["scrapeInterval"].rstrip("s"))
    now = time.time()
    return last + interval * (1 + max(0, int((now - last) // interval)))


def test_kill_9_is_counted_as_a_restart_and_the_status_history_shows_the_gap(board, stack, prometheus):
    server = stack.app_servers[0].name
    board.open("/d/piggybank-overview?from=now-5m&to=now&refresh=5s")  # 5 minutes: every scrape is a step
    before = float(board.stats("Restarts in the time range")[server]["value"])
    pid = int(stack.pidfile(server).read_text())
    # Kill just before a scrape, so that Prometheus certainly sees the app server down (it is back in
    # about 2 s, less than a scrape interval; killed at random, the outage could fall between scrapes).
    time.sleep(max(0.0, next_scrape(prometheus, server) - 0.4 - time.time()))
    killed = time.time()
    os.kill(pid, signal.SIGKILL)
    _, healthy_after = poll(f"Monit to restart {server}", lambda: stack.pidfile(server).read_text().strip() != str(pid)
                            and prometheus.query(f'up{{appserver="{server}"}} == 1') and True, timeout=30)
    # The board counts the restart within 10 s of the kill (or 8 s after the new process answers, when
    # a busy machine makes Monit's restart itself slow).
    counted, _ = poll("the restart to be counted on the board",
                      lambda: float(board.stats("Restarts in the time range")[server]["value"]) > before,
                      timeout=max(1.0, max(10.0, healthy_after + 8.0) - (time.time() - killed)))
    counted_after = time.time() - killed

    def gap():
        row = board.timeline("Status history").get(f"{server} process", [])
        return [s for s in row if s["to"] > killed - 1 and (s["value"] is None or s["text"] == "DOWN")]

    gaps, _ = poll("the status history to show the outage", gap, timeout=15)
    poll("the status history to show it up again after the outage", lambda: board.timeline("Status history")[
        f"{server} process"][-1]["text"] == "UP" and board.stats("App servers")[server]["text"] == "UP", timeout=20)
    board.shot("board-after-kill-9")
    assert counted and counted_after <= max(10.0, healthy_after + 8.0), (counted_after, healthy_after)
    assert gaps[0]["from"] <= killed + 6, (gaps, killed)


def test_a_hung_app_server_shows_down_and_its_alert_then_everything_turns_green(board, stack, prometheus):
    server = stack.app_servers[0].name
    servers = app_server_names(stack)
    board.open("/d/piggybank-overview?refresh=5s")
    # The test before killed appserver1: the board shows it UP again once the stat, the table's
    # healthcheck probe and the site have all been scraped healthy, which happen at different moments.
    poll("the board to show every app server and the site up", lambda: status_up(board, servers), timeout=30)
    pid = int(stack.pidfile(server).read_text())
    os.kill(pid, signal.SIGSTOP)
    stopped = time.time()
    seen: dict[str, float] = {}
    try:
        # Watch the board refresh by itself (every 5 s) for 15 s; note when each sign appears.
        while time.time() - stopped < 15 and len(seen) < 2:
            tiles = board.stats("App servers")
            if "down" not in seen and tiles.get(server, {}).get("text") == "DOWN" and sum(
                    t["text"] == "UP" for t in tiles.values()) == len(servers) - 1:
                seen["down"] = time.time() - stopped
            if "alert" not in seen and board.alerts("Firing and pending alerts").get("AppServerDown") in (
                    "pending", "firing"):
                seen["alert"] = time.time() - stopped
            time.sleep(0.2)
        board.shot("board-hung-app-server")
        # Meanwhile Monit has replaced the hung process (after ~7 s); the 20 s end with SIGCONT.
        time.sleep(max(0.0, 20 - (time.time() - stopped)))
    finally:
        try:
            os.kill(pid, signal.SIGCONT)
        except ProcessLookupError:
            pass
    assert set(seen) == {"down", "alert"}, f"seen within 15 s: {seen}"

    def green():
        tiles = board.stats("App servers")
        rows = board.table("App servers now")
        return (all(t["text"] == "UP" and t["color"] == GREEN for t in tiles.values()) and len(tiles) == len(servers)
                and board.stats("Site (through nginx)")["site"]["text"] == "UP"
                and all((r["Process"], r["Healthcheck"]) == ("UP", "ok") for r in rows)
                and "AppServerDown" not in board.alerts("Firing and pending alerts"))

    poll("everything to turn green again", green, timeout=40)
    board.shot("board-green-again")


def test_the_board_passes_an_automated_accessibility_check_at_desktop_and_phone_width(browser, stack, prometheus):
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci` in frontend/ (make test does)")
    found = {}
    for width, height in ((1280, 860), (390, 844)):
        # bypass_csp: to inject axe-core, which the board's CSP would refuse
        context = browser.new_context(viewport={"width": width, "height": height}, bypass_csp=True)
        try:
            board = Board(context.new_page(), f"http://127.0.0.1:{stack.ports['grafana']}", SCREENSHOTS)
            for uid in DASHBOARDS if width > 600 else ["piggybank-overview"]:
                board.open(f"/d/{uid}?refresh=")
                found[f"{width} {uid}"] = axe_violations(board.page)
                if width < 600:
                    assert board.page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
                    board.shot(f"board-phone-{uid}")
        finally:
            context.close()
    problems = {screen: violations for screen, violations in found.items() if violations}
    assert not problems, problems


def test_the_board_draws_a_dashboard_file_it_has_never_seen_as_the_file_says(board):
    page = board.page

    def listing(route):
        files = json.loads(route.fetch().text())
        files.append({"name": FIXTURE.name, "type": "file", "mtime": "", "size": FIXTURE.stat().st_size})
        route.fulfill(json=files)

    page.route("**/dashboards/", listing)
    page.route(f"**/dashboards/{FIXTURE.name}", lambda route: route.fulfill(path=str(FIXTURE),
                                                                          content_type="application/json"))
    try:
        board.open("/d/board-fixture")
        fixture = json.loads(FIXTURE.read_text())
        shown = every_panel(board)
        assert set(shown) == {p["title"] for p in fixture["panels"] if p["type"] != "row"} - {"Inside"}
        assert all(p["state"] == "ready" for p in shown.values()), shown
        # stat: the unit and the threshold colour (42 % >= 40: red), as a background
        answer = board.stats("Answer")["answer"]
        assert (answer["text"], answer["color"]) == ("42%", RED)
        tile = board.panel("Answer").get_by_test_id("stat-value")
        assert tile.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(242, 73, 92)"
        # stat: a value mapping's text and colour, as the text colour
        mapped = board.stats("Mapped")["one"]
        assert (mapped["text"], mapped["color"]) == ("ONE", "#B877D9")
        # gauge: percentunit between min and max, the orange step
        gauge = board.panel("Quarter").get_by_test_id("gauge")
        assert gauge.get_attribute("data-color") == "#FF9830" and gauge.get_attribute("data-share") == "0.2500"
        expect(gauge.locator("text")).to_have_text("25%")
        # table: two queries joined on their labels, overrides rename and give a unit
        assert board.table("Table") == [{"Time": board.table("Table")[0]["Time"], "server": "alpha", "Count": "3",
                                          "Size": "2 KiB"}]
        # timeseries: legend formats, the unit, the colour override
        summary = board.panel("Lines").get_by_test_id("series-summary").locator("li")
        assert summary.evaluate_all("els => els.map(e => e.textContent)") == ["one: last 1 req/s",
                                                                              "three: last 3 req/s"]
        swatches = board.panel("Lines").locator(".legend .swatch")
        assert swatches.nth(1).evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(184, 119, 217)"
        # state timeline: the mapping's text and colour on every segment
        [segment] = board.timeline("States")["always one"]
        assert segment["text"] == "ON" and segment["value"] == 1
        # the alert list answered (whatever fires on the test stack)
        assert shown["Alerts"]["state"] == "ready"
        # gridPos: x and w on the 24 columns
        grid = page.locator(".grid").bounding_box()
        for title, (x, w) in {"Answer": (0, 6), "Quarter": (12, 6), "Lines": (0, 12), "States": (12, 12)}.items():
            box = board.panel(title).bounding_box()
            assert abs((box["x"] - grid["x"]) / grid["width"] - x / 24) < 0.02, (title, box, grid)
            assert abs(box["width"] / grid["width"] - w / 24) < 0.03, (title, box, grid)
        # the collapsed row keeps its panel until it is opened
        expect(board.panel("Inside")).to_have_count(0)
        page.get_by_test_id("row").filter(has_text="Hidden row").get_by_role("button").click()
        expect(board.panel("Inside")).to_have_attribute("data-state", "ready")
        assert board.stats("Inside")["seven"]["text"] == "7"
        board.shot("board-fixture")
    finally:
        page.unroute("**/dashboards/")
        page.unroute(f"**/dashboards/{FIXTURE.name}")
