"""The failover drill: the Locust journeys run against the native stack while faults are injected
on a schedule, and what users, Monit, Prometheus and the ledger saw is recorded.

    make failover                                # against `make up`'s stack
    PIGGY_RUN_DIR=... PIGGY_PORT_OFFSET=... .venv/bin/python -m load.failover [--quick] [--users N]

Faults (full schedule): kill -9 appserver1; kill -9 appserver2 once appserver1 is healthy again;
with three or more app servers (PIGGY_APP_SERVERS), kill -9 of appserver1 and appserver2 at once;
SIGSTOP appserver1 for 20 s (then SIGCONT if it still exists: Monit replaces it after a few
seconds); then the database: the single MariaDB killed with kill -9 and hung with SIGSTOP for 10 s,
or, with a Galera cluster (PIGGY_DB_NODES=3), HAProxy's writer killed and hung, a node that is not
the writer killed, and two nodes killed at once (quorum lost until Monit has them back); a burst
of bad input. --quick (used by `make test`): one kill -9 and one SIGSTOP, about a minute.

Per phase: requests, failures, client retries, p50/p95/p99 and the slowest answer, the longest time
without any answered request; seconds until HAProxy took the app server out of rotation and put it
back (its log), until Monit had a new process and until its healthcheck was ok, until Prometheus
showed up == 0 and up == 1 again; the requests HAProxy resent; until writes succeed again (the first
booking asked for after the fault); and after every phase the ledger: invariants, no idempotency
key booked twice, every transfer a client saw confirmed is booked. Alerts that fired or resolved
(Prometheus and the alert sink). The hang's targets: 0 failed, no gap over 1 s, no answer slower
than 1.5 s (sign-ins excluded, as from every latency figure of the drill).
Prints a table, writes JSON + CSV + a PNG timeline into load/results/. Exit code 0 only if there
were no failed requests during the app server faults, no bad input got a 5xx, the database outage
failed fast, the ledger is right and every process is running and monitored again.
"""

from gevent import monkey

monkey.patch_all()  # Locust does this on import too; first, so every module below is cooperative

import argparse  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections import Counter  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
import requests  # noqa: E402
import urllib3  # noqa: E402

from stack import drill, galera  # noqa: E402
from stack.settings import ROOT, Stack  # noqa: E402

RESULTS = ROOT / "load" / "results"
urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)  # the stack's self-signed certificate
# The bounds of the SIGSTOP phase: no second without an answer, no answer slower than 1.5 s (sign-ins
# excluded, as from every latency figure here: bcrypt makes them slow by design; max_ms_all has them).
HANG_TARGETS = {"longest_gap_s": 1.0, "max_ms": 1500.0}


def now() -> float:
    return time.time()


def session() -> requests.Session:
    s = requests.Session()
    s.verify = False
    s.trust_env = False  # REQUESTS_CA_BUNDLE in this environment would override verify=False
    return s


# --- watchers: component health, Prometheus, alerts ----------------------------------------------------

def db_answers(port: int, timeout: float = 1.0) -> bool:
    """MariaDB sends its handshake as soon as it accepts a connection: enough to call it up."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.settimeout(timeout)
            return len(s.recv(64)) > 4
    except OSError:
        return False


@dataclass
class Watch:
    stack: Stack
    started: float
    health: list = field(default_factory=list)       # (t, component, "ok" | "degraded" | "down")
    prometheus: list = field(default_factory=list)   # (t, series, value or None)
    alerts: dict = field(default_factory=dict)       # (name, labels) -> [{"pending", "firing", "resolved"}]
    greenlets: list = field(default_factory=list)

    def start(self):
        self.greenlets = [gevent.spawn(self._health), gevent.spawn(self._prometheus), gevent.spawn(self._alerts)]

    def stop(self):
        gevent.killall(self.greenlets, block=False)

    def t(self) -> float:
        return now() - self.started

    def _health(self):
        http = session()
        while True:
            for server in self.stack.app_servers:
                try:
                    status = http.get(f"http://127.0.0.1:{server.port}/api/healthcheck", timeout=1).status_code
                    state = "ok" if status == 200 else "degraded"
                except requests.RequestException:
                    state = "down"
                self.health.append((self.t(), server.name, state))
            for node in self.stack.db_nodes:
                self.health.append((self.t(), node.name, "ok" if db_answers(node.port) else "down"))
            if self.stack.clustered:
                self.health.append((self.t(), "writer", galera.writer(self.stack) or "none"))
            gevent.sleep(0.25)

    def query(self, http, expr: str) -> list:
        url = f"http://127.0.0.1:{self.stack.ports['prometheus']}/api/v1/query"
        return http.get(url, params={"query": expr}, timeout=2).json()["data"]["result"]

    def _prometheus(self):
        http = session()
        while True:
            try:
                for r in self.query(http, 'up{job="app"}'):
                    self.prometheus.append((self.t(), r["metric"]["appserver"], float(r["value"][1])))
                for r in self.query(http, 'mysql_up{job="mysqld"}'):
                    self.prometheus.append((self.t(), r["metric"].get("dbnode", "mariadb"), float(r["value"][1])))
            except (requests.RequestException, ValueError, KeyError):
                pass
            gevent.sleep(0.5)

    def _alerts(self):
        http = session()
        url = f"http://127.0.0.1:{self.stack.ports['prometheus']}/api/v1/alerts"
        while True:
            try:
                active = http.get(url, timeout=2).json()["data"]["alerts"]
            except (requests.RequestException, ValueError, KeyError):
                active = None
            if active is not None:
                t = self.t()
                seen = set()
                for alert in active:
                    labels = {k: v for k, v in alert["labels"].items() if k not in ("severity",)}
                    key = (labels.get("alertname"), json.dumps(labels, sort_keys=True))
                    seen.add(key)
                    episodes = self.alerts.setdefault(key, [])
                    if not episodes or "resolved" in episodes[-1]:  # a new episode of this alert
                        episodes.append({"alert": labels.get("alertname"), "labels": labels})
                    episodes[-1].setdefault(alert["state"], round(t, 1))
                for key, episodes in self.alerts.items():
                    if key not in seen and "resolved" not in episodes[-1]:
                        episodes[-1]["resolved"] = round(t, 1)
            gevent.sleep(1)

    def firing_now(self) -> list[str]:
        return [e[-1]["alert"] for e in self.alerts.values() if "firing" in e[-1] and "resolved" not in e[-1]]

    def prometheus_outage(self, series: str, after: float) -> tuple[float | None, float | None]:
        """Seconds after `after` until Prometheus showed the series at 0, and back at 1."""
        down = up = None
        for t, name, value in self.prometheus:
            if name != series or t < after:
                continue
            if down is None and value == 0:
                down = t - after
            elif down is not None and value == 1:
                up = t - after
                break
        return down, up


# --- faults ------------------------------------------------------------------------------------------

def process_state(pid: int) -> str | None:
    """The state letter from /proc/<pid>/stat (R, S, T, Z ...), None if there is no such process."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def wait_restarted(stack: Stack, service: str, old_pid: int, since: float, timeout: float = 60) -> dict:
    """Seconds until Monit had a new pid for the service, and until that process was healthy."""
    restarted = healthy = None
    while now() - since < timeout:
        pid = drill.current_pid(stack, service)
        if restarted is None and pid and pid != old_pid:
            restarted = now() - since
        if restarted is not None and drill.healthy(stack, service):
            healthy = now() - since
            break
        gevent.sleep(0.05)
    return {"restarted_s": restarted, "healthy_s": healthy}


