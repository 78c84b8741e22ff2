"""The benchmark (`make bench`): the bank against the bare limits, measured side by side in one run
with one load tool (wrk, keep-alive connections through nginx's TLS).

Targets, each behind nginx and HAProxy rendered from nginx/nginx.conf.j2 and haproxy/haproxy.cfg.j2
(the stack's own, or the same templates with other ports), each with two backend processes:
  stack            the running stack (make up): GET /api/user and the transfer flow
                   (create, read the mTAN from the demo phone, confirm)
  app metrics on   two more app servers (python -m app) on the stack's database
  app metrics off  the same with PIGGY_METRICS=false: the cost of observability (each round runs
                   on, off, off, on, so that a drift of the machine cancels out; the cost is the
                   median of the rounds' paired figures)
  flask baseline   a minimal Flask app answering a fixed JSON body (load/baseline.py): the framework's limit
  bare wsgi        a bare gevent WSGI callable answering the same bytes: the server's limit
  bare wsgi, no haproxy   the same with nginx straight to one backend: what the HAProxy hop costs
All are served the same way (gevent WSGIServer, TCP_NODELAY), with fixed string-hash seeds
(PYTHONHASHSEED), the same two for every target's two backends: Python's random per-process seed alone
moves a process's instructions per request by up to ~3 % (the probing of its dicts; callgrind,
docs/benchmarks.md "Eighth pass"), which would read as a difference between two targets. The runs
are interleaved over --rounds rounds; medians are reported. Also: each app server's RSS under load, the time from
`make up` to all healthy (a throwaway stack on free ports, cold and warm), and kill -9 until
healthy for an app server and for the database (stack/drill.py, on the running stack).
With a Galera cluster (PIGGY_DB_NODES=3) the transfer flow also runs, in the same rounds, against a
throwaway single-node stack on free ports: the cost of synchronous replication, as a ratio.

Results: load/results/bench-<time>.json and, with --docs, docs/benchmarks.md + docs/img/bench.png.
Other engineers' processes share this machine's cores: the load average is recorded with every run.
"""

import argparse
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psutil
import requests
import urllib3

from stack import drill, haproxy, render, tls
from stack.control import http_ok, port_open
from stack.settings import ROOT, Stack

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
RESULTS = ROOT / "load" / "results"

REPORT_LUA = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK_JSON {"requests":%d,"duration_us":%d,"connect_errors":%d,"read_errors":%d,' ..
    '"write_errors":%d,"non_2xx":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,"p95_us":%d,"p99_us":%d,' ..
    '"max_us":%d,"mean_us":%.1f%s}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(95), latency:percentile(99),
    latency.max, latency.mean, extra and extra() or ""))
end
"""

# The transfer flow with one connection per wrk thread, so each thread's requests strictly
# alternate with their answers: create (201) -> the demo phone's newest SMS -> confirm (booked).
TRANSFER_LUA = r"""
local counter = 0
local threads = {}
function setup(thread)
  counter = counter + 1
  local c = CUSTOMERS[counter]
  thread:set("token", c.token)
  thread:set("recipient", c.recipient)
  thread:set("prefix", RUN .. "-" .. counter)
  table.insert(threads, thread)
end
function init(args)
  step, n, booked, bad = 0, 0, 0, 0
end
function request()
  local h = {["Authorization"] = "JWT " .. token, ["Content-Type"] = "application/json"}
  if step == 0 then
    n = n + 1
    h["Idempotency-Key"] = prefix .. "-" .. n
    return wrk.format("POST", "/api/transfers", h, string.format(
      '{"recipientIban":"%s","recipientName":"Bench %s-%d","amount":"0.01"}', recipient, prefix, n))
  elseif step == 1 then
    return wrk.format("GET", "/api/demo/sms", h)
  end
  return wrk.format("POST", "/api/transfers/" .. transfer .. "/confirm", h, '{"tan":"' .. tan .. '"}')
end
function response(status, headers, body)
  if step == 0 then
    transfer = (status == 201) and string.match(body, '"id":%s*(%d+)') or nil
    if transfer then step = 1 else bad = bad + 1 end
  elseif step == 1 then
    tan = (status == 200) and string.match(body, "mTAN (%d%d%d%d%d%d)") or nil
    if tan then step = 2 else bad = bad + 1; step = 0 end
  else
    if status == 200 and string.find(body, '"status":%s*"booked"') then booked = booked + 1 else bad = bad + 1 end
    step = 0
  end
