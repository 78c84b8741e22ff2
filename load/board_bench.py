"""The board's benchmark (`make bench-board`): how long PiggyBank's board takes to draw the overview
dashboard with 6 hours of data in its range, what one refresh costs Prometheus, and how much
JavaScript the board loads.

It needs 6 h of history, which no fresh stack has, so it builds a Prometheus of its own: every
series the dashboards query is copied (names and labels) from the running stack's Prometheus
(`make up`; PIGGY_RUN_DIR / PIGGY_PORT_OFFSET pick another), then 6 h of samples at the scrape
interval are written as OpenMetrics and turned into TSDB blocks by `promtool tsdb
create-blocks-from openmetrics`. Counters grow steadily to the value they have now, gauges waver
around theirs. That Prometheus (no scrapes, no rules: its CPU is the board's queries alone) sits
behind an nginx rendered from nginx/nginx.conf.j2, which serves the built board (frontend/dist)
exactly as on the Grafana port, and Debian's Chromium opens it.

Results: load/results/board-bench-<time>.json and, with --docs, a section of docs/benchmarks.md.
"""

import argparse
import gzip
import json
import math
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import psutil

from stack import control, render, secrets, tls
from stack.settings import ROOT, Stack
from tests.observability import dashboards as dash

RESULTS = ROOT / "load" / "results"
CHROMIUM = os.environ.get("PIGGY_CHROMIUM", "/usr/bin/chromium")
HOURS = 6.0
OVERVIEW = "piggybank-overview"


def get_json(url: str, params: dict | None = None):
    with urllib.request.urlopen(url + ("?" + urllib.parse.urlencode(params, doseq=True) if params else ""),
                                timeout=30) as response:
        return json.load(response)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(ready, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} not ready within {timeout:.0f} s")
        time.sleep(0.1)


# --- 6 hours of history ------------------------------------------------------------------------------