def wait_healthy(stack: Stack, service: str, old_pid: int, since: float, timeout: float) -> dict:
    """After a hang ended: seconds until the service was healthy again, and whether Monit had
    replaced the process by then."""
    deadline = now() + timeout
    while now() < deadline and not drill.healthy(stack, service):
        gevent.sleep(0.05)
    pid = drill.current_pid(stack, service)
    healthy = round(now() - since, 2) if drill.healthy(stack, service) else None
    restarted = healthy if pid and pid != old_pid else None
    return {"healthy_s": healthy, "restarted_s": restarted}


def app_server_names(stack: Stack) -> list[str]:
    return [s.name for s in stack.app_servers]


def db_names(stack: Stack) -> list[str]:
    return [node.name for node in stack.db_nodes]


def all_healthy(stack: Stack) -> bool:
    return all(drill.healthy(stack, s) for s in (*app_server_names(stack), *db_names(stack)))


def running_pid(stack: Stack, service: str, wait: float = 20.0) -> tuple[int, bool]:
    """The service's pid, after waiting up to `wait` seconds for it to be healthy (under overload
    a healthcheck can be slow or degraded; the fault is injected anyway and that is recorded)."""
    deadline = now() + wait
    while not drill.healthy(stack, service) and now() < deadline:
        gevent.sleep(0.25)
    pid = drill.current_pid(stack, service)
    if pid is None or process_state(pid) is None:
        raise RuntimeError(f"{service} is not running before the fault")
    return pid, drill.healthy(stack, service)


def kill9(stack: Stack, service: str) -> dict:
    old, healthy_before = running_pid(stack, service)
    os.kill(old, signal.SIGKILL)
    since = now()
    result = {"pid": old, "healthy_before": healthy_before, "fault_at": since,
              **wait_restarted(stack, service, old, since)}
    if service in db_names(stack):  # the app servers' own healthchecks say when the bank works again
        result["app_servers_healthy_s"] = app_servers_healthy(stack, since)
    return result


def app_servers_healthy(stack: Stack, since: float) -> float:
    while now() - since < 60 and not all(drill.healthy(stack, s) for s in app_server_names(stack)):
        gevent.sleep(0.05)
    return now() - since


def kill9_together(stack: Stack, services: list[str]) -> dict:
    """kill -9 of several processes at the same moment (app servers, or two of three Galera nodes:
    quorum lost); the slowest one's restart is reported."""
    pids = {service: running_pid(stack, service)[0] for service in services}
    for pid in pids.values():
        os.kill(pid, signal.SIGKILL)
    since = now()
    waits = [gevent.spawn(wait_restarted, stack, service, pid, since) for service, pid in pids.items()]
    gevent.joinall(waits)
    results = [w.value for w in waits]
    slowest = max(results, key=lambda r: r["healthy_s"] if r["healthy_s"] is not None else 1e9)
    result = {"pids": list(pids.values()), "fault_at": since, **slowest}
    if set(services) & set(db_names(stack)):
        result["app_servers_healthy_s"] = app_servers_healthy(stack, since)
    return result


def sigstop(stack: Stack, service: str, hold: float) -> dict:
    """SIGSTOP for `hold` seconds: the process lives but answers nothing, like a hung server. Monit
    may replace it sooner (its stop program sends SIGTERM + SIGCONT); if it has not by then, the
    old process gets SIGCONT after `hold` seconds, so a hang lasts what the phase says, no longer."""
    old, healthy_before = running_pid(stack, service)
    os.kill(old, signal.SIGSTOP)
    since = now()
    result = {"pid": old, "healthy_before": healthy_before, "fault_at": since}
    try:
        result.update(wait_restarted(stack, service, old, since, timeout=hold))
        gevent.sleep(max(0.0, since + hold - now()))
    finally:
        still_stopped = process_state(old) == "T"
        if still_stopped:
            os.kill(old, signal.SIGCONT)
        result["old_process_still_stopped_at_end"] = still_stopped
        result["woken_s"] = round(now() - since, 2) if still_stopped else None
    if result["healthy_s"] is None:
        # Woken, not replaced: a Galera node rejoins by itself (Monit waits a minute before it
        # restarts one); a woken app server or single MariaDB answers again, or Monit replaces it.
        result.update(wait_healthy(stack, service, old, since, timeout=60))
    if service in db_names(stack):
        result["app_servers_healthy_s"] = app_servers_healthy(stack, since)
    return result


BAD_INPUT_WORKERS = 4


