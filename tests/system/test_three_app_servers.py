"""PIGGY_APP_SERVERS=3: one variable, and Monit, HAProxy, Prometheus, the dashboards' queries, the
rolling restart and the failover all follow.

A second, short-lived stack of its own for this module (three app servers), on the test ports
shifted by another 300 and in its own run directory, started once and stopped at the end.
"""

import json
import os
import shutil
import signal
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from stack import control, haproxy
from stack.settings import Stack
from tests.api_client import ApiClient
from tests.observability import dashboards as dash
from tests.polling import wait_until
from tests.system.test_stack import Client

THREE = ("appserver1", "appserver2", "appserver3")


@pytest.fixture(scope="module")
def three(stack) -> Stack:
    """Depends on the session's stack only to start after it (they share nothing but the code)."""
    offset = str(int(stack.env["PIGGY_PORT_OFFSET"]) + 300)
    run = Path(f"{stack.run}-three")
    env = {**os.environ, "PIGGY_RUN_DIR": str(run), "PIGGY_PORT_OFFSET": offset, "PIGGY_APP_SERVERS": "3",
           "PIGGY_LOGIN_RATE": "50r/s", "PIGGY_LOGIN_BURST": "100"}
    env.pop("PIGGY_APP_PORT", None)
    three_stack = Stack.from_env(env)
    if (run / "conf" / "monitrc").exists():
        control.down(three_stack)
    shutil.rmtree(run, ignore_errors=True)
    control.up(three_stack)
    yield three_stack
    if os.environ.get("PIGGY_KEEP_TEST_STACK") != "1":
        control.down(three_stack)


def prometheus(stack, expr: str) -> list[dict]:
    url = f"http://127.0.0.1:{stack.ports['prometheus']}/api/v1/query?query={urllib.parse.quote(expr)}"
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)["data"]["result"]


def test_three_app_servers_run_under_monit_and_in_haproxys_rotation(three):
    assert [s.name for s in three.app_servers] == list(THREE)
    assert [s.port for s in three.app_servers] == [three.ports["app"] + i for i in range(3)]
    summary = control.monit(three, "summary").stdout
    assert all(name in summary for name in THREE)
    assert haproxy.in_rotation(three) == set(THREE)
    assert set(haproxy.servers(three, fallback=True)) == set(THREE)


def test_requests_through_nginx_reach_all_three(three):
    api = ApiClient(three.url(""))
    seen = set()
    wait_until("requests through nginx to reach all three app servers",
               lambda: seen.add(api.get("/api/healthcheck").json()["instance"]) or seen == set(THREE),
               timeout=20, interval=0.02)


def test_prometheus_has_three_targets_and_the_dashboards_three_series(three):
    wait_until("three app server targets up", lambda: sorted(
        r["metric"]["appserver"] for r in prometheus(three, 'up{job="app"} == 1')) == list(THREE), timeout=60)
    values = json.loads(urllib.request.urlopen(
        f"http://127.0.0.1:{three.ports['prometheus']}/api/v1/label/appserver/values?"
        + urllib.parse.urlencode({"match[]": 'up{job="app"}'}), timeout=5).read())["data"]
    assert values == list(THREE)  # the dashboards' $appserver variable
    # the per app server panels that need no traffic first: status, resources, uptime, HAProxy's rotation
    board = dash.load(dash.GRAFANA / "dashboards" / "piggybank-overview.json")
    checked = []
    for panel, target in dash.queries(board):
        expr = target["expr"]
        if "$appserver" not in expr or not expr.split("(")[-1].startswith(
                ("up{", "process_", "piggybank_process_uptime", "haproxy_server_status", "haproxy_server_current")):
            continue
        query = dash.substitute(expr, {"appserver": "(" + "|".join(THREE) + ")"}, rate_interval="30s")
        wait_until(f"{panel['title']} [{target['refId']}] to show three app servers: {query}", lambda q=query: {
            r["metric"].get("appserver") for r in prometheus(three, q)} == set(THREE), timeout=30)
        checked.append(panel["title"])
    assert {"App servers", "CPU", "Memory (RSS)", "In rotation (HAProxy)"} <= set(checked), checked


def test_kill_9_of_two_app_servers_at_once_under_load_fails_no_request(three):
    api = ApiClient(three.url(""))
    clients = [Client(api, api.login_seed(who)) for who in ("max", "gabi", "erika")]
    for client in clients:
        client.start()
    time.sleep(1)
    old = {name: int(three.pidfile(name).read_text()) for name in ("appserver1", "appserver2")}
    for pid in old.values():
        os.kill(pid, signal.SIGKILL)
    wait_until("Monit to restart both and HAProxy to have all three in rotation again", lambda: all(
        int(three.pidfile(n).read_text()) != p for n, p in old.items()) and haproxy.in_rotation(three) == set(THREE),
        timeout=60)
    time.sleep(1)
    for client in clients:
        client.stop()
    statuses = [s for c in clients for s in c.statuses]
    assert [e for c in clients for e in c.errors] == []
    assert len(statuses) > 100 and set(statuses) == {200}, set(statuses)


def test_a_rolling_restart_replaces_each_app_server_without_a_failed_request(three):
    api = ApiClient(three.url(""))
    client = Client(api, api.login_seed("max"))
    client.start()
    before = {name: int(three.pidfile(name).read_text()) for name in THREE}
    control.rolling_restart(three)
    time.sleep(0.5)
    client.stop()
    after = {name: int(three.pidfile(name).read_text()) for name in THREE}
    assert all(after[name] != before[name] for name in THREE)
    assert client.errors == [] and set(client.statuses) == {200}, (client.errors[:3], set(client.statuses))
    assert haproxy.in_rotation(three) == set(THREE)
