"""The whole native stack, end to end: health, load balancing, supervision, scraping, the edge."""

import json
import os
import signal
import subprocess
import threading
import time
import urllib.request

from stack import control, haproxy
from tests.polling import wait_until


def app_health(port: int) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/healthcheck", timeout=3) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def pid_of(stack, service: str) -> int:
    return int(stack.pidfile(service).read_text())


def prometheus_value(stack, query: str) -> dict[str, float]:
    url = f"http://127.0.0.1:{stack.ports['prometheus']}/api/v1/query?query={urllib.parse.quote(query)}"
    with urllib.request.urlopen(url, timeout=3) as response:
        result = json.load(response)["data"]["result"]
    return {json.dumps(r["metric"], sort_keys=True): float(r["value"][1]) for r in result}


class Client(threading.Thread):
    """Keeps sending signed-in requests through nginx until stopped; records every outcome."""

    def __init__(self, api, token: str):
        super().__init__(daemon=True)
        self.api, self.token = api, token
        self.statuses: list[int] = []
        self.errors: list[str] = []
        self.running = True

    def run(self):
        while self.running:
            try:
                self.statuses.append(self.api.get("/api/user", self.token).status_code)
            except Exception as error:  # noqa: BLE001 - a failed request is what we count
                self.errors.append(repr(error))
            time.sleep(0.01)

    def stop(self):
        self.running = False
        self.join(10)


def test_healthcheck_reports_the_process_and_the_database(stack):
    for server in stack.app_servers:
        status, report = app_health(server.port)
        assert status == 200
        assert report["status"] == "ok" and report["instance"] == server.name
        assert report["pid"] == pid_of(stack, server.name)
        assert report["db"]["status"] == "ok" and report["db"]["latency_ms"] >= 0
        assert report["uptime_seconds"] > 0 and report["cpu_percent"] >= 0
        assert report["memory_rss_bytes"] > 10_000_000 and 0 < report["memory_percent"] < 100
        assert set(report) == {"status", "instance", "version", "pid", "uptime_seconds", "cpu_percent",
                               "memory_rss_bytes", "memory_percent", "db"}


def test_requests_through_nginx_and_haproxy_reach_every_app_server(stack, api):
    seen = set()
    # polled: an app server an earlier test hung may still be coming back into rotation
    wait_until("requests through nginx to reach every app server",
               lambda: seen.add(api.get("/api/healthcheck").json()["instance"]) or len(seen) == len(stack.app_servers),
               timeout=20, interval=0.05)
    assert seen == {s.name for s in stack.app_servers}


def test_plain_http_on_the_tls_port_is_redirected(stack):
    done = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
                           f"http://localhost:{stack.ports['https']}/overview"], capture_output=True, text=True,
                          timeout=10)
    assert done.stdout == f"301 https://localhost:{stack.ports['https']}/overview"


def test_tls_http2_and_security_headers(stack):
    done = subprocess.run(["curl", "-sk", "--http2", "-D", "-", "-o", "/dev/null", stack.url("/")],
                          capture_output=True, text=True, timeout=10)
    headers = done.stdout.lower()
    assert headers.startswith("http/2 200")
    for header in ("strict-transport-security", "x-content-type-options: nosniff", "x-frame-options: deny",
                   "content-security-policy", "referrer-policy"):
        assert header in headers


def test_metrics_are_served_by_each_app_server_but_not_through_nginx(stack, api):
    assert api.get("/metrics").status_code == 404
    for server in stack.app_servers:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=3) as response:
            text = response.read().decode()
        assert f'piggybank_app_info{{instance="{server.name}"' in text
        assert "process_resident_memory_bytes" in text and "flask_http_request_duration_seconds" in text


def test_unknown_api_routes_and_methods_answer_json(api):
    missing = api.get("/api/nope")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    wrong_method = api.request("DELETE", "/api/user")
    assert wrong_method.status_code == 405 and wrong_method.json()["error"]["code"] == "method_not_allowed"


def test_client_routes_fall_back_to_the_browser_app(api):
    response = api.get("/activity")
    assert response.status_code == 200 and "<html" in response.text.lower()


