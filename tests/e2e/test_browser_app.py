"""The browser app in a real Chromium against the real test stack (issue 4, "What must be shown").

Every screen is photographed into test-artifacts/screenshots/ for a person to look at.
"""

import os
import re
import signal
import time
import uuid
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.api_client import SEED_IBANS
from tests.e2e.helpers import AXE, axe_violations, euro, pin_transfers_to


def balance_of(api, who: str) -> Decimal:
    return Decimal(api.get("/api/user", api.login_seed(who)).json()["balance"])


def other_server(stack, instance: str):
    others = [server for server in stack.app_servers if server.name != instance]
    assert len(others) == 1, (instance, stack.app_servers)
    return others[0]


def test_max_sends_gabi_money_and_her_other_server_socket_shows_it_at_once(stack, api, open_browser):
    gabi_before, max_before = balance_of(api, "gabi"), balance_of(api, "max")

    gabi = open_browser()
    gabi.login_seed("gabi")
    gabi_instance = gabi.live_instance()
    expect(gabi.page.get_by_test_id("balance")).to_have_text(euro(gabi_before))

    max_ = open_browser()
    max_.goto("/")
    expect(max_.page.get_by_role("heading", name="Welcome to PiggyBank")).to_be_visible()
    max_.shot("01-login")
    max_.login_seed("max")
    # The overview: his name, balance and IBAN, and the chart.
    expect(max_.page.get_by_test_id("balance")).to_have_text(euro(max_before))
    expect(max_.page.get_by_test_id("iban")).to_have_text("AT96 1000 1000 0000 0001")
    expect(max_.page.get_by_role("heading", name="Max Mustermann")).to_be_visible()
    expect(max_.page.get_by_test_id("stats-chart")).to_have_attribute("data-state", "ready")
    max_.shot("02-overview")

    # The transfer is booked on the app server that does NOT hold Gabi's socket.
    booking_server = other_server(stack, gabi_instance)
    used = pin_transfers_to(max_.page, booking_server.port)

    max_.nav("New transfer")
    reference = f"Lunch {uuid.uuid4().hex[:6]}"
    max_.fill_transfer("Gabi Musterfrau", "AT69 1000 1000 0000 0002", "10.00", reference, tags=("Leisure",))
    expect(max_.page.get_by_test_id("iban-help")).to_contain_text("Valid IBAN")
    max_.shot("03-transfer-form")
    tan = max_.request_mtan()
    expect(max_.page.get_by_test_id("attempts-left")).to_have_text(re.compile(r"3 attempts left"))
    expect(max_.page.get_by_test_id("countdown")).to_have_text(re.compile(r"valid for [45]:\d\d"))
    max_.shot("04-transfer-mtan")
    max_.page.get_by_label("mTAN (6 digits)").fill(tan)
    max_.page.get_by_test_id("tan-submit").click()
    done = max_.page.get_by_test_id("transfer-done")
    expect(done).to_contain_text("Transfer booked")
    expect(done).to_contain_text("€10.00")
    expect(max_.page.get_by_test_id("new-balance")).to_have_text(euro(max_before - 10))
    max_.shot("05-transfer-booked")
    assert used and all(f":{booking_server.port}/" in url for url in used), used

    # Gabi: the toast, without a reload, and her new balance.
    toast = gabi.wait_for_toast("€10.00")
    expect(toast).to_contain_text("Max Mustermann")
    expect(toast).to_contain_text(reference)
    expect(gabi.page.get_by_test_id("balance")).to_have_text(euro(gabi_before + 10))
    expect(gabi.page.get_by_test_id("unread-badge")).to_be_visible()
    assert gabi.live_instance() == gabi_instance  # the same socket all along
    gabi.shot("06-gabi-toast")

    # Max's activity lists the transfer first, signed and coloured, with its tag.
    max_.nav("Activity")
    first = max_.page.get_by_test_id("activity-item").first
    expect(first).to_contain_text("Gabi Musterfrau")
    expect(first).to_contain_text("−€10.00")
    expect(first).to_contain_text(reference)
    expect(first.locator(".chip")).to_contain_text("Leisure")
    max_.shot("07-activity")
    assert not max_.errors and not gabi.errors, (max_.errors, gabi.errors)


