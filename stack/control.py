"""make up / make down / make status for the native stack.

up: secrets, certificate, rendered configs, the database's data directory, then Monit (under tini,
which reaps orphaned processes at once, so a killed process's restart is not delayed by a zombie),
which starts and supervises everything. The schema is migrated and seeded once the database
answers and before any app server starts. Running it again is harmless.
"""

import json
import os
import shutil
import socket
import ssl
import subprocess
import time
import urllib.request
from collections.abc import Callable

from stack import database, galera, grafana, haproxy, render, secrets, tls
from stack.settings import ROOT, Stack, grafana_binary

DB_GRACE = 20  # seconds for a clean shutdown (a Galera node's clean stop is what keeps its position)


def stop_order(stack: Stack) -> list[str]:
    """The edge first, the database last, so the app servers finish their requests first."""
    return ["nginx", "haproxy", "prometheus", "alertmanager", "alert-sink", "blackbox-exporter", "grafana",
            *reversed([s.name for s in stack.app_servers]), *galera.stop_order(stack)]


def monit(stack: Stack, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["monit", "-c", str(stack.monitrc), *args], capture_output=True, text=True, check=check)


def monit_action(stack: Stack, *args: str, timeout: float = 10.0) -> None:
    """A Monit action, tried again while Monit is busy (right after a reload it refuses actions)."""
    deadline = time.monotonic() + timeout
    while (done := monit(stack, *args, check=False)).returncode != 0:
        if time.monotonic() > deadline:
            raise SystemExit(f"monit {' '.join(args)} failed: {done.stdout}{done.stderr}")
        time.sleep(0.2)


def monit_running(stack: Stack) -> bool:
    return stack.monitrc.exists() and monit(stack, "summary", check=False).returncode == 0


def http_ok(url: str, timeout: float = 2.0) -> bool:
    context = ssl._create_unverified_context()  # our own self-signed certificate
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=context) as response:
            return response.status == 200
    except (OSError, ValueError):
        return False


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def wait_for(label: str, address: str, ready: Callable[[], bool], timeout: float = 60.0) -> float:
    """Print a progress line for one component and wait until it is ready."""
    print(f"  {label:<18} {address:<40}", end=" ", flush=True)
    started = time.monotonic()
    while not ready():
        if time.monotonic() - started > timeout:
            print("TIMEOUT")
            raise SystemExit(f"{label} did not become ready within {timeout:.0f} s; see {address} and the logs")
        time.sleep(0.1)
    elapsed = time.monotonic() - started
    print(f"ok ({elapsed:.1f} s)", flush=True)
    return elapsed


def _prepare_www(stack: Stack) -> None:
    built = ROOT / "frontend" / "dist"
    source = built if (built / "index.html").exists() else ROOT / "nginx" / "placeholder"
    staging = stack.run / "www.new"
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(source, staging)
    shutil.rmtree(stack.run / "www", ignore_errors=True)
    staging.rename(stack.run / "www")


def _check_configs(stack: Stack) -> None:
    checks = [
        ["nginx", "-t", "-q", "-p", str(stack.run / "nginx"), "-c", str(stack.conf / "nginx.conf")],
        ["haproxy", "-c", "-q", "-f", str(stack.conf / "haproxy.cfg")],
        ["monit", "-t", "-c", str(stack.monitrc)],
        ["promtool", "check", "config", "--syntax-only", str(stack.conf / "prometheus.yml")],
    ]
    for command in checks:
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"{command[0]} rejected its rendered config:\n{done.stdout}{done.stderr}")


def app_env(stack: Stack) -> dict[str, str]:
    return {**os.environ, "PIGGY_DB_PORT": str(stack.ports["db"]), "PIGGY_SECRETS_FILE": str(stack.secrets_file),
            "PYTHONPATH": str(ROOT)}