def dashboard_metrics(prometheus: str) -> list[str]:
    """The metric names the dashboards' queries use: their identifiers that Prometheus knows."""
    known = set(get_json(f"{prometheus}/api/v1/label/__name__/values")["data"])
    words = set()
    for path in dash.DASHBOARDS:
        for _, target in dash.queries(dash.load(path)):
            words |= set(re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", target["expr"]))
    return sorted(words & known)


def ensure_requests(source: Stack, prometheus: str) -> None:
    """A few customer requests on each app server, so that the request metrics (which exist only
    once something was asked) and the SLO recording rules have series to copy."""
    from tests.api_client import ApiClient

    for server in source.app_servers:
        api = ApiClient(f"http://127.0.0.1:{server.port}")
        token = api.login_seed("max")
        for _ in range(3):
            api.get("/api/user", token)
    wait_until(lambda: get_json(f"{prometheus}/api/v1/query", {"query": "job:slo_errors_per_request:ratio_rate6h"})[
        "data"]["result"], 60, "the stack's Prometheus to have recorded the request metrics")


def snapshot(prometheus: str, names: list[str]) -> list[dict]:
    """Every series of those metrics now: labels and value."""
    query = "{__name__=~\"" + "|".join(re.escape(n) for n in names) + "\"}"
    return get_json(f"{prometheus}/api/v1/query", {"query": query})["data"]["result"]


def _labels(metric: dict) -> str:
    inner = ",".join(f'{k}="{v}"'.replace("\\", "\\\\").replace("\n", "\\n")
                     for k, v in sorted(metric.items()) if k != "__name__")
    return "{" + inner + "}" if inner else ""


def _monotonic(name: str) -> bool:
    return name.endswith(("_total", "_count", "_sum", "_bucket")) or name in (
        "mysql_global_status_queries", "mysql_global_status_slow_queries", "mysql_global_status_aborted_clients",
        "mysql_global_status_aborted_connects", "mysql_global_status_innodb_row_lock_waits")


def _value(name: str, now_value: float, t: float, start: float, end: float, i: int, n: int) -> float:
    """A sample of the made-up history: counters grow to their value now, gauges waver around it."""
    if _monotonic(name):
        return now_value * (t - start) / (end - start)
    if name in ("piggybank_process_uptime_seconds", "mysql_global_status_uptime"):
        return t - start + 60
    if name == "process_start_time_seconds":
        return start - 60
    if name in ("up", "mysql_up", "probe_success", "piggybank_health_status", "mysql_global_variables_max_connections",
                "mysql_global_variables_innodb_buffer_pool_size", "piggybank_db_pool_size"):
        return now_value
    return now_value * (1 + 0.2 * math.sin(i / 97 + n))


def write_history(series: list[dict], path: Path, start: float, end: float, interval: float) -> int:
    """The history of every series as OpenMetrics: one family per metric, each series in time order;
    histograms (…_bucket, …_count) as OpenMetrics histograms, every point's buckets together."""
    steps = int((end - start) // interval)
    times = [start + i * interval for i in range(steps + 1)]
    histograms: dict[str, dict[str, list[dict]]] = {}
    plain: dict[str, list[dict]] = {}
    for s in series:
        name = s["metric"]["__name__"]
        base = re.sub(r"_(bucket|count|sum)$", "", name)
        if name.endswith(("_bucket", "_count")) and any(
                x["metric"]["__name__"] == f"{base}_bucket" for x in series):
            key = _labels({k: v for k, v in s["metric"].items() if k != "le"})
            histograms.setdefault(base, {}).setdefault(key, []).append(s)
        else:
            plain.setdefault(name, []).append(s)

    def now(s: dict) -> float:
        v = float(s["value"][1])
        return 0.0 if math.isnan(v) or math.isinf(v) else v

    samples = 0
    with path.open("w") as out:
        for name in sorted(plain):
            family = name[:-len("_total")] if name.endswith("_total") else name
            out.write(f"# TYPE {family} {'counter' if family != name else 'unknown'}\n")
            for n, s in enumerate(plain[name]):
                labels, value = _labels(s["metric"]), now(s)
                out.writelines(f"{name}{labels} {_value(name, value, t, start, end, i, n):.6g} {t:.3f}\n"
                               for i, t in enumerate(times))
                samples += len(times)
        for base in sorted(histograms):
            out.write(f"# TYPE {base} histogram\n")
            for members in histograms[base].values():
                buckets = sorted((s for s in members if s["metric"]["__name__"].endswith("_bucket")),
                                 key=lambda s: float(s["metric"]["le"]))
                counts = [s for s in members if s["metric"]["__name__"].endswith("_count")]
                count = counts[0] if counts else buckets[-1]
                for t in times:
                    share = (t - start) / (end - start)
                    for b in buckets:
                        out.write(f"{base}_bucket{_labels(b['metric'])} {now(b) * share:.6g} {t:.3f}\n")
                    out.write(f"{base}_count{_labels({k: v for k, v in count['metric'].items() if k != 'le'})} "
                              f"{now(count) * share:.6g} {t:.3f}\n")
                samples += len(times) * (len(buckets) + 1)
        out.write("# EOF\n")
    return samples


class ThrowawayPrometheus:
    def __init__(self, workdir: Path):
        self.dir = workdir / "prometheus"
        self.data = self.dir / "data"
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def build(self, openmetrics: Path) -> float:
        self.data.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", "-q", str(openmetrics),
                        str(self.data)], check=True, capture_output=True, text=True)
        return time.monotonic() - started

    def start(self) -> None:
        config = self.dir / "prometheus.yml"
        config.write_text("global:\n  scrape_interval: 1h\n  evaluation_interval: 1h\n")
        log = (self.dir / "prometheus.log").open("ab")
        self.process = subprocess.Popen(["prometheus", f"--config.file={config}", f"--storage.tsdb.path={self.data}",
                                         f"--web.listen-address=127.0.0.1:{self.port}",
                                         "--storage.tsdb.retention.time=30d"],
                                        stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        wait_until(lambda: control.http_ok(f"http://127.0.0.1:{self.port}/-/ready"), 120, "the throwaway Prometheus")

    def cpu_seconds(self) -> float:
        times = psutil.Process(self.process.pid).cpu_times()
        return times.user + times.system

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


class BoardEdge:
    """nginx from the stack's template, serving the built board on a free port, in front of `prometheus`."""

    def __init__(self, workdir: Path, prometheus_port: int):
        ports = {**Stack.from_env({}).ports, "grafana": free_port(), "https": free_port(),
                 "prometheus": prometheus_port}
        self.stack = Stack(run=workdir / "run", ports=ports, env={"PIGGY_GRAFANA": "off"})
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.stack.ports['grafana']}"

    def start(self) -> None:
        s = self.stack
        for directory in (s.conf, s.logs / "nginx", s.pids, s.run / "nginx"):
            directory.mkdir(parents=True, exist_ok=True)
        tls.ensure_certificate(s.tls)
        control._prepare_www(s)
        render.render_native(s, secrets.ensure(s.secrets_file, {}))
        self.process = subprocess.Popen(["nginx", "-p", str(s.run / "nginx"), "-c", str(s.conf / "nginx.conf")],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: control.http_ok(self.url + "/board.json"), 20, "the board's nginx")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            self.process.wait(timeout=20)