def test_a_wrong_mtan_shows_the_error_and_the_attempts_left(api, open_browser):
    erika = open_browser()
    erika.login_seed("erika")
    erika.nav("New transfer")
    erika.fill_transfer("Interspar", SEED_IBANS["interspar"], "1.00", "Groceries")
    tan = erika.request_mtan()
    wrong = f"{(int(tan) + 1) % 1_000_000:06d}"
    erika.page.get_by_label("mTAN (6 digits)").fill(wrong)
    erika.page.get_by_test_id("tan-submit").click()
    expect(erika.page.get_by_test_id("tan-error")).to_have_text(re.compile(r"Wrong mTAN\. 2 attempts left\."))
    expect(erika.page.get_by_test_id("attempts-left")).to_have_text(re.compile(r"2 attempts left"))
    expect(erika.page.get_by_label("mTAN (6 digits)")).to_be_focused()
    erika.shot("08-transfer-wrong-mtan")
    # The transfer is still pending and the right mTAN still books it.
    erika.page.get_by_label("mTAN (6 digits)").fill(tan)
    erika.page.get_by_test_id("tan-submit").click()
    expect(erika.page.get_by_test_id("transfer-done")).to_contain_text("Transfer booked")


def test_the_iban_is_checked_as_it_is_typed(open_browser):
    max_ = open_browser()
    max_.login_seed("max")
    max_.nav("New transfer")
    iban, help_text = max_.page.get_by_label("IBAN", exact=True), max_.page.get_by_test_id("iban-help")
    iban.fill("AT69 1000 1000 0000 0003")  # one digit off
    expect(help_text).to_contain_text("check digits don't match")
    iban.fill("AT42 1000 1000 0000 0003")
    expect(help_text).to_contain_text("Valid IBAN")
    max_.page.get_by_test_id("transfer-submit").click()
    expect(max_.page.get_by_text("Please enter the recipient's name.")).to_be_visible()
    expect(max_.page.get_by_label("Recipient's name")).to_be_focused()


def test_the_statistics_chart_renders_for_each_interval(open_browser):
    max_ = open_browser()
    max_.login_seed("max")
    chart = max_.page.get_by_test_id("stats-chart")
    painted = "el => { const c = el.querySelector('canvas'); if (!c) return 0;" \
              " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;" \
              " for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n }"
    for label, interval in (("Daily", "daily"), ("Monthly", "monthly"), ("Yearly", "yearly")):
        max_.page.get_by_text(label, exact=True).click()
        expect(chart).to_have_attribute("data-interval", interval)
        expect(chart).to_have_attribute("data-state", "ready")
        assert int(chart.get_attribute("data-points")) > 0
        expect(chart.locator("canvas")).to_be_visible()
        max_.page.wait_for_timeout(400)  # the chart's animation
        assert chart.evaluate(painted) > 2000, f"the {interval} chart drew (almost) nothing"
        max_.shot(f"09-stats-{interval}", full_page=False)
    max_.page.get_by_text("Money in", exact=True).click()
    expect(chart).to_have_attribute("data-direction", "in")
    expect(chart).to_have_attribute("data-state", "ready")
    max_.page.wait_for_timeout(400)
    assert chart.evaluate(painted) > 2000
    max_.page.get_by_text("Money out", exact=True).click()
    max_.page.get_by_text("Monthly", exact=True).click()
    max_.page.get_by_text("Difference to the previous period").click()
    expect(chart).to_have_attribute("data-difference", "true")
    expect(chart).to_have_attribute("data-state", "ready")
    max_.page.wait_for_timeout(400)
    assert chart.evaluate(painted) > 2000
    max_.shot("10-stats-difference", full_page=False)
    assert not max_.errors, max_.errors


def test_settings_change_the_monthly_limit(api, open_browser, new_customer):
    customer = new_customer(limit="800.00", first="Lena")
    person = open_browser()
    person.login(customer["email"], customer["password"])
    person.nav("Settings")
    expect(person.page.get_by_test_id("current-limit")).to_have_text("€800.00")
    person.page.get_by_label("New monthly limit (€)").fill("1500")
    person.page.get_by_role("button", name="Save limit").click()
    expect(person.page.get_by_test_id("current-limit")).to_have_text("€1,500.00")
    person.wait_for_toast("Your monthly limit is now €1,500.00.")
    person.shot("11-settings")
    token = api.login(customer["email"], customer["password"])
    assert api.get("/api/user", token).json()["limit"] == "1500.00"