def bad_input_burst(host: str, token: str, own_iban: str, seconds: float, rate: float) -> dict:
    """Malformed and malicious requests for a while: every one must get a 4xx (never a 2xx or 5xx),
    while the journeys go on."""
    from app.bank.money import make_iban

    unknown_iban = make_iban("AT", "1000199999999999")
    valid = {"recipientIban": unknown_iban, "recipientName": "Nobody", "amount": "1.00"}
    auth = {"Authorization": f"JWT {token}"}

    def transfer(body=None, key="new", raw=None, headers=None):
        key = f"bad-input-{uuid.uuid4().hex}" if key == "new" else key
        h = {**auth, **({"Idempotency-Key": key} if key else {}), **(headers or {})}
        return ("POST", "/api/transfers", h, raw if raw is not None else json.dumps(body), "application/json")

    cases = [
        ("POST", "/auth", {}, "{not json", "application/json"),
        ("POST", "/auth", {}, "{}", "application/json"),
        ("POST", "/auth", {}, json.dumps({"username": f"nobody-{uuid.uuid4().hex}@example.com",
                                          "password": "guess"}), "application/json"),
        ("POST", "/auth", {}, json.dumps({"username": "x" * 300, "password": "x"}), "application/json"),
        ("GET", "/api/user", {"Authorization": "JWT not.a.token"}, None, None),
        ("GET", "/api/user", {"Authorization": f"Bearer {token}"}, None, None),
        ("GET", "/api/user", {"Authorization": f"JWT {token[:-6]}AAAAAA"}, None, None),
        ("GET", "/api/demo/sms", {}, None, None),
        transfer(valid, key=None),
        transfer(valid, key="bad key!"),
        transfer({**valid, "amount": "-1.00"}),
        transfer({**valid, "amount": "abc"}),
        transfer({**valid, "amount": "0.00"}),
        transfer({**valid, "amount": "1e5"}),
        transfer({**valid, "amount": "999999999999.99"}),
        transfer({**valid, "recipientIban": "AT000000000000000000"}),
        transfer(valid),
        transfer({**valid, "recipientIban": own_iban}),
        transfer({**valid, "tags": ["no-such-tag"]}),
        transfer({**valid, "extra": 1}),
        transfer({**valid, "comment": "x" * 600}),
        transfer({**valid, "recipientName": "'; DROP TABLE transfers; --", "amount": "0.001"}),
        transfer(raw="x" * 70_000),
        transfer(raw="hello", headers={"Content-Type": "text/plain"}),
        ("POST", "/api/transfers/999999999/confirm", auth, json.dumps({"tan": "123456"}), "application/json"),
        ("POST", "/api/transfers/1/confirm", auth, json.dumps({"tan": "12ab56"}), "application/json"),
        ("POST", "/api/transfers/abc/confirm", auth, json.dumps({"tan": "123456"}), "application/json"),
        ("GET", "/api/account/activity?limit=1000", auth, None, None),
        ("GET", "/api/account/activity?cursor=%25%25garbage", auth, None, None),
        ("GET", "/api/account/activity?from=2017-13-45", auth, None, None),
        ("GET", "/api/stats?interval=hourly", auth, None, None),
        ("GET", "/api/no-such-route", auth, None, None),
        ("DELETE", "/api/user", auth, None, None),
        ("GET", "/api/" + "a" * 9000, auth, None, None),
        ("POST", "/api/notifications/read", auth, json.dumps({"upTo": -1}), "application/json"),
        ("PUT", "/api/user/limit", auth, json.dumps({"limit": "-5"}), "application/json"),
    ]
    statuses: dict[str, int] = {}
    problems: list[str] = []
    sent = 0
    deadline = now() + seconds

    def worker(offset: int):
        nonlocal sent
        http = session()
        i = offset
        while now() < deadline:
            method, path, headers, body, ctype = cases[i % len(cases)]
            i += BAD_INPUT_WORKERS
            h = dict(headers)
            if ctype and "Content-Type" not in h:
                h["Content-Type"] = ctype
            try:
                status = http.request(method, host + path, headers=h, data=body, timeout=20).status_code
            except requests.RequestException as error:
                status = 0
                problems.append(f"{method} {path[:60]}: no answer ({error.__class__.__name__})")
            sent += 1
            statuses[str(status)] = statuses.get(str(status), 0) + 1
            if not 400 <= status < 500:
                problems.append(f"{method} {path[:60]} -> {status}")
            gevent.sleep(BAD_INPUT_WORKERS / rate)

    gevent.joinall([gevent.spawn(worker, n) for n in range(BAD_INPUT_WORKERS)])
    return {"sent": sent, "statuses": statuses, "problems": problems[:20], "problem_count": len(problems)}


# --- the run -------------------------------------------------------------------------------------------

@dataclass
class Phase:
    name: str
    start: float          # seconds since the run started
    kind: str = "baseline"
    target: str | None = None
    end: float | None = None
    measured: dict = field(default_factory=dict)


class Recorder:
    """Every request Locust reports, with when it started and how it ended."""

    def __init__(self, started: float):
        self.started = started
        self.rows: list[tuple] = []  # (t_start, kind, name, ms, ok, status, t_end)

    def __call__(self, request_type, name, response_time, response_length, exception=None, response=None,
                 start_time=None, **_kw):
        status = (getattr(response, "status_code", 0) or 0) if response is not None else 0
        ended = now() - self.started
        # A final answer after the client's retries reports the whole wait: it began that long ago.
        t = ended - response_time / 1000 if request_type != "RETRY" else (start_time or now()) - self.started
        self.rows.append((t, request_type, name, float(response_time), exception is None, status, ended))


# Who a database fault hits is known only when it is injected (the writer moves).
WRITER, NOT_WRITER = "<writer>", "<not the writer>"