def test_prometheus_scrapes_every_app_server_haproxy_and_the_database(stack):
    count = len(stack.app_servers)
    up = wait_until(f"up == 1 for the {count} app servers", lambda: (values := prometheus_value(
        stack, 'up{job="app"}')) and len(values) == count and set(values.values()) == {1.0}, timeout=45)
    assert up
    rotation = wait_until("HAProxy's app servers in Prometheus, labelled", lambda: (values := prometheus_value(
        stack, 'haproxy_server_status{job="haproxy", role="primary", state="UP"}')) and len(values) == count and values)
    assert {json.loads(labels)["appserver"] for labels in rotation} == {s.name for s in stack.app_servers}
    wait_until("mysql_up == 1", lambda: set(prometheus_value(stack, "mysql_up").values()) == {1.0}, timeout=45)
    wait_until("the site probe succeeds", lambda: set(
        prometheus_value(stack, 'probe_success{probe="site"}').values()) == {1.0}, timeout=45)


def test_kill_9_of_an_app_server_under_load_fails_no_request(stack, api):
    client = Client(api, api.login_seed("max"))
    client.start()
    time.sleep(1)
    old = pid_of(stack, "appserver1")
    os.kill(old, signal.SIGKILL)
    killed = time.monotonic()
    wait_until("Monit to restart appserver1 and its healthcheck to be ok", lambda: (
        pid_of(stack, "appserver1") != old and app_health(stack.ports["app1"])[0] == 200), timeout=30)
    restarted_after = time.monotonic() - killed
    time.sleep(1)
    client.stop()
    assert client.errors == []
    assert len(client.statuses) > 50 and set(client.statuses) == {200}, set(client.statuses)
    print(f"appserver1 healthy again {restarted_after:.1f} s after kill -9 ({len(client.statuses)} requests, 0 failed)")


def test_kill_9_of_mariadb_is_restarted_and_app_servers_recover_without_restart(stack, api):
    app_pids = {s.name: pid_of(stack, s.name) for s in stack.app_servers}
    token = api.login_seed("gabi")
    os.kill(pid_of(stack, "mariadb"), signal.SIGKILL)
    wait_until("both app servers to serve again after the database restart", lambda: all(
        app_health(s.port)[0] == 200 for s in stack.app_servers), timeout=60)
    wait_until("requests through nginx to succeed", lambda: api.get("/api/user", token).status_code == 200)
    assert {s.name: pid_of(stack, s.name) for s in stack.app_servers} == app_pids


def test_while_the_database_is_down_answers_are_fast_503s_and_every_app_server_stays_in_rotation(stack, api,
                                                                                               app_config):
    """HAProxy's checks ask /api/liveness, which needs no database: a database outage leaves every app
    server in rotation, and customers get the app's own fast 503 database_unavailable (not HAProxy's
    503 service_unavailable, which would mean no app server could take the request). Fast: the app
    retries for its budget (an outage shorter than that is only latency), then answers at once."""
    token = api.login_seed("erika")
    control.monit(stack, "unmonitor", "mariadb")
    try:
        os.kill(pid_of(stack, "mariadb"), signal.SIGKILL)
        status, report = wait_until("a healthcheck reporting the database down",
                                    lambda: (h := app_health(stack.ports["app1"]))[0] == 503 and h, timeout=20)
        assert report["status"] == "down" and report["db"]["status"] == "down"
        rotation = []
        for _ in range(3):  # each waits out the app's retry budget: many checks meanwhile
            started = time.monotonic()
            response = api.get("/api/user", token)
            assert time.monotonic() - started < app_config["DB_RETRY_BUDGET_SECONDS"] + 2.5
            assert response.status_code == 503
            assert response.json()["error"]["code"] == "database_unavailable"
            rotation.append(haproxy.in_rotation(stack))
            time.sleep(0.3)
        assert all(r == {s.name for s in stack.app_servers} for r in rotation), rotation
    finally:
        control.monit(stack, "monitor", "mariadb")
    wait_until("the database to be back", lambda: api.get("/api/user", token).status_code == 200, timeout=60)
    # each app server's pool reconnects on its own (its next checkout): every healthcheck ok again
    wait_until("every app server healthy again", lambda: all(app_health(s.port)[0] == 200 for s in stack.app_servers),
               timeout=30)


def test_running_up_again_is_harmless(stack):
    pids = {name: pid_of(stack, name) for name in (*(s.name for s in stack.app_servers), "mariadb", "haproxy",
                                                    "nginx")}
    control.up(stack)
    assert {name: pid_of(stack, name) for name in pids} == pids
