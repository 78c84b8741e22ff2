"""The alerts, live: take a part of the test stack away so that Monit can't bring it back (unmonitor
or stop it through Monit), watch the alert become firing in Prometheus, reach Alertmanager and be
delivered to the alert sink; bring the part back and watch the resolved notification arrive. The
stack is restored in a `finally`, and each test waits until it serves again before it ends."""

import os
import signal
import time
import urllib.request

import pytest

from stack import control
from tests.observability.live import (
    Prometheus,
    alertmanager_alerts,
    delivered,
    monit_status,
    monitoring,
)
from tests.polling import wait_until

pytestmark = pytest.mark.stack


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/healthcheck", timeout=3) as response:
            return response.status == 200
    except OSError:
        return False


def serving(stack, api) -> None:
    """Wait until both app servers and the site through nginx answer their healthchecks again."""
    wait_until("both app servers' healthchecks to answer 200", lambda: all(
        healthy(server.port) for server in stack.app_servers), timeout=60)
    wait_until("the healthcheck through nginx to answer 200",
               lambda: api.get("/api/healthcheck").status_code == 200, timeout=30)


@pytest.fixture
def prom(stack):
    prom = Prometheus(stack)
    wait_until("Prometheus to scrape both app servers and the database", lambda: (
        len(prom.query('up{job="app"} == 1')) == 2 and prom.query("mysql_up == 1")), timeout=45)
    return prom


def test_app_server_down_fires_reaches_the_sink_and_resolves(stack, api, prom):
    service, port = "appserver2", stack.ports["app2"]
    started = time.time()
    control.monit(stack, "unmonitor", service)
    try:
        wait_until(f"Monit to stop monitoring {service}", lambda: monitoring(stack, service) == "Not monitored",
                   timeout=10)
        os.kill(int(stack.pidfile(service).read_text()), signal.SIGKILL)
        killed = time.monotonic()
        [alert] = wait_until("AppServerDown for appserver2 to be firing in Prometheus",
                             lambda: prom.alerts("AppServerDown", "firing", appserver=service), timeout=40)
        fired_after = time.monotonic() - killed
        assert alert["labels"]["severity"] == "warning" and alert["labels"]["instance"] == f"127.0.0.1:{port}"
        assert alert["annotations"]["runbook_url"] == "docs/runbook.md#appserverdown"
        assert fired_after >= 15, "fired before its `for: 15s`"
        wait_until("Alertmanager to hold the alert", lambda: [
            a for a in alertmanager_alerts(stack, "AppServerDown") if a["labels"].get("appserver") == service])
        [note] = wait_until("the firing notification at the alert sink", lambda: delivered(
            stack, started, "AppServerDown", "firing", appserver=service), timeout=20)
        assert note["annotations"]["summary"] == "App server appserver2 is down"
        # the other app server is unaffected: no alert for it, and customers are still served
        assert not prom.alerts("AppServerDown", appserver="appserver1")
        assert api.get("/api/healthcheck").status_code == 200
    finally:
        control.monit(stack, "start", service)
    back = time.time()
    serving(stack, api)
    assert monit_status(stack, service) == "OK"
    wait_until("AppServerDown to be gone from Prometheus",
               lambda: not prom.alerts("AppServerDown", appserver=service), timeout=30)
    [resolved] = wait_until("the resolved notification at the alert sink", lambda: delivered(
        stack, back, "AppServerDown", "resolved", appserver=service), timeout=30)
    assert resolved["endsAt"] > resolved["startsAt"]


def test_database_down_fires_reaches_the_sink_and_resolves(stack, api, prom):
    started = time.time()
    control.monit(stack, "stop", "mariadb")  # stops it and stops monitoring it
    try:
        wait_until("mysql_up to be 0", lambda: prom.query("mysql_up == 0"), timeout=30)
        [alert] = wait_until("DatabaseDown to be firing in Prometheus",
                             lambda: prom.alerts("DatabaseDown", "firing"), timeout=40)
        assert alert["labels"]["severity"] == "critical" and alert["labels"]["job"] == "mysqld"
        assert alert["annotations"]["runbook_url"] == "docs/runbook.md#databasedown"
        wait_until("Alertmanager to hold the alert", lambda: alertmanager_alerts(stack, "DatabaseDown"))
        wait_until("the firing notification at the alert sink",
                   lambda: delivered(stack, started, "DatabaseDown", "firing"), timeout=20)
        # the app servers stay up (Monit must not restart them for a database outage) and say why
        for server in stack.app_servers:
            assert monit_status(stack, server.name) == "OK"
            assert not healthy(server.port)
    finally:
        control.monit(stack, "start", "mariadb")
    back = time.time()
    wait_until("mysql_up to be 1 again", lambda: prom.query("mysql_up == 1"), timeout=60)
    serving(stack, api)
    token = api.login_seed("gabi")
    assert api.get("/api/user", token).status_code == 200
    wait_until("the resolved notification at the alert sink",
               lambda: delivered(stack, back, "DatabaseDown", "resolved"), timeout=40)
    assert not prom.alerts("DatabaseDown", "firing")
