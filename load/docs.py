"""Write the latest benchmark and failover figures into docs/benchmarks.md (each tool owns one
marked section and leaves the rest of the file alone) and their pictures into docs/img/."""

import shutil
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FixedLocator, FormatStrFormatter, NullFormatter  # noqa: E402

from stack.settings import ROOT  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"
IMG = ROOT / "docs" / "img"
HEADER = """# Benchmarks and the failover drill

The figures below are written by the tools themselves, each into its own section:
`make bench` (load/bench.py), `make failover` (load/failover.py) and `make fuzz DOCS=1`
(load/fuzz.py), all against the stack of `make up`. Re-run them to refresh this page.

These machines have 2 cores shared by everything: the load generator, nginx, both app servers,
MariaDB, Prometheus and, while they work, other engineers' test stacks. Absolute numbers are
therefore noisy; the load average is recorded with every run, and ratios measured side by side in
one run (the app against its baselines, metrics on against off) are more stable than the absolute
throughput.
"""

BENCH_ORDER = ["bare wsgi, no haproxy", "bare wsgi", "flask baseline", "app metrics off", "app metrics on",
               "stack GET /api/user", "stack transfer flow", "single-node transfer flow"]
COLOURS = {"bare wsgi, no haproxy": "#c4c7cb", "bare wsgi": "#9aa0a6", "flask baseline": "#7c8ea6",
           "app metrics off": "#6aa6d8", "app metrics on": "#3b6fd1", "stack GET /api/user": "#2e9d5b",
           "stack transfer flow": "#f0a020", "single-node transfer flow": "#c77c00"}


def _update(section: str, body: str) -> None:
    begin, end = f"<!-- {section}:begin -->", f"<!-- {section}:end -->"
    text = DOC.read_text() if DOC.exists() else HEADER
    block = f"{begin}\n{body.rstrip()}\n{end}"
    if begin in text and end in text:
        text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text)


def _where(alert: dict) -> str:
    """What an alert is about: the app server, else the instance, else the job."""
    labels = alert["labels"]
    return labels.get("appserver") or labels.get("instance") or labels.get("job", "")


def _percents(values: list[float] | None) -> str:
    return "rounds: " + ", ".join(f"{v * 100:.1f} %" for v in values) if values else "rounds not recorded"