# --- the measurements --------------------------------------------------------------------------------

def javascript_size() -> dict:
    """The JavaScript board.html loads (its module and the chunks it preloads), raw and gzipped."""
    dist = ROOT / "frontend" / "dist"
    html = (dist / "board.html").read_text()
    files = re.findall(r'(?:src|href)="/(assets/[^"]+\.js)"', html)
    raw = sum((dist / f).stat().st_size for f in files)
    zipped = sum(len(gzip.compress((dist / f).read_bytes(), compresslevel=9)) for f in files)
    css = re.findall(r'href="/(assets/[^"]+\.css)"', html)
    return {"files": files, "raw_kb": round(raw / 1024, 1), "gzip_kb": round(zipped / 1024, 1),
            "css_gzip_kb": round(sum(len(gzip.compress((dist / f).read_bytes(), 9)) for f in css) / 1024, 1)}


def measure(board_url: str, prometheus: ThrowawayPrometheus, loads: int, refreshes: int) -> dict:
    from playwright.sync_api import sync_playwright

    url = f"{board_url}/d/{OVERVIEW}?from=now-{HOURS:g}h&to=now&refresh="
    drawn_ms, panel_states = [], {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        try:
            for _ in range(loads):  # a fresh page each time: the browser's cache is warm, the board's state is not
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.goto(url)
                page.wait_for_selector("[data-testid=board][data-drawn-tick='0']", timeout=120_000)
                drawn_ms.append(page.evaluate("performance.getEntriesByName('board-drawn')[0].startTime"))
                panel_states = page.eval_on_selector_all("[data-testid=panel]",
                                                         "els => els.map(e => [e.dataset.title, e.dataset.state])")
                page.close()
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(url)
            page.wait_for_selector("[data-testid=board][data-drawn-tick='0']", timeout=120_000)
            requests = []
            page.on("request", lambda r: "/api/v1/" in r.url and requests.append(r.url))
            cpu_before, wall = prometheus.cpu_seconds(), []
            for i in range(1, refreshes + 1):
                started = time.monotonic()
                page.get_by_role("button", name="Refresh now").click()
                page.wait_for_function(
                    "t => Number(document.querySelector('[data-testid=board]').dataset.drawnTick) >= t",
                    arg=i, timeout=120_000)
                wall.append((time.monotonic() - started) * 1000)
            cpu = prometheus.cpu_seconds() - cpu_before
            page.screenshot(path=str(RESULTS / "board-bench-6h.png"), full_page=True)
            # What the board asks for a 24 h range: points per series of its range queries.
            asked = []
            day = browser.new_page(viewport={"width": 1400, "height": 900})
            day.on("request", lambda r: "/api/v1/query_range" in r.url and asked.append(
                {k: float(v[0]) for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(r.url).query).items()
                 if k in ("start", "end", "step")}))
            day.goto(f"{board_url}/d/{OVERVIEW}?from=now-24h&to=now&refresh=")
            day.wait_for_selector("[data-testid=board][data-drawn-tick='0']", timeout=120_000)
            points_24h = max(int((q["end"] - q["start"]) // q["step"]) + 1 for q in asked)
        finally:
            browser.close()
    return {
        "drawn_ms": [round(x) for x in drawn_ms], "drawn_ms_median": round(statistics.median(drawn_ms)),
        "refresh_wall_ms_median": round(statistics.median(wall)),
        "prometheus_cpu_ms_per_refresh": round(cpu / refreshes * 1000, 1),
        "requests_per_refresh": round(len(requests) / refreshes, 1),
        "points_per_series_24h": points_24h, "panels": len(panel_states),
        "panels_not_ready": [t for t, s in panel_states if s != "ready"],
    }


def run(args) -> dict:
    source = Stack.from_env()
    prometheus_url = f"http://127.0.0.1:{source.ports['prometheus']}"
    if not control.http_ok(f"{prometheus_url}/-/ready"):
        raise SystemExit(f"no Prometheus at {prometheus_url}: start the stack first (make up)")
    if not (ROOT / "frontend" / "dist" / "board.html").exists():
        raise SystemExit("frontend/dist has no board.html: `make install` builds it")
    RESULTS.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="piggybank-board-bench-"))
    prometheus = ThrowawayPrometheus(workdir)
    edge = None
    load_start = os.getloadavg()
    try:
        ensure_requests(source, prometheus_url)
        names = dashboard_metrics(prometheus_url)
        series = snapshot(prometheus_url, names)
        end = time.time() - 60
        start = end - HOURS * 3600
        print(f"board bench: {len(series)} series of {len(names)} metrics, {HOURS:g} h at {args.interval:g} s",
              flush=True)
        started = time.monotonic()
        samples = write_history(series, workdir / "history.om", start, end, args.interval)
        written = time.monotonic() - started
        print(f"  wrote {samples:,} samples in {written:.0f} s; promtool tsdb create-blocks-from openmetrics ...",
              flush=True)
        built = prometheus.build(workdir / "history.om")
        (workdir / "history.om").unlink()
        prometheus.start()
        edge = BoardEdge(workdir, prometheus.port)
        edge.start()
        print(f"  blocks in {built:.0f} s; the board at {edge.url}, measuring ...", flush=True)
        measured = measure(edge.url, prometheus, args.loads, args.refreshes)
    finally:
        if edge:
            edge.stop()
        prometheus.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"), "hours": HOURS, "interval_s": args.interval,
        "series": len(series), "metrics": len(names), "samples": samples, "blocks_s": round(built, 1),
        "cores": os.cpu_count(), "load_average_at_start": load_start, "load_average_at_end": os.getloadavg(),
        "loads": args.loads, "refreshes": args.refreshes, **measured, "javascript": javascript_size(),
    }