def schedule(quick: bool, stop_s: float, app_servers: int, db_stop_s: float,
             clustered: bool) -> list[tuple[str, str, str | None]]:
    if quick:
        return [("kill -9 appserver1", "kill9", "appserver1"),
                (f"SIGSTOP appserver2 {stop_s:g} s", "sigstop", "appserver2")]
    together = [("kill -9 appserver1+2 at once", "kill9many", "appserver1+appserver2")] if app_servers >= 3 else []
    if clustered:
        database = [("kill -9 the writer", "kill9", WRITER),
                    (f"SIGSTOP the writer {db_stop_s:g} s", "sigstop", WRITER),
                    ("kill -9 a node that is not the writer", "kill9", NOT_WRITER),
                    ("kill -9 two nodes at once (quorum lost)", "kill9many", f"{WRITER}+{NOT_WRITER}")]
    else:
        database = [("kill -9 mariadbd", "kill9", "mariadb"),
                    (f"SIGSTOP mariadbd {db_stop_s:g} s", "sigstop", "mariadb")]
    return [("kill -9 appserver1", "kill9", "appserver1"),
            ("kill -9 appserver2", "kill9", "appserver2"),
            *together,
            (f"SIGSTOP appserver1 {stop_s:g} s", "sigstop", "appserver1"),
            *database,
            ("bad input burst", "badinput", None)]


def resolve(stack: Stack, target: str | None) -> str | None:
    """The cluster's roles in a target named by the nodes that have them now."""
    if not target or WRITER not in target and NOT_WRITER not in target:
        return target
    writer = galera.writer(stack) or db_names(stack)[0]
    others = [name for name in db_names(stack) if name != writer]
    return "+".join(writer if t == WRITER else others.pop(0) if t == NOT_WRITER else t for t in targets_of(target))


def targets_of(target: str | None) -> list[str]:
    """The components a phase's fault hits ("appserver1+appserver2" is two)."""
    return target.split("+") if target else []


def wait_settled(stack: Stack, watch: Watch, target: str | None, since: float, timeout: float = 45) -> None:
    """Until every component is healthy again and Prometheus has seen the target back up."""
    deadline = now() + timeout
    watched = (*app_server_names(stack), *db_names(stack))
    while now() < deadline:
        prom_ok = True
        for name in (t for t in targets_of(target) if t in watched):
            values = [v for t, s, v in watch.prometheus if s == name and t >= since - watch.started]
            prom_ok &= bool(values) and values[-1] == 1
        if prom_ok and all_healthy(stack):
            return
        gevent.sleep(0.25)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(q / 100 * len(ordered) + 0.5)) - 1))
    return ordered[index]


# HAProxy's log (haproxy/haproxy.cfg.j2: ISO timestamps; only what went wrong is logged per request)
HAPROXY_STATE = re.compile(r"^(\S+) (Backup )?Server appservers/(\S+) is (UP|DOWN)\b")
HAPROXY_REQUEST = re.compile(r"^(\S+) \S+ \[[^\]]+\] \S+ appservers/(\S+) \S+ (-?\d+) \S+ \S+ \S+ (\S{4}) "
                             r"\d+/\d+/\d+/\d+/(\+?)(\d+) \S+ \{[^}]*\} \"(\S+) (\S+)")


def haproxy_log(stack: Stack, offset: int, started: float) -> dict:
    """Since a log offset: the app servers' state changes (t, server, "UP" | "DOWN", backup) and the
    requests logged as abnormal (t, server, status, retries, redispatched, termination, method, path)."""
    events, logged = [], []
    try:
        with (stack.logs / "haproxy.log").open("rb") as f:
            f.seek(offset)
            lines = f.read().decode(errors="replace").splitlines()
    except OSError:
        lines = []
    for line in lines:
        try:
            if state := HAPROXY_STATE.match(line):
                t = datetime.fromisoformat(state.group(1)).timestamp() - started
                events.append((t, state.group(3), state.group(4), bool(state.group(2))))
            elif request := HAPROXY_REQUEST.match(line):
                t = datetime.fromisoformat(request.group(1)).timestamp() - started
                logged.append((t, request.group(2), int(request.group(3)), int(request.group(6)),
                               request.group(5) == "+", request.group(4), request.group(7), request.group(8)))
        except ValueError:
            continue
    return {"events": events, "requests": logged}


def rotation(events: list[tuple], server: str, since: float) -> tuple[float | None, float | None]:
    """Seconds after `since` until HAProxy took the app server out of rotation, and put it back."""
    out = back = None
    for t, name, state, backup in events:
        if name != server or backup or t < since:
            continue
        if out is None and state == "DOWN":
            out = t - since
        elif out is not None and state == "UP":
            back = t - since
            break
    return out, back


def longest_gap(rows: list[tuple], start: float, end: float) -> float | None:
    """The longest time within [start, end] in which no request got a successful answer."""
    answered = sorted(r[0] + r[3] / 1000 for r in rows if r[1] != "RETRY" and r[4] and start <= r[0] + r[3] / 1000
                      <= end)
    if not answered:
        return None
    marks = [start, *answered, end]
    return max(b - a for a, b in zip(marks, marks[1:], strict=False))


BOOKING = "POST /api/transfers/[id]/confirm"


def writes_back_after(rows: list[tuple], fault: float) -> float | None:
    """Seconds from the fault until the first booking that was asked for after it succeeded."""
    booked = [r[6] for r in rows if r[1] != "RETRY" and r[2] == BOOKING and r[4] and r[0] >= fault]
    return round(min(booked) - fault, 2) if booked else None