end
function extra()
  local b, x = 0, 0
  for _, t in ipairs(threads) do b = b + t:get("booked"); x = x + t:get("bad") end
  return string.format(',"booked":%d,"bad":%d', b, x)
end
""" + REPORT_LUA

TARGETS = {"ratio_to_flask": 0.5, "metrics_cost": 0.05, "p99_ms": 50.0, "rss_mb": 100.0,
           "app_kill_s": 3.0, "db_kill_s": 10.0, "user_round_trips": 2,
           # issue 12: twice the transfer flow's 95.9 transfers/s of the 2026-11-28 run
           "transfers_per_s": 2 * 95.9}


HASH_SEEDS = ("2017", "2018")  # the first and the second backend's, in every target (the docstring says why)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(ready, timeout: float, what: str) -> float:
    started = time.monotonic()
    while not ready():
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"{what} not ready within {timeout:.0f} s")
        time.sleep(0.05)
    return time.monotonic() - started


def http() -> requests.Session:
    s = requests.Session()
    s.verify = False
    s.trust_env = False
    return s


# --- the side-by-side targets ------------------------------------------------------------------------

class Target:
    """Two backend processes behind nginx and HAProxy rendered from the stack's templates, on free
    ports; with via_haproxy=False, nginx sends everything straight to the first backend instead."""

    def __init__(self, name: str, workdir: Path, stack: Stack, secrets: dict, backend: list[str], env: dict,
                 via_haproxy: bool = True):
        self.name, self.stack_of_record, self.secrets, self.via_haproxy = name, stack, secrets, via_haproxy
        self.dir = workdir / name.replace(" ", "-").replace(",", "")
        ports = {name: port for name, port in stack.ports.items() if not re.fullmatch(r"app\d+", name)}
        ports.update({"https": free_port(), "haproxy": free_port(), "haproxy_stats": free_port(),
                      "app1": free_port(), "app2": free_port()})
        self.stack = Stack(run=self.dir, ports=ports, env=stack.env)
        self.backend, self.env = backend, env
        self.processes: list[subprocess.Popen] = []  # the two backends, HAProxy (if any), nginx

    @property
    def https(self) -> int:
        return self.stack.ports["https"]

    def backend_pids(self) -> list[int]:
        return [p.pid for p in self.processes[:2]]

    def start(self) -> None:
        for d in (self.stack.conf, self.stack.logs / "nginx", self.stack.pids, self.dir / "nginx", self.dir / "www",
                  self.stack.haproxy_socket.parent):
            d.mkdir(parents=True, exist_ok=True)
        tls.ensure_certificate(self.stack.tls)
        # Only the path to the app servers: not the board (the stack's nginx has its port) nor a
        # cluster's writer section (the backends use the stack's database address, as they are).
        context = {**render.native_context(self.stack, self.secrets), "board": False, "haproxy_sections": []}
        templates = render.environment()
        haproxy_conf = self.stack.conf / "haproxy.cfg"
        haproxy_conf.write_text(templates.get_template(render.TEMPLATES["haproxy.cfg"]).render(**context))
        if not self.via_haproxy:  # nginx's upstream is the first backend itself
            context = {**context, "ports": {**context["ports"], "haproxy": self.stack.ports["app1"]}}
        conf = self.stack.conf / "nginx.conf"
        conf.write_text(templates.get_template(render.TEMPLATES["nginx.conf"]).render(**context))
        for index, server in enumerate(self.stack.app_servers, start=1):
            log = (self.stack.logs / f"{server.name}.log").open("ab")
            env = {**os.environ, **self.env, "PIGGY_INSTANCE": f"bench-{index}", "PIGGY_PORT": str(server.port),
                   "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": HASH_SEEDS[index - 1]}
            command = [arg.replace("{port}", str(server.port)) for arg in self.backend]
            self.processes.append(subprocess.Popen(command, env=env, stdout=log, stderr=log,
                                                   stdin=subprocess.DEVNULL, cwd=ROOT))
        for server in self.stack.app_servers:
            wait_until(lambda p=server.port: port_open(p), 60, f"{self.name} backend on {server.port}")
        if self.via_haproxy:
            self.processes.append(subprocess.Popen(["haproxy", "-f", str(haproxy_conf), "-db"],
                                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                                   stderr=subprocess.DEVNULL))
            names = {s.name for s in self.stack.app_servers}
            wait_until(lambda: self._in_rotation() == names, 30, f"{self.name} haproxy")
        self.processes.append(subprocess.Popen(["nginx", "-p", str(self.dir / "nginx"), "-c", str(conf)],
                                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                               stderr=subprocess.DEVNULL))
        wait_until(lambda: http_ok(f"https://127.0.0.1:{self.https}/healthz", timeout=1), 20, f"{self.name} nginx")

    def _in_rotation(self) -> set[str]:
        try:
            return haproxy.in_rotation(self.stack)
        except OSError:
            return set()

    def haproxy_pids(self) -> list[int]:
        return [p.pid for p in self.processes[2:-1]]

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGQUIT if process.args[0] == "nginx" else signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes = []


def cpu_seconds(groups: dict[str, list[int]]) -> dict[str, float]:
    """CPU time (user + system) used so far by each group of processes and their children."""
    totals = {}
    for group, pids in groups.items():
        total = 0.0
        for pid in pids:
            try:
                parent = psutil.Process(pid)
                family = [parent, *parent.children(recursive=True)]
            except (psutil.Error, TypeError, ValueError):
                continue
            for process in family:
                try:
                    times = process.cpu_times()
                    total += times.user + times.system
                except psutil.Error:
                    pass
        totals[group] = total
    return totals


def wrk(port: int, path: str, seconds: float, threads: int, connections: int, script: Path,
        token: str | None = None, cpu_groups=None) -> dict:
    """One wrk run; with cpu_groups (a function returning {group: [pid, ...]}) also the CPU time each
    group spent per request, and wrk's own."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s", "-s", str(script)]
    if token:
        command += ["-H", f"Authorization: JWT {token}"]
    command.append(f"https://127.0.0.1:{port}{path}")
    load_before = os.getloadavg()[0]
    groups = cpu_groups() if cpu_groups else {}
    cpu_before, wrk_before = cpu_seconds(groups), resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    cpu_after, wrk_after = cpu_seconds(groups), resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next((x for x in done.stdout.splitlines() if x.startswith("WRK_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no summary: {done.stdout}\n{done.stderr}")
    result = json.loads(line[len("WRK_JSON "):])
    seconds_run = result["duration_us"] / 1e6
    errors = sum(result[k] for k in ("connect_errors", "read_errors", "write_errors", "non_2xx", "timeouts"))
    per_request = max(result["requests"], 1) / 1000  # -> ms per request
    cpu = {group: round((cpu_after[group] - cpu_before[group]) / per_request, 3) for group in groups}
    cpu["wrk"] = round((wrk_after.ru_utime + wrk_after.ru_stime - wrk_before.ru_utime - wrk_before.ru_stime)
                       / per_request, 3)
    return {
        "cpu_ms_per_request": cpu,
        "rps": round(result["requests"] / seconds_run, 1), "requests": result["requests"], "errors": errors,
        "p50_ms": result["p50_us"] / 1000, "p95_ms": result["p95_us"] / 1000, "p99_ms": result["p99_us"] / 1000,
        "max_ms": result["max_us"] / 1000, "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
        **({"booked": result["booked"], "bad": result["bad"],
            "transfers_per_s": round(result["booked"] / seconds_run, 1)} if "booked" in result else {}),
    }


class RssSampler:
    """Resident memory of some processes, sampled every 0.25 s while a run goes on."""

    def __init__(self, pids_of):
        self.pids_of, self.peak, self.stopping = pids_of, {}, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.thread.join()

    def _run(self):
        while not self.stopping.is_set():
            for name, pid in self.pids_of().items():
                try:
                    rss = psutil.Process(pid).memory_info().rss
                except (psutil.Error, TypeError):
                    continue
                self.peak[name] = max(self.peak.get(name, 0), rss)
            self.stopping.wait(0.25)


# --- startup and restart times ---------------------------------------------------------------------

def free_offset(start: int) -> int:
    for offset in range(start, start + 5000, 137):
        ports = Stack.from_env({"PIGGY_PORT_OFFSET": str(offset)}).ports
        if not any(port_open(p) for p in ports.values()):
            return offset
    raise RuntimeError("no free port offset for the throwaway stack")


def startup_times(base_offset: int) -> dict:
    """`make up` on a throwaway stack in its own run directory: cold (new data directory, schema,
    seed) and warm (again, after `make down`)."""
    offset = free_offset(base_offset + 737)
    run_dir = Path(tempfile.mkdtemp(prefix="piggybank-bench-up-"))
    env = {k: v for k, v in os.environ.items() if not (k.startswith("PIGGY_") and k.endswith("_PORT"))}
    env.update({"PIGGY_RUN_DIR": str(run_dir), "PIGGY_PORT_OFFSET": str(offset)})
    result = {"port_offset": offset}
    try:
        for label in ("cold", "warm"):
            started = time.monotonic()
            done = subprocess.run(["make", "-s", "up"], cwd=ROOT, env=env, capture_output=True, text=True,
                                  timeout=600)
            result[f"{label}_s"] = round(time.monotonic() - started, 2)
            if done.returncode != 0:
                raise RuntimeError(f"make up failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
            reported = re.search(r"PiggyBank is up in ([\d.]+) s", done.stdout)
            result[f"{label}_reported_s"] = float(reported.group(1)) if reported else None
            subprocess.run(["make", "-s", "down"], cwd=ROOT, env=env, capture_output=True, timeout=120)
    finally:
        if (run_dir / "conf" / "monitrc").exists():
            subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-m", "stack", "down"], cwd=ROOT, env=env,
                           capture_output=True, timeout=120)
        shutil.rmtree(run_dir, ignore_errors=True)
    return result


def restart_drills(stack: Stack, times: int) -> dict:
    """kill -9 until healthy again (stack/drill.py): an app server; the database (a cluster's db1:
    until it is Synced again), and until both app servers answer healthy again through it."""
    app, db, db_apps = [], [], []
    for _ in range(times):
        app.append(round(drill.kill_and_time(stack, "appserver1"), 2))
        time.sleep(3)
    for _ in range(times):
        before = time.monotonic()
        db.append(round(drill.kill_and_time(stack, stack.db_nodes[0].name), 2))
        wait_until(lambda: all(drill.healthy(stack, s.name) for s in stack.app_servers), 60, "app servers")
        db_apps.append(round(time.monotonic() - before, 2))
        time.sleep(3)
    return {"appserver1_s": app, "mariadb_s": db, "mariadb_until_app_servers_healthy_s": db_apps}


class SingleNodeStack:
    """A throwaway stack with the single MariaDB (`make up` on free ports, its own run directory)
    and customers of its own, to run the transfer flow against beside a cluster."""

    def __init__(self, beside: Stack, connections: int):
        offset = free_offset(int(beside.env.get("PIGGY_PORT_OFFSET", "0")) + 737)
        self.run_dir = Path(tempfile.mkdtemp(prefix="piggybank-bench-single-"))
        self.env = {k: v for k, v in os.environ.items() if not (k.startswith("PIGGY_") and k.endswith("_PORT"))}
        self.env.update({"PIGGY_RUN_DIR": str(self.run_dir), "PIGGY_PORT_OFFSET": str(offset), "PIGGY_DB_NODES": "1"})
        self.stack = Stack.from_env(self.env)
        self.connections = connections
        self.transfer_lua = self.run_dir / "transfer.lua"

    def start(self) -> None:
        from load import customers

        done = subprocess.run([str(self.stack.python), "-m", "stack", "up"], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise RuntimeError(f"make up of the single-node stack failed:\n{done.stdout[-2000:]}\n"
                               f"{done.stderr[-2000:]}")
        people = customers.ensure(self.stack, self.connections + 1)
        session = http()
        tokens = [session.post(f"https://127.0.0.1:{self.stack.ports['https']}/auth", timeout=30, json={
            "username": p.email, "password": p.password}).json()["access_token"] for p in people[:self.connections]]
        rows = ",\n".join(f'  {{token = "{tokens[i]}", recipient = "{people[i + 1].iban}"}}'
                          for i in range(self.connections))
        self.transfer_lua.write_text(f'CUSTOMERS = {{\n{rows}\n}}\nRUN = "s{uuid.uuid4().hex[:8]}"\n' + TRANSFER_LUA)

    def stop(self) -> None:
        subprocess.run([str(self.stack.python), "-m", "stack", "down"], cwd=ROOT, env=self.env,
                       capture_output=True, timeout=120)
        shutil.rmtree(self.run_dir, ignore_errors=True)


# --- the run -----------------------------------------------------------------------------------------

def versions() -> dict:
    from importlib import metadata

    def tool(*command):
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=10)
            return (done.stdout + done.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return "?"

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return {"python": platform.python_version(), "flask": metadata.version("flask"),
            "werkzeug": metadata.version("werkzeug"), "gevent": metadata.version("gevent"),
            "sqlalchemy": metadata.version("sqlalchemy"), "pymysql": metadata.version("pymysql"),
            "prometheus_flask_exporter": metadata.version("prometheus-flask-exporter"),
            "nginx": tool("nginx", "-v"), "mariadb": tool("mariadbd", "--version"), "wrk": tool("wrk", "-v"),
            "kernel": platform.release(), "cpu": cpu, "cores": os.cpu_count(),
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1)}


def median_of(runs: list[dict], key: str):
    values = [r[key] for r in runs if r.get(key) is not None]
    return round(statistics.median(values), 2) if values else None


def run(args) -> dict:
    from load import customers

    stack = Stack.from_env()
    databases = [node.name for node in stack.db_nodes]
    if not stack.monitrc.exists() or not all(drill.healthy(stack, s) for s in (
            *(server.name for server in stack.app_servers), *databases)):
        raise SystemExit(f"The stack in {stack.run} is not up and healthy: start it with `make up` "
                         "(or set PIGGY_RUN_DIR / PIGGY_PORT_OFFSET).")
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: `make install-test` (python3 -m stack.install --for-tests)")
    secrets = customers.stack_secrets(stack)
    people = customers.ensure(stack, max(args.connections + 1, 4))
    session = http()

    def login(who) -> str:
        answer = session.post(f"https://127.0.0.1:{stack.ports['https']}/auth",
                              json={"username": who.email, "password": who.password}, timeout=30)
        answer.raise_for_status()
        return answer.json()["access_token"]

    tokens = [login(p) for p in people[:args.connections]]
    started = datetime.now(UTC).replace(tzinfo=None)  # the ledger checks look at transfers from here on
    work = Path(tempfile.mkdtemp(prefix="piggybank-bench-"))
    user_lua, transfer_lua = work / "report.lua", work / "transfer.lua"
    user_lua.write_text(REPORT_LUA)
    rows = ",\n".join(f'  {{token = "{tokens[i]}", recipient = "{people[i + 1].iban}"}}'
                      for i in range(args.connections))
    transfer_lua.write_text(f'CUSTOMERS = {{\n{rows}\n}}\nRUN = "b{uuid.uuid4().hex[:8]}"\n' + TRANSFER_LUA)

    app_env = {"PIGGY_DB_PORT": str(stack.ports["db"]), "PIGGY_SECRETS_FILE": str(stack.secrets_file)}
    python = str(stack.python)
    targets = [
        Target("app metrics on", work, stack, secrets, [python, "-m", "app"], {**app_env, "PIGGY_METRICS": "true"}),
        Target("app metrics off", work, stack, secrets, [python, "-m", "app"], {**app_env, "PIGGY_METRICS": "false"}),
        Target("flask baseline", work, stack, secrets, [python, "-m", "load.baseline", "flask", "{port}"], {}),
        Target("bare wsgi", work, stack, secrets, [python, "-m", "load.baseline", "wsgi", "{port}"], {}),
        Target("bare wsgi, no haproxy", work, stack, secrets, [python, "-m", "load.baseline", "wsgi", "{port}"], {},
               via_haproxy=False),
    ]
    hop_targets = [t for t in targets if t.name.startswith("bare wsgi")]  # also one connection: latency alone
    measured: dict[str, list[dict]] = {name: [] for name in
                                       ["stack GET /api/user", "stack transfer flow", *[t.name for t in targets],
                                        *[f"{t.name} (1 connection)" for t in hop_targets]]}
    rss: dict[str, int] = {}
    report = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "stack": str(stack.run),
              "settings": {"seconds": args.seconds, "rounds": args.rounds, "threads": args.threads,
                           "connections": args.connections, "tool": "wrk (keep-alive, TLS through nginx)"},
              "versions": versions(), "load_average_at_start": os.getloadavg()}
    stack_pids = {s.name: (lambda n=s.name: drill.current_pid(stack, n)) for s in stack.app_servers}

    def stack_cpu(of=stack):
        return {"app servers": [drill.current_pid(of, s.name) for s in of.app_servers],
                "nginx": [drill.current_pid(of, "nginx")], "haproxy": [drill.current_pid(of, "haproxy")],
                "mariadb": [drill.current_pid(of, node.name) for node in of.db_nodes]}

    def target_cpu(target):
        groups = {"app servers": target.backend_pids(), "nginx": [target.processes[-1].pid],
                  "haproxy": target.haproxy_pids()}
        if "app" in target.name:
            groups["mariadb"] = [drill.current_pid(stack, name) for name in databases]
        return lambda: groups
    single = SingleNodeStack(stack, args.connections) if stack.clustered else None
    if single:
        measured["single-node transfer flow"] = []
    try:
        if single:
            print("A throwaway single-node stack for the replication's cost (make up) ...", flush=True)
            single.start()
        for target in targets:
            target.start()
        token = tokens[0]
        print(f"Benchmark: {args.rounds} rounds x {args.seconds:g} s per target, wrk -t{args.threads} "
              f"-c{args.connections}; work files in {work}", flush=True)
        for target_port in [stack.ports["https"]] + [t.https for t in targets]:   # warm-up: pools, keep-alive
            wrk(target_port, "/api/user", 2, args.threads, args.connections, user_lua, token)
        for round_number in range(1, args.rounds + 1):
            with RssSampler(lambda: {n: f() for n, f in stack_pids.items()}) as sampler:
                result = wrk(stack.ports["https"], "/api/user", args.seconds, args.threads, args.connections,
                             user_lua, token, stack_cpu)
                measured["stack GET /api/user"].append(result)
                print(f"  round {round_number}: stack GET /api/user      {result['rps']:8.1f} req/s  "
                      f"p99 {result['p99_ms']:6.1f} ms  errors {result['errors']}  load {result['load_before']}",
                      flush=True)
                result = wrk(stack.ports["https"], "/api/transfers", args.seconds, args.connections,
                             args.connections, transfer_lua, cpu_groups=stack_cpu)
                measured["stack transfer flow"].append(result)
                print(f"  round {round_number}: stack transfer flow      {result['rps']:8.1f} req/s  "
                      f"({result['transfers_per_s']} transfers/s, {result['bad']} not booked)  "
                      f"p99 {result['p99_ms']:6.1f} ms", flush=True)
            if single:
                result = wrk(single.stack.ports["https"], "/api/transfers", args.seconds, args.connections,
                             args.connections, single.transfer_lua, cpu_groups=lambda: stack_cpu(single.stack))
                measured["single-node transfer flow"].append(result)
                print(f"  round {round_number}: single-node transfers  {result['rps']:8.1f} req/s  "
                      f"({result['transfers_per_s']} transfers/s, {result['bad']} not booked)  "
                      f"p99 {result['p99_ms']:6.1f} ms", flush=True)
            for name, peak in sampler.peak.items():
                rss[name] = max(rss.get(name, 0), peak)
            for target in round_order(targets):
                with RssSampler(lambda t=target: {f"{t.name} {i}": pid
                                                  for i, pid in enumerate(t.backend_pids(), 1)}) as sampler:
                    result = wrk(target.https, "/api/user", args.seconds, args.threads, args.connections,
                                 user_lua, token, target_cpu(target))
                result["rss_mb"] = round(max(sampler.peak.values(), default=0) / 2**20, 1)
                measured[target.name].append(result)
                print(f"  round {round_number}: {target.name:<24} {result['rps']:8.1f} req/s  "
                      f"p99 {result['p99_ms']:6.1f} ms  errors {result['errors']}  load {result['load_before']}",
                      flush=True)
            for target in hop_targets:
                result = wrk(target.https, "/api/user", args.seconds, 1, 1, user_lua, token, target_cpu(target))
                measured[f"{target.name} (1 connection)"].append(result)
                print(f"  round {round_number}: {target.name + ', 1 connection':<24} p50 {result['p50_ms']:6.2f} ms  "
                      f"p99 {result['p99_ms']:6.2f} ms", flush=True)
    finally:
        for target in targets:
            target.stop()
        if single:
            single.stop()
        shutil.rmtree(work, ignore_errors=True)

    summary = {name: {key: median_of(runs, key) for key in
                      ("rps", "p50_ms", "p95_ms", "p99_ms", "max_ms", "errors", "transfers_per_s", "bad", "rss_mb")}
               | {"rps_min": min(r["rps"] for r in runs), "rps_max": max(r["rps"] for r in runs),
                  "cpu_ms_per_request": {g: round(statistics.median(r["cpu_ms_per_request"][g] for r in runs), 3)
                                         for g in runs[0]["cpu_ms_per_request"]}}
               for name, runs in measured.items()}
    user = summary["stack GET /api/user"]
    report.update({
        "runs": measured, "summary": summary,
        "ratio_to_flask": round(user["rps"] / summary["flask baseline"]["rps"], 3),
        "ratio_to_wsgi": round(user["rps"] / summary["bare wsgi"]["rps"], 3),
        "flask_to_wsgi": round(summary["flask baseline"]["rps"] / summary["bare wsgi"]["rps"], 3),
        **metrics_cost(measured["app metrics on"], measured["app metrics off"], args.rounds),
        "rss_mb_under_load": {name: round(value / 2**20, 1) for name, value in sorted(rss.items())},
        "haproxy_hop": haproxy_hop(summary),
        "db_nodes": len(stack.db_nodes),
    })
    if single:
        cluster_tps = summary["stack transfer flow"]["transfers_per_s"]
        single_tps = summary["single-node transfer flow"]["transfers_per_s"]
        report["replication_ratio"] = round(cluster_tps / single_tps, 3) if single_tps else None
        print(f"Synchronous replication: the cluster books {cluster_tps} transfers/s, a single node {single_tps} "
              f"in the same rounds: ratio {report['replication_ratio']}", flush=True)
    from load import ledger

    book = ledger.check(stack, {}, since=started)
    report["ledger"] = {key: book[key] for key in ("ok", "invariant_violations", "doubled_keys", "orphan_transfers",
                                                   "problems")}
    print(f"Ledger after the transfer flow: {'right' if book['ok'] else 'BROKEN'} {book['problems'][:3]}", flush=True)
    print("Database round trips per request (MariaDB's counters, net of the background) ...", flush=True)
    report["round_trips"] = measure_round_trips(stack, tokens[0], people[1].iban)
    for name, counted in report["round_trips"].items():
        print(f"  {name:<32} {counted['round_trips']:5.2f} round trips ({counted['statements']:.2f} statements, "
              f"{counted['pings']:.2f} pings)", flush=True)
    print("Restart drills (kill -9 until healthy) on the running stack ...", flush=True)
    report["restarts"] = restart_drills(stack, args.drills)
    if not args.skip_startup:
        print("Startup: `make up` of a throwaway stack (cold, then warm) ...", flush=True)
        report["startup"] = startup_times(int(stack.env.get("PIGGY_PORT_OFFSET", "0")))
    report["load_average_at_end"] = os.getloadavg()
    report["targets"] = evaluate(report)
    return report


def round_order(targets: list[Target]) -> list[Target]:
    """The targets in a round's order: the metrics pair as on, off, off, on (the rest once each)."""
    on, off, *rest = targets
    return [on, off, off, on, *rest]


def metrics_cost(on: list[dict], off: list[dict], rounds: int) -> dict:
    """The cost of the request metrics, paired within each round (on, off, off, on): from the app
    servers' CPU time per request (they are CPU-bound, so throughput goes with 1 / CPU per request;
    far less sensitive to what else runs than throughput) and from wrk's throughput, the median of the
    rounds and the rounds' range."""
    def per_round(value) -> list[float]:
        return [1 - sum(value(r) for r in off[2 * i:2 * i + 2]) / sum(value(r) for r in on[2 * i:2 * i + 2])
                for i in range(rounds)]

    cpu = per_round(lambda r: r["cpu_ms_per_request"]["app servers"])
    rps = per_round(lambda r: 1 / r["rps"])
    return {"metrics_cost_cpu": round(statistics.median(cpu), 3), "metrics_cost": round(statistics.median(rps), 3),
            "metrics_cost_cpu_rounds": [round(c, 3) for c in cpu], "metrics_cost_rounds": [round(c, 3) for c in rps]}


def haproxy_hop(summary: dict) -> dict:
    """What the nginx -> HAProxy hop costs a request: the same bare WSGI backend with and without it,
    on one connection (the latency it adds, nothing queued) and at the benchmark's concurrency, and
    HAProxy's own CPU time per request."""
    via, direct = summary["bare wsgi"], summary["bare wsgi, no haproxy"]
    via_1, direct_1 = summary["bare wsgi (1 connection)"], summary["bare wsgi, no haproxy (1 connection)"]
    return {"p50_ms_added": round(via_1["p50_ms"] - direct_1["p50_ms"], 3),
            "p99_ms_added": round(via_1["p99_ms"] - direct_1["p99_ms"], 3),
            "p50_ms_via": via_1["p50_ms"], "p50_ms_direct": direct_1["p50_ms"],
            "rps_via": via["rps"], "rps_direct": direct["rps"],
            "haproxy_cpu_ms_per_request": via["cpu_ms_per_request"].get("haproxy"),
            "stack_haproxy_cpu_ms_per_request": summary["stack GET /api/user"]["cpu_ms_per_request"].get("haproxy")}


def measure_round_trips(stack: Stack, token: str, recipient_iban: str) -> dict:
    """Round trips of GET /api/user and of each step of the transfer flow, through nginx."""
    from load import roundtrips

    base = f"https://127.0.0.1:{stack.ports['https']}"
    session = http()
    session.headers["Authorization"] = f"JWT {token}"

    def get_user(_i):
        session.get(f"{base}/api/user", timeout=15).raise_for_status()

    counted = {"GET /api/user": roundtrips.per_request(stack, get_user, 200)}
    for step, values in roundtrips.transfer_flow(stack, base, token, recipient_iban).items():
        counted[f"transfer flow: {step}"] = values
    return counted


def evaluate(report: dict) -> dict:
    user = report["summary"]["stack GET /api/user"]
    restarts = report["restarts"]
    app_kill = statistics.median(restarts["appserver1_s"])
    db_kill = statistics.median(restarts["mariadb_until_app_servers_healthy_s"])
    rss = max(report["rss_mb_under_load"].values(), default=0)
    flow = report["summary"]["stack transfer flow"]
    user_trips = report["round_trips"]["GET /api/user"]["round_trips"]
    return {
        "GET /api/user >= 50 % of the minimal Flask baseline": {
            "measured": f"{report['ratio_to_flask'] * 100:.1f} %", "met": report["ratio_to_flask"] >= 0.5},
        "metrics cost <= 5 % of throughput": {
            "measured": f"{report['metrics_cost_cpu'] * 100:.1f} % (from CPU per request; wrk directly: "
                        f"{report['metrics_cost'] * 100:.1f} %)", "met": report["metrics_cost_cpu"] <= 0.05},
        "p99 <= 50 ms at the benchmark's concurrency (GET /api/user)": {
            "measured": f"{user['p99_ms']:.1f} ms", "met": user["p99_ms"] <= 50},
        "each app server < 100 MB resident under load": {"measured": f"{rss:.1f} MB", "met": rss < 100},
        "an app server serves again within 3 s of kill -9": {
            "measured": f"{app_kill:.2f} s (median)", "met": app_kill <= 3},
        "the database within 10 s of kill -9 (app servers healthy again)": {
            "measured": f"{db_kill:.2f} s (median)", "met": db_kill <= 10},
        "GET /api/user: at most 2 database round trips": {
            "measured": f"{user_trips:.2f}", "met": round(user_trips, 1) <= TARGETS["user_round_trips"]},
        "transfer flow >= 2x the 95.9 transfers/s of 2026-11-28": {
            "measured": f"{flow['transfers_per_s']:.1f} transfers/s (all booked: {'yes' if not flow['bad'] else 'no'})",
            "met": flow["transfers_per_s"] >= TARGETS["transfers_per_s"] and not flow["bad"]},
        "the ledger is right after the benchmark's transfers": {
            "measured": "right" if report["ledger"]["ok"] else f"{len(report['ledger']['problems'])} problems",
            "met": report["ledger"]["ok"]},
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m load.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each measured wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds over all targets")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads for GET /api/user")
    parser.add_argument("--connections", type=int, default=8,
                        help="concurrent keep-alive connections (the transfer flow uses one thread per connection)")
    parser.add_argument("--drills", type=int, default=3, help="kill -9 drills per service")
    parser.add_argument("--skip-startup", action="store_true", help="don't time `make up` of a throwaway stack")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--docs", action="store_true", help="write docs/benchmarks.md and docs/img/bench.png")
    args = parser.parse_args(argv)
    report = run(args)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"bench-{datetime.now().strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(report, indent=2, default=str))
    from load.docs import bench_markdown, draw_bench, update_bench

    png = args.out / (path.stem + ".png")
    draw_bench(report, png)
    print("\n" + bench_markdown(report, png.name))
    print(f"Wrote {path} and {png}")
    if args.docs:
        update_bench(report, png)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
