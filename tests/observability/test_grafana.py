"""Grafana itself, wherever a `grafana` binary exists (`make up` installs it from apt.grafana.com
where that answers): started with the repository's provisioning exactly as Monit starts it, against
the test stack's Prometheus, it must be healthy, serve each dashboard by uid and answer every
panel's query through its own /api/ds/query.

On machines that can't reach Grafana's repository this module is skipped with the reason; there
PiggyBank's board draws the same dashboard files (tests/e2e/test_board.py).
"""

import base64
import json
import os
import shutil
import socket
import subprocess
import urllib.error
import urllib.request

import pytest

from stack import grafana as grafana_install
from stack import render
from stack import secrets as stack_secrets
from stack.settings import ROOT, Stack, grafana_binary
from tests.observability import dashboards as dash
from tests.observability import traffic
from tests.polling import wait_until

pytestmark = [pytest.mark.stack, pytest.mark.skipif(
    grafana_binary({"PATH": os.environ.get("PATH", "")}) is None,
    reason=f"no Grafana server on this machine ({grafana_install.why_not({})}); "
           "PiggyBank's board draws the dashboards instead (tests/e2e/test_board.py)")]

APP_SERVERS = ("appserver1", "appserver2")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Grafana:
    def __init__(self, base: str, password: str):
        self.base = base
        self.auth = "Basic " + base64.b64encode(f"admin:{password}".encode()).decode()

    def call(self, method: str, path: str, body: dict | None = None, anonymous: bool = False):
        request = urllib.request.Request(self.base + path, method=method,
                                         data=json.dumps(body).encode() if body is not None else None,
                                         headers={"Content-Type": "application/json", "Accept": "application/json"})
        if not anonymous:
            request.add_header("Authorization", self.auth)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()


@pytest.fixture(scope="module")
def grafana(stack, db_engine, tmp_path_factory):
    """A Grafana of this module's own, started by the Monit start program render.py writes for it."""
    run = tmp_path_factory.mktemp("grafana") / "run"
    env = {k: v for k, v in stack.env.items() if k != "PIGGY_GRAFANA"}
    own = Stack(run=run, ports={**stack.ports, "grafana": free_port()}, env=env)
    for directory in (own.conf, own.logs, own.pids):
        directory.mkdir(parents=True, exist_ok=True)
    values = stack_secrets.ensure(own.secrets_file, {})
    context = render.render_native(own, values)
    [service] = [s for s in context["services"] if s["name"] == "grafana"]
    subprocess.run(["sh", "-c", service["start"]], check=True)
    client = Grafana(f"http://127.0.0.1:{own.ports['grafana']}", values["PIGGY_GRAFANA_ADMIN_PASSWORD"])
    sender, recipient = traffic.new_customers(db_engine, 2)
    traffic.drive(stack, sender, recipient)
    try:
        wait_until("Grafana to answer /api/health", lambda: client.call("GET", "/api/health")[0] == 200, timeout=120)
        wait_until("Grafana to have provisioned the dashboards", lambda: all(
            client.call("GET", f"/api/dashboards/uid/{dash.load(p)['uid']}")[0] == 200 for p in dash.DASHBOARDS),
            timeout=60)
        yield client
    finally:
        subprocess.run([str(ROOT / "monit" / "bin" / "stop.sh"), str(own.pidfile("grafana")), "10"], check=False)
        log = own.logfile("grafana")
        if log.exists():
            shutil.copy(log, tmp_path_factory.getbasetemp() / "grafana.log")


def test_grafana_is_healthy(grafana):
    status, health = grafana.call("GET", "/api/health")
    assert status == 200 and health["database"] == "ok", health


@pytest.mark.parametrize("path", dash.DASHBOARDS, ids=[p.stem for p in dash.DASHBOARDS])
def test_each_dashboard_is_served_by_uid_also_to_anonymous_viewers(grafana, path):
    board = dash.load(path)
    for anonymous in (False, True):
        status, answer = grafana.call("GET", f"/api/dashboards/uid/{board['uid']}", anonymous=anonymous)
        assert status == 200, answer
        assert answer["dashboard"]["title"] == board["title"]
        assert answer["meta"]["provisioned"] is True and answer["meta"]["folderUid"] == "piggybank"
        assert len(list(dash.panels(answer["dashboard"]))) == len(list(dash.panels(board)))


QUERIES = [(path.stem, panel["title"], target["refId"])
           for path in dash.DASHBOARDS for panel, target in dash.queries(dash.load(path))]


@pytest.mark.parametrize("dashboard, title, ref", QUERIES, ids=[f"{d}:{t}:{r}" for d, t, r in QUERIES])
def test_every_panel_query_answers_through_grafanas_own_data_source_api(grafana, dashboard, title, ref):
    board = dash.load(dash.GRAFANA / "dashboards" / f"{dashboard}.json")
    target = next(t for p, t in dash.queries(board) if p["title"] == title and t["refId"] == ref)
    # Dashboard variables are the front end's business; the macros ($__rate_interval...) are Grafana's backend's.
    expr = target["expr"].replace("$appserver", "(" + "|".join(APP_SERVERS) + ")")
    query = {"refId": ref, "datasource": {"type": "prometheus", "uid": "prometheus"}, "expr": expr,
             "instant": bool(target.get("instant")), "range": bool(target.get("range", not target.get("instant"))),
             "format": target.get("format", "time_series"), "legendFormat": target.get("legendFormat", ""),
             "intervalMs": 15000, "maxDataPoints": 300}

    def frames():
        status, answer = grafana.call("POST", "/api/ds/query", {"queries": [query], "from": "now-30m", "to": "now"})
        assert status == 200, answer
        result = answer["results"][ref]
        assert result.get("status", 200) == 200 and "error" not in result, result
        return [f for f in result.get("frames", []) if f.get("data", {}).get("values") and f["data"]["values"][0]]

    found = wait_until(f"{title} [{ref}] to return data through Grafana", frames, timeout=60)
    assert found, f"no data frames for {expr}"