def phase_stats(phase: Phase, rows: list[tuple], hap: dict, stop_seconds: float) -> dict:
    mine = [r for r in rows if phase.start <= r[0] < phase.end]
    final = [r for r in mine if r[1] != "RETRY"]
    # A retry belongs to the phase whose fault made it: the one in which its 503 came (an attempt
    # sent just before a hang is answered during it).
    retries = [r for r in rows if r[1] == "RETRY" and phase.start <= r[6] < phase.end]
    times = [r[3] for r in final if r[2] != "POST /auth"]
    hap_all = [r for r in hap["requests"] if phase.start <= r[0] < phase.end and r[7] != "/api/healthcheck"]
    hap_mine = [r for r in hap_all if r[7] != "/api/ws"]
    # the hang itself for a SIGSTOP, else the whole phase
    window_end = min(phase.end, phase.start + stop_seconds) if phase.kind == "sigstop" else phase.end
    rotations = {}
    for server in targets_of(phase.target):
        if server.startswith("appserver"):
            out, back = rotation(hap["events"], server, phase.start)
            rotations[server] = {"out_s": None if out is None else round(out, 2),
                                 "back_s": None if back is None else round(back, 2)}
    failed_statuses: dict[str, int] = {}
    for r in final:
        if not r[4]:
            failed_statuses[str(r[5])] = failed_statuses.get(str(r[5]), 0) + 1
    retried_503 = [r for r in retries if r[5] == 503]
    return {
        "phase": phase.name, "start_s": round(phase.start, 1), "duration_s": round(phase.end - phase.start, 1),
        "requests": len(final), "failures": sum(1 for r in final if not r[4]), "failed_statuses": failed_statuses,
        "client_retries": len(retries),
        "retried_statuses": {str(s): sum(1 for r in retries if r[5] == s) for s in sorted({r[5] for r in retries})},
        "retried_reasons": dict(Counter(r[2].rsplit(" [", 1)[-1].rstrip("]") for r in retries).most_common()),
        "slowest_503_ms": round(max((r[3] for r in retried_503), default=0), 1) or None,
        "p50_ms": percentile(times, 50), "p95_ms": percentile(times, 95), "p99_ms": percentile(times, 99),
        "max_ms": max(times, default=None), "max_ms_all": max((r[3] for r in final), default=None),
        "longest_gap_s": None if (gap := longest_gap(rows, phase.start, window_end)) is None else round(gap, 2),
        "haproxy_out_s": min((r["out_s"] for r in rotations.values() if r["out_s"] is not None), default=None),
        "haproxy_back_s": max((r["back_s"] for r in rotations.values() if r["back_s"] is not None), default=None),
        "rotation": rotations,
        "haproxy_resent": sum(1 for r in hap_mine if r[3] > 0),
        "haproxy_redispatched": sum(1 for r in hap_mine if r[4]),
        # cut as their server went down (a request resent after that is logged with its final outcome)
        "haproxy_cut": sum(1 for r in hap_mine if r[5].startswith("D")),
        "websockets_cut": sum(1 for r in hap_all if r[7] == "/api/ws" and r[5].startswith("D")),
        "haproxy_5xx": sum(1 for r in hap_mine if r[2] >= 500),
        **({"writes_back_s": writes_back_after(rows, phase.measured["fault_s"])}
           if "fault_s" in phase.measured else {}),
        **phase.measured,
    }


def monit_not_ok(stack: Stack) -> list[str]:
    summary = subprocess.run(["monit", "-c", str(stack.monitrc), "summary"], capture_output=True, text=True)
    if summary.returncode != 0:
        return [f"monit summary failed: {summary.stderr.strip()}"]
    return [f"monit: {' '.join(line.split())}" for line in summary.stdout.splitlines()
            if line.rstrip().endswith("Process") and " OK " not in f" {line} "]


def stuck_or_unmonitored(stack: Stack, wait: float = 15.0) -> list[str]:
    """Processes of the stack left in state T (they get SIGCONT), and services Monit doesn't report
    OK within `wait` seconds (its status lags a cycle or two behind a restart)."""
    problems = []
    for pidfile in sorted(stack.pids.glob("*.pid")):
        try:
            pid = int(pidfile.read_text().strip())
        except (OSError, ValueError):
            continue
        if process_state(pid) == "T":
            os.kill(pid, signal.SIGCONT)
            problems.append(f"{pidfile.stem} (pid {pid}) was left stopped; sent SIGCONT")
    deadline = now() + wait
    while (not_ok := monit_not_ok(stack)) and now() < deadline:
        gevent.sleep(0.5)
    return problems + not_ok


def hold_of(stack: Stack, target: str | None, args) -> float:
    """How long a SIGSTOP holds: a database node for --db-stop-seconds, an app server for --stop-seconds."""
    return args.db_stop_seconds if set(targets_of(target)) & set(db_names(stack)) else args.stop_seconds


def app_db_timeouts() -> tuple[float, float]:
    """The app servers' retry budget and driver read timeout (their defaults, as the stack runs them)."""
    from app.config import Config

    config = Config.from_env()
    return config["DB_RETRY_BUDGET_SECONDS"], config["DB_READ_TIMEOUT"]


def alert_sink(stack: Stack) -> list[dict]:
    try:
        return session().get(f"http://127.0.0.1:{stack.ports['alert_sink']}/alerts", timeout=3).json()
    except (requests.RequestException, ValueError):
        return []