def test_activity_filters_by_direction_and_tag_and_pages(open_browser):
    max_ = open_browser()
    max_.login_seed("max")
    max_.nav("Activity")
    items = max_.page.get_by_test_id("activity-item")
    expect(items).to_have_count(20)
    expect(max_.page.get_by_role("button", name="Load older transactions")).to_be_visible()  # for the keyboard
    items.nth(19).scroll_into_view_if_needed()  # infinite scroll: the end of the list comes into view
    expect(items.nth(20)).to_be_visible()
    max_.page.get_by_label("Direction", exact=True).select_option("in")
    expect(items.first).to_have_attribute("data-direction", "in")
    assert set(items.evaluate_all("els => els.map(e => e.dataset.direction)")) == {"in"}
    max_.page.get_by_label("Direction", exact=True).select_option("")
    max_.page.get_by_label("Tag", exact=True).select_option("Shopping")
    expect(items.first.locator(".chip")).to_contain_text("Shopping")
    assert all("Shopping" in text for text in items.all_inner_texts())
    max_.shot("12-activity-filtered")


def test_logout_revokes_the_token_closes_the_socket_and_forgets_everything(api, open_browser):
    gabi = open_browser()
    gabi.login_seed("gabi")
    gabi.live_instance()
    token = gabi.token()
    assert token and api.get("/api/user", token).status_code == 200
    gabi.page.get_by_test_id("logout").click()
    expect(gabi.page.get_by_role("heading", name="Welcome to PiggyBank")).to_be_visible()
    expect(gabi.page.get_by_role("status").filter(has_text="You have signed out.")).to_be_visible()
    gabi.shot("13-logged-out")
    assert gabi.token() is None
    assert api.get("/api/user", token).status_code == 401  # revoked on the server
    deadline = time.monotonic() + 5
    while not all(ws.is_closed() for ws in gabi.sockets) and time.monotonic() < deadline:
        gabi.page.wait_for_timeout(100)
    assert gabi.sockets and all(ws.is_closed() for ws in gabi.sockets)
    gabi.goto("/overview")  # the old screens are behind the login again
    expect(gabi.page.get_by_role("heading", name="Welcome to PiggyBank")).to_be_visible()
    assert "Gabi" not in gabi.page.content()


def test_a_401_sends_the_user_back_to_login_with_a_message(api, open_browser):
    erika = open_browser()
    erika.login_seed("erika")
    api.post("/auth/logout", erika.token())  # the session ends elsewhere
    erika.nav("Activity")
    expect(erika.page.get_by_role("heading", name="Welcome to PiggyBank")).to_be_visible()
    expect(erika.page.get_by_text("signed out", exact=False)).to_be_visible()
    erika.page.get_by_label("E-mail address", exact=True).fill("nobody@example.com")  # locks no real account
    erika.page.get_by_label("Password", exact=True).fill("wrong password")
    erika.page.get_by_role("button", name="Sign in").click()
    expect(erika.page.get_by_role("alert")).to_contain_text("The e-mail address or the password is wrong.")
    erika.shot("14-login-error")


def test_after_a_reload_notifications_still_arrive(api, open_browser):
    gabi = open_browser()
    gabi.login_seed("gabi")
    gabi.live_instance()
    gabi.page.reload()
    expect(gabi.page.get_by_role("heading", name="Overview", level=1)).to_be_visible()  # still signed in
    gabi.live_instance()
    before = balance_of(api, "gabi")
    api.send_money(api.login_seed("max"), SEED_IBANS["gabi"], "2.50", "Gabi Musterfrau", comment="after reload")
    expect(gabi.wait_for_toast("€2.50")).to_contain_text("after reload")
    expect(gabi.page.get_by_test_id("balance")).to_have_text(euro(before + Decimal("2.50")))
    gabi.page.get_by_test_id("notifications-link").click()
    newest = gabi.page.get_by_test_id("notification").first
    expect(newest).to_contain_text("after reload")
    expect(newest).to_contain_text("new")
    gabi.shot("15-notifications")
    gabi.page.get_by_test_id("mark-read").click()
    expect(gabi.page.get_by_test_id("unread-badge")).to_have_count(0)