def markdown(r: dict) -> str:
    js = r["javascript"]
    lines = [
        "## The board (`make bench-board`)",
        "",
        f"Measured {r['when']} on {r['cores']} cores; load average {r['load_average_at_start'][0]:.1f} at the start, "
        f"{r['load_average_at_end'][0]:.1f} at the end. A Prometheus of the benchmark's own holds {r['hours']:g} h "
        f"of every series the dashboards query ({r['series']} series of {r['metrics']} metrics, copied from the "
        f"running stack, a sample every {r['interval_s']:g} s: {r['samples']:,} samples, turned into TSDB blocks "
        f"by promtool in {r['blocks_s']:.0f} s); nginx from the stack's template serves the built board in front "
        f"of it; Debian's Chromium, 1400×900, opens the overview with the last {r['hours']:g} h.",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| overview fully drawn ({r['panels']} panels, first answer of every panel drawn), median of "
        f"{r['loads']} page loads | **{r['drawn_ms_median'] / 1000:.2f} s** "
        f"({', '.join(f'{x / 1000:.2f}' for x in r['drawn_ms'])}) |",
        f"| one refresh (Refresh now until every panel has redrawn), median of {r['refreshes']} | "
        f"{r['refresh_wall_ms_median'] / 1000:.2f} s |",
        f"| Prometheus CPU time per refresh ({r['requests_per_refresh']:g} queries) | "
        f"**{r['prometheus_cpu_ms_per_refresh']:.0f} ms** |",
        f"| points per series the board asks for with a 24 h range (nginx serves at most 500) | "
        f"{r['points_per_series_24h']} |",
        f"| the board's JavaScript ({len(js['files'])} files: its module and the React chunk it shares with the "
        f"bank's app) | **{js['gzip_kb']:.0f} kB gzip** ({js['raw_kb']:.0f} kB raw); "
        f"CSS {js['css_gzip_kb']:.1f} kB gzip |",
    ]
    if r["panels_not_ready"]:
        lines.append(f"\nPanels without data in the run: {', '.join(r['panels_not_ready'])}.")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between samples (the scrape interval)")
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--refreshes", type=int, default=10)
    parser.add_argument("--docs", action="store_true", help="write the figures into docs/benchmarks.md")
    args = parser.parse_args(argv)
    report = run(args)
    out = RESULTS / f"board-bench-{report['when'].replace(':', '')}.json"
    out.write_text(json.dumps(report, indent=2))
    print(markdown(report))
    print(f"\n{out}")
    if args.docs:
        from load import docs

        docs.update_board(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