def run(args) -> dict:
    os.environ.setdefault("LOAD_WAIT_MIN", str(args.wait_min))
    os.environ.setdefault("LOAD_WAIT_MAX", str(args.wait_max))
    if args.isolated:
        os.environ["LOAD_ISOLATED"] = "1"
    import locust  # noqa: F401 - registers Locust's events before the journeys' listeners
    from locust.env import Environment

    from load import ledger
    from load import locustfile as journeys

    stack = journeys.STACK
    if not stack.monitrc.exists() or not all_healthy(stack):
        raise SystemExit(f"The stack in {stack.run} is not up and healthy: start it with `make up` "
                         "(or set PIGGY_RUN_DIR / PIGGY_PORT_OFFSET).")
    journeys.prepare_customers()
    if not journeys.CUSTOMERS:
        raise SystemExit("could not create the generated load customers")
    classes = [journeys.GeneratedCustomer] + ([] if args.isolated else [journeys.SeedCustomer])

    started = now()
    started_utc = datetime.now(UTC).replace(tzinfo=None)
    haproxy_file = stack.logs / "haproxy.log"
    hap_offset = haproxy_file.stat().st_size if haproxy_file.exists() else 0
    sink_before = len(alert_sink(stack))
    recorder = Recorder(started)
    env = Environment(user_classes=classes, events=locust.events, host=journeys.HOST)
    env.events.request.add_listener(recorder)
    runner = env.create_local_runner()
    watch = Watch(stack, started)
    watch.start()
    print(f"Failover drill against {journeys.HOST} ({stack.run}): {args.users} users, "
          f"{'quick' if args.quick else 'full'} schedule", flush=True)
    runner.start(args.users, spawn_rate=args.spawn_rate)

    phases = [Phase("baseline", 0.0)]
    bad_input = None
    try:
        gevent.sleep(args.warmup)
        for label, kind, wanted in schedule(args.quick, args.stop_seconds, len(stack.app_servers),
                                            args.db_stop_seconds, stack.clustered):
            target = resolve(stack, wanted)
            if target != wanted:
                label += f" ({', '.join(targets_of(target))})"
            phase = Phase(label, now() - started, kind, target)
            phases[-1].end = phase.start
            phases.append(phase)
            print(f"  t={phase.start:6.1f} s  {label}", flush=True)
            since = now()
            try:
                if kind == "kill9":
                    phase.measured.update(kill9(stack, target))
                elif kind == "kill9many":
                    phase.measured.update(kill9_together(stack, targets_of(target)))
                elif kind == "sigstop":
                    phase.measured.update(sigstop(stack, target, hold_of(stack, target, args)))
                elif kind == "badinput":
                    me = journeys.CUSTOMERS[-1]
                    token = session().post(journeys.HOST + "/auth", timeout=30, json={
                        "username": me.email, "password": me.password}).json()["access_token"]
                    bad_input = bad_input_burst(journeys.HOST, token, me.iban, args.burst_seconds, args.burst_rate)
                    phase.measured["bad_input_sent"] = bad_input["sent"]
                    phase.measured["bad_input_not_4xx"] = bad_input["problem_count"]
            except (RuntimeError, OSError, requests.RequestException, ValueError, KeyError) as error:
                phase.measured["error"] = f"{error.__class__.__name__}: {error}"
                print(f"    could not inject '{label}': {phase.measured['error']}", flush=True)
            wait_settled(stack, watch, target, since)
            if target:
                outages = [watch.prometheus_outage(name, since - started) for name in targets_of(target)]
                downs, ups = [d for d, _ in outages if d is not None], [u for _, u in outages if u is not None]
                phase.measured["prometheus_down_s"] = min(downs, default=None)
                phase.measured["prometheus_up_s"] = max(ups) if len(ups) == len(outages) else None
            for key in ("restarted_s", "healthy_s", "app_servers_healthy_s", "prometheus_down_s", "prometheus_up_s"):
                if phase.measured.get(key) is not None:
                    phase.measured[key] = round(phase.measured[key], 2)
            if "fault_at" in phase.measured:
                phase.measured["fault_s"] = round(phase.measured.pop("fault_at") - started, 2)
            # The books after every fault, not only at the end (the load goes on meanwhile): a copy of what
            # the clients saw so far, as the checks read the database in one snapshot taken after it.
            seen = {key: {**entry, "ids": set(entry["ids"])} for key, entry in list(journeys.JOURNAL.items())}
            book = ledger.check(stack, seen, since=started_utc)
            phase.measured["ledger_ok"], phase.measured["ledger_problems"] = book["ok"], book["problems"][:5]
            print(f"    ledger {'right' if book['ok'] else 'BROKEN: ' + '; '.join(book['problems'][:3])} "
                  f"({book['transfers_confirmed_seen']} confirmed transfers so far)", flush=True)
            gevent.sleep(max(0.0, args.gap - (now() - since)))
        gevent.sleep(args.cooldown)
    finally:
        phases[-1].end = now() - started
        runner.quit()
        stuck = stuck_or_unmonitored(stack)
    settle_deadline = now() + args.settle
    while watch.firing_now() and now() < settle_deadline:
        gevent.sleep(1)
    watch.stop()
    ended = now() - started

    hap = haproxy_log(stack, hap_offset, started)
    table = [phase_stats(p, recorder.rows, hap, hold_of(stack, p.target, args)) for p in phases]
    book = ledger.check(stack, journeys.JOURNAL, since=started_utc)
    sink = [{"received_s": round(a.get("received", started) - started, 1), "status": a.get("status"),
             "alerts": sorted({x["labels"].get("alertname", "?") for x in a.get("alerts", [])})}
            for a in alert_sink(stack)[sink_before:]]
    final = [r for r in recorder.rows if r[1] != "RETRY"]
    app_phases = [t for t, p in zip(table, phases, strict=True)
                  if any(name.startswith("appserver") for name in targets_of(p.target))]
    db_phases = [(t, p) for t, p in zip(table, phases, strict=True) if set(targets_of(p.target)) & set(db_names(stack))]
    checks = {
        "every fault was injected": not any("error" in p.measured for p in phases),
        "no failed requests while an app server was killed or hung": sum(t["failures"] for t in app_phases) == 0,
        "ledger invariants hold, no key booked twice, every confirmed transfer booked": book["ok"],
        "the ledger was right after every phase": all(p.measured.get("ledger_ok", True) for p in phases),
        "nothing left stopped or unmonitored": not stuck,
        "no Locust exceptions (bugs in the journeys)": not runner.exceptions,
    }
    if bad_input is not None:
        checks["bad input only ever got 4xx"] = bad_input["problem_count"] == 0
    budget, read_timeout = app_db_timeouts()
    db_targets = {}
    for row, phase in db_phases:
        # Answers to requests sent while the database was out (from the fault until the app servers
        # were healthy again): each a success or a 503 within the app's retry budget, never a hang.
        outage_end = phase.measured.get("fault_s", phase.start) + (row.get("app_servers_healthy_s") or 0) + 0.5
        during = [r for r in recorder.rows if phase.start <= r[0] <= outage_end]
        row["outage_requests"] = len(during)
        # the database's own 503s (database_unavailable); a 503 server_busy is an app server whose pool
        # stayed busy for its 2 s pool timeout: overload, reported but not held to the budget
        db_503 = [r for r in during if r[5] == 503 and (r[1] != "RETRY" or "database_unavailable" in r[2])]
        row["outage_503s"] = len(db_503)
        row["outage_server_busy"] = sum(1 for r in during if "server_busy" in r[2])
        row["outage_slowest_503_ms"] = round(max((r[3] for r in db_503), default=0), 1)
        row["outage_slowest_ms"] = round(max((r[3] for r in during), default=0), 1)
        bound = budget + read_timeout + 1
        checks[f"{phase.name}: 503s within the retry budget (< {bound:g} s)"] = (
            row["outage_slowest_503_ms"] < bound * 1000)
        # the liveness checks need no database: a database outage must not take app servers out
        row["taken_out_during_outage"] = sorted({name for t, name, state, backup in hap["events"]
                                                 if state == "DOWN" and not backup and phase.start <= t <= outage_end})
        checks[f"{phase.name}: every app server stayed in HAProxy's rotation"] = not row["taken_out_during_outage"]
        checks[f"{phase.name}: recovered by itself"] = row.get("app_servers_healthy_s") is not None
        checks[f"{phase.name}: no failed request"] = row["failures"] == 0
        back = row.get("writes_back_s")
        if back is not None and back < budget:
            db_targets[f"{phase.name}: no client retry (writes back within the {budget:g} s budget)"] = {
                "measured": f"{row['client_retries']} retries, writes back after {back:.2f} s",
                "met": row["client_retries"] == 0}
    targets = dict(db_targets)
    for t, p in zip(table, phases, strict=True):
        database = bool(set(targets_of(p.target)) & set(db_names(stack)))
        if p.kind in ("kill9", "kill9many") and t.get("healthy_s") is not None:
            limit = 10 if database else 3
            measured = t.get("app_servers_healthy_s", t["healthy_s"])
            targets[f"{p.target} serves again within {limit} s of kill -9"] = {
                "measured": f"{measured:.2f} s", "met": measured <= limit}
        if p.kind == "sigstop" and not database:  # the bounds for a hung app server
            gap, slowest = t.get("longest_gap_s"), t.get("max_ms")
            targets[f"{p.name}: no failed request"] = {"measured": str(t["failures"]), "met": t["failures"] == 0}
            targets[f"{p.name}: longest time without an answer <= {HANG_TARGETS['longest_gap_s']:g} s"] = {
                "measured": "-" if gap is None else f"{gap:.2f} s",
                "met": gap is not None and gap <= HANG_TARGETS["longest_gap_s"]}
            targets[f"{p.name}: slowest answer <= {HANG_TARGETS['max_ms'] / 1000:g} s"] = {
                "measured": "-" if slowest is None else f"{slowest / 1000:.2f} s",
                "met": slowest is not None and slowest <= HANG_TARGETS["max_ms"]}
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"), "host": journeys.HOST, "run_dir": str(stack.run),
        "users": args.users, "quick": args.quick, "duration_s": round(ended, 1),
        "stop_seconds": args.stop_seconds, "db_stop_seconds": args.db_stop_seconds,
        "burst_seconds": args.burst_seconds, "db_nodes": len(stack.db_nodes),
        "db_retry_budget_s": budget, "db_read_timeout_s": read_timeout,
        "load_average": list(os.getloadavg()),
        "cores": os.cpu_count(),
        "totals": {"requests": len(final), "failures": sum(1 for r in final if not r[4]),
                   "client_retries": sum(1 for r in recorder.rows if r[1] == "RETRY"),
                   "outcomes": dict(journeys.OUTCOMES), "locust_exceptions": len(runner.exceptions)},
        "phases": table, "bad_input": bad_input, "ledger": book,
        "alerts": sorted((e for episodes in watch.alerts.values() for e in episodes),
                         key=lambda a: min(a.get(k, 1e9) for k in ("pending", "firing"))),
        "alert_sink": sink, "stuck_or_unmonitored": stuck, "checks": checks, "targets": targets,
        "locust_exceptions": [{"count": e["count"], "message": e["msg"], "traceback": e["traceback"][-1500:]}
                              for e in runner.exceptions.values()],
        "passed": all(checks.values()),
    }
    report["_timeline"] = {"rows": recorder.rows, "health": watch.health, "prometheus": watch.prometheus,
                           "app_servers": app_server_names(stack), "haproxy": hap,
                           "phases": [(p.name, p.start, p.end, p.kind) for p in phases],
                           "databases": db_names(stack)}
    return report


