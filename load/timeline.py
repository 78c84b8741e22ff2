"""The failover drill's timeline as a PNG: throughput, latency percentiles, errors and retries, and
each component's health, with the faults marked, on one time axis.

Redraw one from its raw data: python -m load.timeline load/results/failover-...timeline.json out.png
"""

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

GREEN, RED, AMBER, BLUE, PURPLE, GREY = "#2e9d5b", "#d64545", "#f0a020", "#3b6fd1", "#8a4fc7", "#9aa0a6"
STATE_COLOURS = {"ok": GREEN, "degraded": AMBER, "down": RED}


def _bins(rows, width, end):
    count = int(end // width) + 1
    return [[] for _ in range(count)]


def _percentile(values, q):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q / 100 * len(ordered) + 0.5)) - 1))]


def _spans(samples, component, end):
    """[(start, length, state)] of a component from (t, component, state) samples."""
    points = [(t, s) for t, c, s in samples if c == component]
    spans = []
    for (t, state), nxt in zip(points, points[1:] + [(end, None)], strict=True):
        if spans and spans[-1][2] == state:
            spans[-1][1] = nxt[0] - spans[-1][0]
        else:
            spans.append([t, nxt[0] - t, state])
    return spans


def draw(report: dict, path: Path) -> None:
    data = report["_timeline"]
    rows, phases = data["rows"], data["phases"]
    end = max([p[2] for p in phases] + [r[0] for r in rows] + [1.0])

    # requests per second (final answers and retried attempts), latency per 2 s
    ok_s, failed_s, retried_s, resent_s = ([0] * (int(end) + 1) for _ in range(4))
    latency = _bins(rows, 2, end)
    for t, kind, name, ms, ok, _status, *_ended in rows:
        if t < 0:
            continue
        second = min(int(t), len(ok_s) - 1)
        if kind == "RETRY":
            retried_s[second] += 1
        elif ok:
            ok_s[second] += 1
        else:
            failed_s[second] += 1
        if kind != "RETRY" and name != "POST /auth":
            latency[min(int(t // 2), len(latency) - 1)].append(ms)
    for t, _server, _status, retries, *_rest in data["haproxy"]["requests"]:
        if 0 <= t <= end and retries > 0:
            resent_s[min(int(t), len(resent_s) - 1)] += 1

    plt.rcParams.update({"font.size": 9, "axes.spines.top": False, "axes.spines.right": False,
                         "axes.titleweight": "bold", "axes.titlesize": 10, "axes.titlelocation": "left"})
    fig, (ax_tp, ax_lat, ax_err, ax_health) = plt.subplots(
        4, 1, sharex=True, figsize=(13, 10.5 + 0.3 * len(data.get("databases", []))),
        gridspec_kw={"height_ratios": [3, 3, 2, 2.8 + 0.5 * len(data.get("databases", []))]})
    seconds = list(range(len(ok_s)))

    ax_tp.fill_between(seconds, ok_s, step="post", color=GREEN, alpha=0.25, linewidth=0)
    ax_tp.step(seconds, ok_s, where="post", color=GREEN, linewidth=1.2, label="answered (req/s)")
    ax_tp.bar(seconds, failed_s, width=1, align="edge", color=RED, label="failed (req/s)")
    ax_tp.set_ylabel("requests / s")
    ax_tp.set_ylim(bottom=0, top=max(ok_s + [1]) * 1.35)
    totals = report["totals"]
    ax_tp.set_title(f"Throughput — {totals['requests']:,} requests, {totals['failures']} failed, "
                    f"{totals['client_retries']} retried by the client")
    ax_tp.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), frameon=False, ncol=2, borderaxespad=0.2)

    mids = [i * 2 + 1 for i in range(len(latency))]
    for q, colour, style in ((50, BLUE, "-"), (95, AMBER, "-"), (99, RED, "-")):
        values = [_percentile(b, q) for b in latency]
        ax_lat.plot([m for m, v in zip(mids, values, strict=True) if v is not None],
                    [v for v in values if v is not None], style, color=colour, linewidth=1.4, label=f"p{q}")
    ax_lat.set_yscale("log")
    ax_lat.set_ylabel("ms (log scale)")
    ax_lat.set_title("Latency per 2 s, sign-ins excluded (time the user waited, client retries included)")
    ax_lat.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), frameon=False, ncol=3, borderaxespad=0.2)
    ax_lat.grid(axis="y", which="major", color="#e5e5e5", linewidth=0.6)

    ax_err.bar(seconds, resent_s, width=1, align="edge", color=PURPLE, alpha=0.8,
               label="HAProxy resent to another server")
    ax_err.bar(seconds, retried_s, width=1, align="edge", color=AMBER, alpha=0.9, bottom=resent_s,
               label="client retried (502/503/504, no answer)")
    ax_err.bar(seconds, failed_s, width=1, align="edge", color=RED,
               bottom=[a + b for a, b in zip(resent_s, retried_s, strict=True)], label="failed")
    ax_err.set_ylabel("per second")
    ax_err.set_title("Errors absorbed and errors seen")
    ax_err.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), frameon=False, ncol=3, borderaxespad=0.2)

    servers, databases = data["app_servers"], data.get("databases", ["mariadb"])
    components = [*((name, "health") for name in servers), *((name, "health") for name in databases),
                  *((name, "haproxy") for name in servers),
                  *((name, "prometheus") for name in servers), *((name, "prometheus") for name in databases)]
    # HAProxy's state changes from its log; every app server is in rotation when the load starts
    in_rotation = [(0.0, name, "ok") for name in servers] + [
        (t, name, "ok" if state == "UP" else "down") for t, name, state, backup in data["haproxy"]["events"]
        if not backup and t >= 0]
    source_label = {"health": "probe", "haproxy": "HAProxy rotation", "prometheus": "Prometheus up"}
    labels = []
    for row, (component, source) in enumerate(components):
        if source == "health":
            samples = data["health"]
        elif source == "haproxy":
            samples = in_rotation
        else:
            samples = [(t, c, "ok" if v == 1 else "down") for t, c, v in data["prometheus"]]
        spans = _spans(samples, component, end)
        y = len(components) - 1 - row
        for start, length, state in spans:
            ax_health.broken_barh([(start, length)], (y + 0.15, 0.7), color=STATE_COLOURS.get(state, GREY))
        labels.append((y + 0.5, f"{component} ({source_label[source]})"))
    ax_health.set_yticks([y for y, _ in labels], [label for _, label in labels])
    ax_health.set_ylim(0, len(components))
    ax_health.set_title("Health: probed every 0.25 s, in HAProxy's rotation (its log), and as Prometheus saw it")
    ax_health.legend(handles=[Patch(color=GREEN, label="ok"), Patch(color=AMBER, label="degraded (503)"),
                              Patch(color=RED, label="down")], loc="lower right", frameon=False, ncol=3,
                     bbox_to_anchor=(1.0, 1.0), borderaxespad=0.2)
    ax_health.set_xlabel("seconds since the load started")
    ax_health.set_xlim(0, end)

    stats = {row["phase"]: row for row in report["phases"]}
    # Phases are numbered on the plot and named in a key under the title: 20 s of a phase is too
    # narrow for its name, and names written at their phase overlapped.
    key = []
    for name, start, stop, kind in phases:
        if kind == "baseline":
            continue
        row = stats.get(name, {})
        p99 = row.get("p99_ms")
        summary = f"{row.get('failures', 0)} failed, p99 {p99 / 1000:.1f} s" if p99 and p99 >= 1000 else \
            f"{row.get('failures', 0)} failed, p99 {p99 or 0:.0f} ms"
        for ax in (ax_tp, ax_lat, ax_err, ax_health):
            ax.axvline(start, color="#444444", linestyle="--", linewidth=0.9)
            if kind in ("sigstop", "badinput"):
                database = any(db in name for db in data.get("databases", ["mariadb"]))
                hang = report.get("db_stop_seconds", report["stop_seconds"]) if database else report["stop_seconds"]
                width = hang if kind == "sigstop" else report["burst_seconds"]
                ax.axvspan(start, min(start + width, stop), color=GREY, alpha=0.12, linewidth=0)
        key.append(f"{len(key) + 1}  {name}: {summary}")
        ax_tp.annotate(str(len(key)), (start, 1.0), xycoords=("data", "axes fraction"), xytext=(3, -3),
                       textcoords="offset points", va="top", ha="left", fontsize=9, fontweight="bold",
                       color="#333333", bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "#999999"})

    verdict = "PASSED" if report["passed"] else "FAILED"
    fig.suptitle(f"PiggyBank failover drill ({'quick' if report['quick'] else 'full'}): {report['users']} users, "
                 f"{report['cores']} cores, {report['when'][:16].replace('T', ' ')} UTC — {verdict}",
                 fontsize=12, fontweight="bold", x=0.01, ha="left")
    columns = 2
    lines = -(-len(key) // columns)
    for column in range(columns):
        fig.text(0.01 + column * 0.5, 0.965, "\n".join(key[column * lines:(column + 1) * lines]), va="top",
                 ha="left", fontsize=9, color="#333333", linespacing=1.4)
    fig.tight_layout(rect=(0, 0, 1, 0.965 - 0.016 * lines))
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    draw(json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2]))