def test_killing_the_app_server_holding_the_socket_loses_no_notification(stack, api, open_browser):
    gabi = open_browser()
    gabi.login_seed("gabi")
    holder = gabi.live_instance()
    server = next(s for s in stack.app_servers if s.name == holder)
    pid = int(stack.pidfile(holder).read_text())
    os.kill(pid, signal.SIGKILL)
    # Money sent while her socket is down or moving to the survivor.
    api.send_money(api.login_seed("max"), SEED_IBANS["gabi"], "3.33", "Gabi Musterfrau", comment="during failover")
    toast = gabi.wait_for_toast("€3.33", timeout=20_000)
    expect(toast).to_contain_text("during failover")
    survivor = gabi.live_instance()
    assert survivor != holder
    assert len(gabi.sockets) >= 2  # it reconnected, no reload
    gabi.shot("16-after-failover")

    # Leave the stack whole: Monit restarts the killed server.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if int(stack.pidfile(holder).read_text()) != pid and \
                    api.http.get(f"http://127.0.0.1:{server.port}/api/healthcheck", timeout=2).ok:
                break
        except (OSError, ValueError):  # not yet written, or not yet listening
            pass
        time.sleep(0.3)
    else:
        raise AssertionError(f"Monit did not restart {holder} within 30 s")


def test_the_app_is_usable_at_phone_width(open_browser):
    phone = open_browser(width=390, height=844)
    phone.login_seed("max")
    expect(phone.page.get_by_test_id("balance")).to_be_visible()
    assert phone.page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    phone.shot("17-phone-overview")
    menu_link = phone.page.get_by_role("navigation", name="Main").get_by_role("link", name="New transfer", exact=True)
    expect(menu_link).to_be_hidden()
    phone.page.get_by_role("button", name="Menu").click()
    expect(menu_link).to_be_visible()
    phone.shot("18-phone-menu", full_page=False)
    menu_link.click()
    expect(phone.page.get_by_role("heading", name="New transfer", level=1)).to_be_visible()
    assert phone.page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    phone.shot("19-phone-transfer")
    assert not phone.errors, phone.errors


def test_every_screen_passes_an_automated_accessibility_check_and_works_by_keyboard(api, open_browser):
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci` in frontend/ (make test does)")
    token = api.login_seed("max")  # every tag's colours on the overview and the activity, whatever ran before
    tags = [tag["title"] for tag in api.get("/api/tags", token).json()["tags"]]
    api.send_money(token, SEED_IBANS["gabi"], "0.01", "Gabi Musterfrau", tags=tags)
    found = {}
    for width in (1280, 390):
        person = open_browser(width=width, bypass_csp=True)  # to inject axe-core, which the CSP would refuse
        person.goto("/login")
        found[f"{width} login"] = axe_violations(person.page)
        # Signing in by keyboard alone: the e-mail field has the focus, Tab moves on, Enter submits.
        expect(person.page.get_by_label("E-mail address", exact=True)).to_be_focused()
        person.page.keyboard.type("maxmustermann@gmail.com")
        person.page.keyboard.press("Tab")
        person.page.keyboard.type("maxmustermann")
        person.page.keyboard.press("Enter")
        expect(person.page.get_by_test_id("stats-chart")).to_have_attribute("data-state", "ready")
        found[f"{width} overview"] = axe_violations(person.page)
        screens = (("/activity", "activity-item"), ("/transfer", "demo-phone"), ("/settings", "current-limit"),
                   ("/notifications", "mark-read"))
        for path, ready in screens if width > 600 else screens[1:2]:  # at phone width: the menu and a form
            person.goto(path)
            expect(person.page.get_by_test_id(ready).first).to_be_visible()
            found[f"{width} {path[1:]}"] = axe_violations(person.page)
    problems = {screen: violations for screen, violations in found.items() if violations}
    assert not problems, problems