def _start_monit(stack: Stack) -> None:
    log = (stack.logs / "monit.out").open("ab")
    supervisor = subprocess.Popen(["tini", "-s", "--", "monit", "-I", "-c", str(stack.monitrc)],
                                  stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    stack.pidfile("supervisor").write_text(str(supervisor.pid))


def _start_cluster(stack: Stack, bootstrap: str | None) -> None:
    """Every Galera node Synced in one primary component. A cold start whose primary component was
    lost while the others joined is made once more (galera.wait_until_synced says why)."""
    def act(*args: str) -> None:
        monit_action(stack, *args)

    try:
        galera.wait_until_synced(stack, act, wait_for, bootstrap)
    except galera.PrimaryLost as lost:
        name, why = galera.start_again(stack, act, database.initialise_datadir)
        print(f"  {'galera':<18} {lost}: starting it again, bootstrap from {name}: {why}", flush=True)
        galera.wait_until_synced(stack, act, wait_for, name)


def up(stack: Stack) -> None:
    started = time.monotonic()
    print(f"PiggyBank: starting the stack in {stack.run}", flush=True)
    for directory in (stack.conf, stack.logs, stack.logs / "nginx", stack.pids, stack.run / "monit",
                      stack.run / "nginx", stack.haproxy_socket.parent, stack.run / "prometheus",
                      stack.run / "alertmanager"):
        directory.mkdir(parents=True, exist_ok=True)
    values = secrets.ensure(stack.secrets_file, stack.env)
    tls.ensure_certificate(stack.tls)
    _prepare_www(stack)
    render.render_native(stack, values)
    _check_configs(stack)
    bootstrap = None
    if stack.clustered:
        decided = galera.prepare_cold_start(stack, database.initialise_datadir)
        if decided:
            bootstrap = decided[0]
            print(f"  {'galera':<18} bootstrap from {decided[0]}: {decided[1]}", flush=True)
    elif database.initialise_datadir(stack.db_nodes[0]):
        print("  created the database's data directory", flush=True)

    if monit_running(stack):
        monit(stack, "reload")
    else:
        _start_monit(stack)
    ports = stack.ports
    wait_for("monit", f"http://127.0.0.1:{ports['monit']}", lambda: monit_running(stack), 15)
    if stack.clustered:
        _start_cluster(stack, bootstrap)
        wait_for("writer", f"127.0.0.1:{ports['db']}  (HAProxy, to one node)",
                 lambda: "UP" in galera.writer_candidates(stack).values(), 30)
    else:
        wait_for("mariadb", f"127.0.0.1:{ports['db']}", lambda: database.answers(stack.db_nodes[0]))
    database.ensure_users(stack, values)
    print(f"  {'schema':<18} {'migrations + seed (once, locked)':<40}", end=" ", flush=True)
    migrated = subprocess.run([str(stack.python), "-m", "app", "migrate"], env=app_env(stack),
                              capture_output=True, text=True)
    if migrated.returncode != 0:
        print("FAILED")
        raise SystemExit(migrated.stderr)
    print("ok " + migrated.stdout.strip(), flush=True)
    for server in stack.app_servers:
        monit(stack, "start", server.name)
    for server in stack.app_servers:
        wait_for(server.name, f"http://127.0.0.1:{server.port}/api/healthcheck",
                 lambda s=server: http_ok(f"http://127.0.0.1:{s.port}/api/healthcheck"))
    wait_for("haproxy", f"http://127.0.0.1:{ports['haproxy_stats']}/stats",
             lambda: all_in_rotation(stack), 30)
    wait_for("nginx", stack.url("/"), lambda: http_ok(f"https://127.0.0.1:{ports['https']}/healthz"))
    exporters = [(node.exporter, node.exporter_port, "/metrics") for node in stack.db_nodes]
    for label, port, path in (*exporters,
                              ("blackbox-exporter", ports["blackbox"], "/-/healthy"),
                              ("alert-sink", ports["alert_sink"], "/healthz"),
                              ("alertmanager", ports["alertmanager"], "/-/ready"),
                              ("prometheus", ports["prometheus"], "/-/ready")):
        wait_for(label, f"http://127.0.0.1:{port}{path}", lambda p=port, q=path: http_ok(f"http://127.0.0.1:{p}{q}"))
    if grafana_binary(stack.env):
        wait_for("grafana", f"http://127.0.0.1:{ports['grafana']}",
                 lambda: http_ok(f"http://127.0.0.1:{ports['grafana']}/api/health"))
    else:
        wait_for("board (nginx)", f"http://127.0.0.1:{ports['grafana']}",
                 lambda: http_ok(f"http://127.0.0.1:{ports['grafana']}/board.json"))
    print(f"\nPiggyBank is up in {time.monotonic() - started:.1f} s\n")
    print_welcome(stack)


def aligned(rows: list[tuple[str, ...]]) -> list[str]:
    """Rows as lines whose columns line up, each as wide as its widest cell."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return ["   ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]


def all_in_rotation(stack: Stack) -> bool:
    """HAProxy has every app server UP (its checks passed twice)."""
    try:
        return haproxy.in_rotation(stack) == {s.name for s in stack.app_servers}
    except OSError:
        return False


def print_welcome(stack: Stack) -> None:
    from app.schema.seed import USERS

    ports = stack.ports
    dashboard = f"http://localhost:{ports['grafana']}"
    if not grafana_binary(stack.env):
        dashboard += f"  (PiggyBank board: {grafana.why_not(stack.env)})"
    print(f"  Bank (browser app)   {stack.url('/')}")
    print(f"  API document         {stack.url('/api/openapi.json')}")
    print(f"  Dashboard  {dashboard}")
    print(f"  Prometheus           http://localhost:{ports['prometheus']}")
    print(f"  Alertmanager         http://localhost:{ports['alertmanager']}  (alerts land in "
          f"{stack.logs / 'alerts.jsonl'})")
    print(f"  Monit                http://localhost:{ports['monit']}  (admin / PIGGY_MONIT_PASSWORD in "
          f"{stack.secrets_file})")
    print("\n  Test users:")
    rows = [(f"{first} {last}", email, password, " ".join(iban[i:i + 4] for i in range(0, len(iban), 4)))
            for first, last, email, password, *_, iban in USERS]
    for line in aligned([("name", "e-mail (sign in with it)", "password", "IBAN"), *rows]):
        print(f"    {line}")
    print("\n  Demo mode: mTAN SMS are not sent; the transfer page's demo phone shows them (GET /api/demo/sms).")


def down(stack: Stack) -> None:
    print(f"PiggyBank: stopping the stack in {stack.run}", flush=True)
    if monit_running(stack):
        monit(stack, "quit", check=False)
        deadline = time.monotonic() + 10
        while monit_running(stack) and time.monotonic() < deadline:
            time.sleep(0.1)
    databases = {node.name for node in stack.db_nodes}
    for name in stop_order(stack):
        if stack.pidfile(name).exists():
            subprocess.run([str(ROOT / "monit" / "bin" / "stop.sh"), str(stack.pidfile(name)),
                            str(DB_GRACE if name in databases else 6)], check=False)
    (stack.run / "monit" / "monit.state").unlink(missing_ok=True)
    deadline = time.monotonic() + 15
    busy = [p for p in stack.listening_ports() if port_open(p)]
    while busy and time.monotonic() < deadline:
        time.sleep(0.1)
        busy = [p for p in busy if port_open(p)]
    if busy:
        raise SystemExit(f"still listening after stop: ports {busy}")
    print("PiggyBank is down (all ports free).")


def rolling_restart(stack: Stack, drain_timeout: float = 10.0) -> None:
    """Restart the app servers one at a time (e.g. for new code): HAProxy drains each first (no new
    requests; those in flight finish), so the others serve everything and no request fails; the
    next one waits until HAProxy has the restarted one back in rotation."""
    for server in stack.app_servers:
        old = stack.pidfile(server.name).read_text().strip()
        haproxy.set_state(stack, server.name, "drain")
        deadline = time.monotonic() + drain_timeout
        while haproxy.servers(stack)[server.name]["scur"] != "0" and time.monotonic() < deadline:
            time.sleep(0.1)  # WebSockets stay until the restart closes them; their clients reconnect
        monit(stack, "restart", server.name)
        wait_for(server.name, f"http://127.0.0.1:{server.port}/api/healthcheck", lambda s=server, o=old: (
            stack.pidfile(s.name).read_text().strip() != o
            and http_ok(f"http://127.0.0.1:{s.port}/api/healthcheck")))
        haproxy.set_state(stack, server.name, "ready")
        wait_for(f"{server.name} in rotation", "HAProxy", lambda s=server: s.name in haproxy.in_rotation(stack), 30)


def status(stack: Stack) -> int:
    if not monit_running(stack):
        print("Monit is not running: the stack is down (`make up` starts it).")
        return 1
    print(monit(stack, "summary").stdout)
    try:
        rows = haproxy.servers(stack)
        print("HAProxy (in rotation = UP): " + ", ".join(
            f"{name} {row['status']} (check {row['check_status']}, {row['scur']} in flight)"
            for name, row in rows.items()))
    except OSError as error:
        rows = {}
        print(f"HAProxy: admin socket unreachable ({error})")
    healthy = set(rows) == {s.name for s in stack.app_servers} and all(r["status"] == "UP" for r in rows.values())
    for server in stack.app_servers:
        url = f"http://127.0.0.1:{server.port}/api/healthcheck"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                report = json.load(response)
        except urllib.error.HTTPError as error:
            report = json.load(error)
        except OSError as error:
            report = {"status": "unreachable", "error": str(error)}
        healthy &= report.get("status") == "ok"
        print(f"{server.name}: {json.dumps(report)}")
    if stack.clustered:
        healthy &= galera.print_status(stack)
    return 0 if healthy else 1