# --- output --------------------------------------------------------------------------------------------

COLUMNS = [("phase", "phase", 40), ("start_s", "start s", 7), ("requests", "requests", 8),
           ("failures", "failed", 6), ("client_retries", "retries", 7), ("p50_ms", "p50 ms", 7),
           ("p95_ms", "p95 ms", 7), ("p99_ms", "p99 ms", 7), ("max_ms", "max ms", 7),
           ("longest_gap_s", "gap s", 6), ("haproxy_out_s", "out s", 6), ("haproxy_back_s", "back s", 6),
           ("restarted_s", "new pid s", 9), ("healthy_s", "healthy s", 9), ("prometheus_down_s", "prom 0 s", 8),
           ("prometheus_up_s", "prom 1 s", 8), ("writes_back_s", "writes back s", 13), ("ledger_ok", "ledger", 6),
           ("haproxy_resent", "resent", 6)]


def _where(alert: dict) -> str:
    """What an alert is about: the app server, else the instance, else the job."""
    labels = alert["labels"]
    return labels.get("appserver") or labels.get("instance") or labels.get("job", "")


def fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.0f}" if value >= 100 else f"{value:.1f}"
    return str(value)


def print_report(report: dict) -> None:
    print()
    print("  ".join(f"{title:>{width}}" if key != "phase" else f"{title:<{width}}" for key, title, width in COLUMNS))
    for row in report["phases"]:
        print("  ".join(f"{fmt(row.get(key)):>{width}}" if key != "phase" else f"{row[key]:<{width}}"
                        for key, _title, width in COLUMNS))
    totals = report["totals"]
    print(f"\nTotal: {totals['requests']} requests, {totals['failures']} failed, {totals['client_retries']} client "
          f"retries; outcomes {json.dumps(totals['outcomes'], sort_keys=True)}")
    for row in report["phases"]:
        if row.get("failed_statuses"):
            print(f"  failures in '{row['phase']}' by status: {row['failed_statuses']}")
        if row.get("retried_statuses"):
            print(f"  client retries in '{row['phase']}': {row['retried_reasons']}"
                  + (f" (slowest 503: {row['slowest_503_ms']:.0f} ms)" if row.get("slowest_503_ms") else ""))
    if report["bad_input"]:
        b = report["bad_input"]
        print(f"Bad input: {b['sent']} requests, statuses {b['statuses']}; not 4xx: {b['problem_count']} "
              f"{b['problems'][:5]}")
    for row in report["phases"]:
        if "outage_requests" in row:
            print(f"Database outage: {row['outage_requests']} requests sent while it was down, "
                  f"{row['outage_503s']} answered 503 database_unavailable (slowest "
                  f"{row['outage_slowest_503_ms']:.0f} ms), {row['outage_server_busy']} 503 server_busy, "
                  f"slowest answer {row['outage_slowest_ms']:.0f} ms")
    book = report["ledger"]
    print(f"Ledger: {'OK' if book['ok'] else 'BROKEN'}: {book['invariant_violations']} invariant violations, "
          f"{book['doubled_keys']} doubled keys, {book['orphan_transfers']} transfers without key, "
          f"{book['transfers_confirmed_seen']} confirmed transfers checked; {book['problems'][:5]}")
    print("Alerts (Prometheus): " + (", ".join(
        f"{a['alert']}[{_where(a)}]"
        f" pending {a.get('pending', '-')} s, firing {a.get('firing', '-')} s, resolved {a.get('resolved', '-')} s"
        for a in report["alerts"]) or "none"))
    print("Alert sink (Alertmanager webhook): " + (", ".join(
        f"{s['status']} {'/'.join(s['alerts'])} at {s['received_s']} s" for s in report["alert_sink"]) or "nothing"))
    for error in report["locust_exceptions"]:
        print(f"Locust exception ({error['count']}x): {error['message']}\n{error['traceback']}")
    if report["stuck_or_unmonitored"]:
        print(f"Left stopped/unmonitored: {report['stuck_or_unmonitored']}")
    for row in report["phases"]:
        for server, times in row.get("rotation", {}).items():
            print(f"HAProxy in '{row['phase']}': {server} out of rotation after "
                  f"{fmt(times['out_s'])} s, back after {fmt(times['back_s'])} s; {row['haproxy_resent']} requests "
                  f"resent to another server, {row['websockets_cut']} WebSockets cut (their clients reconnect); "
                  f"longest time without an answer {fmt(row['longest_gap_s'])} s, slowest answer "
                  f"{fmt(row['max_ms_all'])} ms")
    for name, target in report["targets"].items():
        print(f"Target: {name}: {target['measured']} -> {'met' if target['met'] else 'NOT met'}")
    for name, ok in report["checks"].items():
        print(f"Check: {name}: {'ok' if ok else 'FAILED'}")
    print(f"\nFAILOVER DRILL {'PASSED' if report['passed'] else 'FAILED'}")