def _fmt(value, digits=1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


# --- benchmark ---------------------------------------------------------------------------------------

def draw_bench(report: dict, path: Path) -> None:
    summary = report["summary"]
    names = [n for n in BENCH_ORDER if n in summary]
    plt.rcParams.update({"font.size": 9, "axes.spines.top": False, "axes.spines.right": False})
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2), gridspec_kw={"width_ratios": [1.25, 1]})
    y = list(range(len(names)))[::-1]
    rps = [summary[n]["rps"] for n in names]
    errors = [[summary[n]["rps"] - summary[n]["rps_min"] for n in names],
              [summary[n]["rps_max"] - summary[n]["rps"] for n in names]]
    left.barh(y, rps, xerr=errors, color=[COLOURS[n] for n in names], capsize=3, ecolor="#555555")
    flask = summary.get("flask baseline", {}).get("rps")
    for yy, n, value in zip(y, names, rps, strict=True):
        extra = f" ({summary[n]['transfers_per_s']:.0f} transfers/s)" if summary[n].get("transfers_per_s") else ""
        if flask and n.startswith(("app", "stack GET")):
            extra += f" = {value / flask * 100:.1f} % of Flask"
        left.text(summary[n]["rps_max"], yy, f"  {value:,.0f} req/s{extra}", va="center", fontsize=8.5)
    left.set_yticks(y, names)
    left.set_xlim(0, max(rps) * 1.45)
    left.set_xlabel("requests per second (median of rounds; bars: min–max)")
    left.set_title(f"Throughput through nginx (TLS), wrk -c{report['settings']['connections']}",
                   loc="left", fontweight="bold")
    height = 0.26
    for offset, (key, colour) in enumerate((("p50_ms", "#3b6fd1"), ("p95_ms", "#f0a020"), ("p99_ms", "#d64545"))):
        right.barh([yy + (1 - offset) * height for yy in y], [summary[n][key] for n in names], height=height,
                   color=colour, label=key.replace("_ms", ""))
    right.axvline(50, color="#d64545", linestyle="--", linewidth=0.9)
    right.text(50, min(y) - 0.55, " p99 target 50 ms", color="#d64545", fontsize=8, va="center")
    right.set_yticks(y, [""] * len(names))
    right.set_xscale("log")
    # Round numbers as the major ticks and no labels on the minor ones (matplotlib's own labels of
    # the minor ticks, "2x10^0 3x10^0 ...", ran into each other).
    right.xaxis.set_major_locator(FixedLocator([1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]))
    right.xaxis.set_major_formatter(FormatStrFormatter("%g"))
    right.xaxis.set_minor_formatter(NullFormatter())
    right.set_xlabel("latency, ms (log scale)")
    right.set_title("Latency", loc="left", fontweight="bold")
    right.legend(frameon=False, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=3, borderaxespad=0.2)
    fig.suptitle(f"PiggyBank benchmark, {report['when'][:10]}: {report['versions']['cores']} cores "
                 f"({report['versions']['cpu']}), load average at start {report['load_average_at_start'][0]:.1f}",
                 x=0.01, ha="left", fontsize=10.5, fontweight="bold")
    fig.tight_layout(rect=(0, 0, 1, 0.94))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def bench_markdown(report: dict, image: str) -> str:
    v, s, summary = report["versions"], report["settings"], report["summary"]
    lines = [
        "## Benchmark (`make bench`)" + ("" if report.get("db_nodes", 1) == 1 else f": {topology(report)}"),
        "",
        f"Measured {report['when']} on {v['cores']} cores ({v['cpu']}), {v['memory_gb']} GB, Linux {v['kernel']}; "
        f"load average {report['load_average_at_start'][0]:.1f} at the start, {report['load_average_at_end'][0]:.1f} "
        "at the end.",
        f"Python {v['python']}, Flask {v['flask']}, Werkzeug {v['werkzeug']}, gevent {v['gevent']}, SQLAlchemy "
        f"{v['sqlalchemy']}, prometheus-flask-exporter {v['prometheus_flask_exporter']}; {v['nginx']}; "
        f"{v['mariadb']}; {v['wrk'].split(' [')[0]}.",
        f"Tool: {s['tool']}, {s['threads']} threads and {s['connections']} connections for GET /api/user "
        f"({s['connections']} threads with one connection each for the transfer flow), {s['seconds']:g} s per run, "
        f"{s['rounds']} interleaved rounds, medians (min–max).",
        "",
        "| target | req/s | p50 ms | p95 ms | p99 ms | max ms | errors | backend RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in BENCH_ORDER:
        if name not in summary:
            continue
        r = summary[name]
        label = name + (f" ({r['transfers_per_s']:.1f} transfers/s)" if r.get("transfers_per_s") else "")
        lines.append(f"| {label} | {r['rps']:,.0f} ({r['rps_min']:,.0f}–{r['rps_max']:,.0f}) | {_fmt(r['p50_ms'])} "
                     f"| {_fmt(r['p95_ms'])} | {_fmt(r['p99_ms'])} | {_fmt(r['max_ms'], 0)} | {r['errors']:.0f} "
                     f"| {_fmt(r.get('rss_mb'))} |")
    groups = ["app servers", "nginx", "haproxy", "mariadb", "wrk"]
    lines += ["", "CPU time per request, by process (median of rounds; ms): where the time goes.", "",
              "| target | " + " | ".join(groups) + " | total |", "|---|" + "---:|" * (len(groups) + 1)]
    for name in BENCH_ORDER:
        if name not in summary:
            continue
        cpu = summary[name].get("cpu_ms_per_request", {})
        lines.append(f"| {name} | " + " | ".join(_fmt(cpu.get(g), 3) if g in cpu else "–" for g in groups)
                     + f" | {_fmt(sum(cpu.values()), 3)} |")
    if report.get("replication_ratio"):
        flow, single = summary["stack transfer flow"], summary["single-node transfer flow"]
        lines += ["", f"**The cost of synchronous replication**: the cluster booked {flow['transfers_per_s']:.1f} "
                  f"transfers/s, a throwaway single-node stack {single['transfers_per_s']:.1f} in the same interleaved "
                  f"rounds (same machine, same wrk settings): ratio **{report['replication_ratio']:.2f}** "
                  f"(p99 {_fmt(flow['p99_ms'])} ms against {_fmt(single['p99_ms'])} ms). Every commit waits for the "
                  "write set to reach the other two nodes and be certified; reads are served by the writer alone."]
    trips = report.get("round_trips") or {}
    if trips:
        lines += ["", "Database round trips per request, counted by MariaDB (`Questions` + pings, before and after, "
                  "net of the background: exporter, healthchecks, notification pollers; load/roundtrips.py), requests "
                  "sent one after another through nginx:", "",
                  "| request | round trips | statements | pings | SELECT | INSERT | UPDATE | COMMIT | ROLLBACK | "
                  "new connections |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for name, c in trips.items():
            lines.append(f"| {name} | **{c['round_trips']:.2f}** | {c['statements']:.2f} | {c['pings']:.2f} "
                         f"| {c['com_select']:.2f} | {c['com_insert']:.2f} | {c['com_update']:.2f} "
                         f"| {c['com_commit']:.2f} | {c['com_rollback']:.2f} | {c['connections']:.2f} |")
    startup = report.get("startup") or {}
    restarts = report["restarts"]
    hop = report["haproxy_hop"]
    lines += [
        "",
        "The app rows run two app servers of their own (python -m app) behind an nginx and a HAProxy rendered "
        "from the same templates, on the stack's database; the baselines are load/baseline.py, served the same "
        "way (gevent WSGIServer, TCP_NODELAY), behind the same nginx and HAProxy configs (\"no haproxy\": nginx "
        "straight to one backend). Every target answers the same GET /api/user request with a body of the same "
        "shape.",
        "",
        f"- GET /api/user through nginx: **{report['ratio_to_flask'] * 100:.1f} %** (ratio "
        f"{report['ratio_to_flask']:.3f}) of the minimal Flask "
        f"baseline, **{report['ratio_to_wsgi'] * 100:.0f} %** of the bare WSGI callable (the Flask baseline "
        f"itself reaches {report['flask_to_wsgi'] * 100:.0f} % of the bare callable).",
        f"- Transfer flow (create, the demo phone, confirm): **{summary['stack transfer flow']['transfers_per_s']:.1f} "
        f"transfers/s**, {summary['stack transfer flow']['transfers_per_s'] / 95.9:.1f}x the 95.9 of 2026-11-28 "
        f"(issue 12's baseline); ledger after the run: "
        f"{'right' if report.get('ledger', {}).get('ok') else 'see the targets below'}.",
        f"- Cost of observability (request metrics on vs off): **{report['metrics_cost_cpu'] * 100:.1f} %** "
        "of throughput, from the app servers' CPU time per request (they are CPU-bound, so throughput goes with "
        "1/CPU per request), the median of the rounds, each paired as on, off, off, on "
        f"({_percents(report.get('metrics_cost_cpu_rounds'))}); wrk's throughput in the same runs says "
        f"{report['metrics_cost'] * 100:.1f} % ({_percents(report.get('metrics_cost_rounds'))}).",
        "- The nginx → HAProxy hop, the bare WSGI backend with it and without it: on one connection p50 "
        f"{hop['p50_ms_via']:.2f} against {hop['p50_ms_direct']:.2f} ms (**{hop['p50_ms_added']:+.2f} ms** per "
        f"request; p99 {hop['p99_ms_added']:+.2f} ms); HAProxy's own CPU time "
        f"**{_fmt(hop['haproxy_cpu_ms_per_request'], 3)} ms** per request "
        f"({_fmt(hop['stack_haproxy_cpu_ms_per_request'], 3)} ms on the stack's GET /api/user). At the benchmark's "
        f"concurrency {hop['rps_via']:,.0f} against {hop['rps_direct']:,.0f} req/s: with nothing to do per request, "
        "the bare backend's throughput is bounded by the proxies' CPU on the shared cores, which the extra hop "
        "adds to; for the bank's GET /api/user "
        f"({sum(summary['stack GET /api/user'].get('cpu_ms_per_request', {}).values()):.2f} ms of CPU in all "
        "processes) HAProxy's share is in the table above.",
        "- Resident memory of the stack's app servers under load (peak): " + ", ".join(
            f"{k} {mb:.0f} MB" for k, mb in report["rss_mb_under_load"].items()) + ".",
        "- kill -9 until healthy again (stack/drill.py, idle stack): appserver1 " + ", ".join(
            f"{x:.2f}" for x in restarts["appserver1_s"]) + " s; mariadb " + ", ".join(
            f"{x:.2f}" for x in restarts["mariadb_s"]) + " s until it answers, " + ", ".join(
            f"{x:.2f}" for x in restarts["mariadb_until_app_servers_healthy_s"]) + " s until every app server is "
        "healthy through it.",
    ]
    if startup:
        lines.append(f"- `make up` until everything is healthy (a throwaway stack on free ports): cold "
                     f"{startup['cold_s']:.1f} s (new data directory, schema and seed), warm {startup['warm_s']:.1f} s "
                     f"(launcher's own figure: {_fmt(startup.get('cold_reported_s'))} s / "
                     f"{_fmt(startup.get('warm_reported_s'))} s; the rest is `make`'s install check).")
    lines += ["", "| target (issues 6 and 12) | measured | met |", "|---|---:|:---:|"]
    for name, target in report["targets"].items():
        lines.append(f"| {name} | {target['measured']} | {'yes' if target['met'] else '**no**'} |")
    lines += ["", f"![Benchmark]({image})"]
    return "\n".join(lines)


def update_bench(report: dict, png: Path) -> None:
    """Each topology has its own section and picture (`make bench` with PIGGY_DB_NODES=3: -cluster)."""
    suffix = "" if report.get("db_nodes", 1) == 1 else "-cluster"
    IMG.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(png, IMG / f"bench{suffix}.png")
    _update(f"bench{suffix}", bench_markdown(report, f"img/bench{suffix}.png"))


# --- failover ----------------------------------------------------------------------------------------

def topology(report: dict) -> str:
    nodes = report.get("db_nodes", 1)
    return "single MariaDB" if nodes == 1 else f"Galera cluster of {nodes} nodes (`PIGGY_DB_NODES={nodes}`)"


def failover_markdown(report: dict, image: str) -> str:
    load = report.get("load_average")
    lines = [
        f"## Failover drill (`make failover`): {topology(report)}",
        "",
        f"Run {report['when']} against {report['host']}: {report['users']} simulated users (Locust journeys), "
        f"{report['duration_s']:.0f} s, {report['cores']} cores"
        + (f", load average {load[0]:.1f} at the end" if load else "") + ", "
        f"{'quick' if report['quick'] else 'full'} schedule; the app servers retry a use case for "
        f"{report.get('db_retry_budget_s', '?')} s while the database is unavailable, with a "
        f"{report.get('db_read_timeout_s', '?')} s read timeout. Requests are final answers after the client's own "
        "retries; latency is what the user waited (sign-ins excluded; \"max all\" includes them). \"gap\" is the "
        "longest time in which no request got an answer (for a SIGSTOP: during the hang). \"out\"/\"back\" are "
        "the seconds until HAProxy took the app server out of rotation and put it back (its log). \"new pid\" is "
        "when Monit had started a new process, \"healthy\" when its healthcheck answered 200 (for the database: "
        "when every app server did); \"prom 0/1\" when Prometheus showed up == 0 and 1 again (\"–\": the outage "
        "was shorter than a scrape); \"writes back\" when the first booking asked for after the fault succeeded; "
        "\"ledger\" the books checked right after the phase (every confirmed transfer booked once, money "
        "conserved, balances equal to their ledger rows); \"resent\": requests HAProxy resent to another app server.",
        "",
        "| phase | requests | failed | client retries | p50 ms | p95 ms | p99 ms | max ms | max all ms | gap s "
        "| out s | back s | new pid s | healthy s | prom 0 s | prom 1 s | writes back s | ledger | resent |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|---:|",
    ]
    for r in report["phases"]:
        healthy = r.get("app_servers_healthy_s", r.get("healthy_s"))
        lines.append(
            f"| {r['phase']} | {r['requests']} | {r['failures']} | {r['client_retries']} | {_fmt(r['p50_ms'])} "
            f"| {_fmt(r['p95_ms'])} | {_fmt(r['p99_ms'], 0)} | {_fmt(r['max_ms'], 0)} | {_fmt(r.get('max_ms_all'), 0)} "
            f"| {_fmt(r.get('longest_gap_s'), 2)} | {_fmt(r.get('haproxy_out_s'), 2)} "
            f"| {_fmt(r.get('haproxy_back_s'))} "
            f"| {_fmt(r.get('restarted_s'))} | {_fmt(healthy)} | {_fmt(r.get('prometheus_down_s'))} "
            f"| {_fmt(r.get('prometheus_up_s'))} | {_fmt(r.get('writes_back_s'), 2)} "
            f"| {'–' if 'ledger_ok' not in r else 'right' if r['ledger_ok'] else '**broken**'} "
            f"| {r.get('haproxy_resent', 0)} |")
    totals, book = report["totals"], report["ledger"]
    lines += [
        "",
        f"Total: {totals['requests']:,} requests, **{totals['failures']} failed**, {totals['client_retries']} "
        f"retried by the client. Outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(totals["outcomes"].items()))
        + ".",
    ]
    for r in report["phases"]:
        if r.get("retried_statuses"):
            lines.append(f"- {r['phase']}: the client retried " + ", ".join(
                f"{n}× {reason}" for reason, n in r.get("retried_reasons", r["retried_statuses"]).items())
                         + (f"; the slowest 503 came after {r['slowest_503_ms']:.0f} ms" if r.get("slowest_503_ms")
                            else "") + ".")
    for r in report["phases"]:
        for server, times in r.get("rotation", {}).items():
            lines.append(f"- {r['phase']}: HAProxy took {server} out of rotation after {_fmt(times['out_s'], 2)} s "
                         f"and put it back after {_fmt(times['back_s'])} s; it resent {r['haproxy_resent']} requests "
                         f"to another app server ({r['haproxy_redispatched']} redispatched), cut "
                         f"{r.get('websockets_cut', 0)} WebSockets (their clients reconnect); the longest time "
                         f"without any answer was {_fmt(r.get('longest_gap_s'), 2)} s.")
    for r in report["phases"]:
        if "outage_requests" in r:
            lines.append(f"- While the database was down: {r['outage_requests']} requests, {r['outage_503s']} answered "
                         f"503 database_unavailable (slowest {r['outage_slowest_503_ms']:.0f} ms), "
                         f"{r.get('outage_server_busy', 0)} 503 server_busy, the slowest answer "
                         f"of any kind took {r['outage_slowest_ms']:.0f} ms; the client retried them with the same "
                         "Idempotency-Key. App servers HAProxy took out of rotation meanwhile: "
                         + (", ".join(r.get("taken_out_during_outage", [])) or "none") + ".")
    if report.get("bad_input"):
        b = report["bad_input"]
        lines.append(f"- Bad input: {b['sent']} requests, answered {b['statuses']}; not a 4xx: {b['problem_count']}.")
    lines.append(f"- Ledger: {'right' if book['ok'] else '**broken**'}: {book['invariant_violations']} invariant "
                 f"violations, {book['doubled_keys']} keys booked twice, {book['orphan_transfers']} transfers without "
                 f"their key, {book['transfers_confirmed_seen']} transfers confirmed to clients, all booked"
                 + ("" if book["ok"] else f"; problems: {book['problems'][:3]}") + ".")
    alerts = report["alerts"]
    lines.append("- Alerts in Prometheus: " + ("; ".join(
        f"{a['alert']} ({_where(a)}) pending at "
        f"{a.get('pending', '–')} s, firing at {a.get('firing', '–')} s, resolved at {a.get('resolved', '–')} s"
        for a in alerts) or "none became pending (every outage was shorter than the rules' `for`)") + ".")
    lines.append("- Alertmanager's webhook (alert sink): " + ("; ".join(
        f"{s['status']} {', '.join(s['alerts'])} at {s['received_s']} s" for s in report["alert_sink"])
        or "nothing arrived") + ".")
    lines += ["", "| check | result |", "|---|:---:|"]
    for name, target in report["targets"].items():
        lines.append(f"| target: {name} | {target['measured']}, {'met' if target['met'] else '**not met**'} |")
    for name, ok in report["checks"].items():
        lines.append(f"| {name} | {'ok' if ok else '**failed**'} |")
    lines += ["", f"![Failover timeline]({image})"]
    return "\n".join(lines)


def update_failover(report: dict, png: Path) -> None:
    """Each topology has its own section and picture: the single MariaDB's, and the cluster's."""
    suffix = "" if report.get("db_nodes", 1) == 1 else "-cluster"
    IMG.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(png, IMG / f"failover-timeline{suffix}.png")
    _update(f"failover{suffix}", failover_markdown(report, f"img/failover-timeline{suffix}.png"))


# --- the board ---------------------------------------------------------------------------------------

def update_board(markdown: str) -> None:
    _update("board", markdown)

# --- API conformance (make fuzz) ------------------------------------------------------------------

def fuzz_markdown(summary: dict) -> str:
    load = " / ".join(f"{x:.2f}" for x in summary["load_average"])
    checks = ", ".join(f"{name} {count:,}" for name, count in sorted(summary["checks"].items()))
    failures = "\n".join(f"- {failure}" for failure in summary["failures"]) or "none"
    phases = ", ".join(f"{name} {summary['phase_seconds'].get(name, 0):.0f} s" for name in summary["phases"])
    return f"""## API conformance: `make fuzz`

schemathesis against the API document of the running stack, through nginx, as two customers made
for the run (load/fuzz.py). Every check; the phases and their time: {phases}.

| seed | duration | operations | stateful scenarios | test cases | checks run | failures | load average (1/5/15 min) |
| --- | --- | --- | --- | --- | --- | --- | --- |
| {summary["seed"]} | {summary["duration_s"]:.0f} s | {len(summary["operations"])} | {summary["stateful_scenarios"]} \
| {summary["cases"]:,} | {sum(summary["checks"].values()):,} | {len(summary["failures"])} | {load} |

Checks ({len(summary["checks"])} kinds): {checks}.

Failures: {failures}

Replay this run with `make fuzz SEED={summary["seed"]}` (the server's state differs, so the stateful
phase may take other paths). A failure becomes a fixed case in tests/system/test_api_fuzz.py.
"""


def update_fuzz(summary: dict) -> None:
    _update("fuzz", fuzz_markdown(summary))