def write_outputs(report: dict, out: Path, stem: str) -> dict[str, Path]:
    from load.timeline import draw

    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / f"{stem}.json", "csv": out / f"{stem}.csv", "png": out / f"{stem}.png",
             "raw": out / f"{stem}.timeline.json"}
    public = {k: v for k, v in report.items() if not k.startswith("_")}
    paths["json"].write_text(json.dumps(public, indent=2, default=str))
    paths["raw"].write_text(json.dumps(report, default=str))  # everything, to redraw: python -m load.timeline
    keys = [k for k, _t, _w in COLUMNS] + ["duration_s", "failed_statuses", "retried_statuses", "slowest_503_ms",
                                           "max_ms_all", "app_servers_healthy_s", "haproxy_redispatched",
                                           "haproxy_cut", "websockets_cut", "haproxy_5xx", "bad_input_sent",
                                           "bad_input_not_4xx"]
    with paths["csv"].open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=keys, extrasaction="ignore")
        writer.writeheader()
        for row in report["phases"]:
            writer.writerow({k: json.dumps(v) if isinstance(v, dict) else v for k, v in row.items()})
    draw(report, paths["png"])
    return paths


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m load.failover", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one kill -9 and one SIGSTOP, about a minute")
    parser.add_argument("--users", type=int, default=None, help="simulated users (full: 24, quick: 12)")
    parser.add_argument("--spawn-rate", type=float, default=4.0)
    parser.add_argument("--wait-min", type=float, default=0.3)
    parser.add_argument("--wait-max", type=float, default=1.2)
    parser.add_argument("--warmup", type=float, default=None, help="seconds of load before the first fault")
    parser.add_argument("--gap", type=float, default=None, help="at least this long between faults")
    parser.add_argument("--stop-seconds", type=float, default=20.0, help="how long SIGSTOP holds an app server")
    parser.add_argument("--db-stop-seconds", type=float, default=10.0, help="how long SIGSTOP holds a database node")
    parser.add_argument("--cooldown", type=float, default=None)
    parser.add_argument("--burst-seconds", type=float, default=6.0)
    parser.add_argument("--burst-rate", type=float, default=40.0, help="bad requests per second")
    parser.add_argument("--settle", type=float, default=None,
                        help="after the load, wait up to this long for firing alerts to resolve")
    parser.add_argument("--isolated", action="store_true",
                        help="generated customers only; the seed customers and Interspar stay untouched")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--docs", action="store_true", help="also update docs/benchmarks.md and docs/img/")
    args = parser.parse_args(argv)
    quick = args.quick
    args.users = args.users or (12 if quick else 24)
    args.warmup = args.warmup if args.warmup is not None else (10 if quick else 20)
    args.gap = args.gap if args.gap is not None else (12 if quick else 20)
    args.cooldown = args.cooldown if args.cooldown is not None else (3 if quick else 10)
    args.settle = args.settle if args.settle is not None else (0 if quick else 60)

    report = run(args)
    print_report(report)
    stem = f"failover-{'quick-' if quick else ''}{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    paths = write_outputs(report, args.out, stem)
    print("Wrote " + ", ".join(str(p) for p in paths.values()))
    if args.docs:
        from load.docs import update_failover

        update_failover(report, paths["png"])
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
