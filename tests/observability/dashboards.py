"""Helpers for the dashboard tests: the provisioned files, their panels and queries, and the
TypeScript type check against Grafana's published dashboard types (grafana/typecheck)."""

import fcntl
import hashlib
import json
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import yaml

from stack.settings import ROOT

GRAFANA = ROOT / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
PROVISIONING = GRAFANA / "provisioning"
TYPECHECK = GRAFANA / "typecheck"
ANGULAR_PANELS = {"graph", "singlestat", "table-old", "grafana-piechart-panel", "grafana-worldmap-panel",
                  "grafana-polystat-panel", "flant-statusmap-panel", "natel-discrete-panel"}
# The panels this project uses; each has its types in grafana/typecheck/dashboard-types.ts.
MODERN_PANELS = {"timeseries", "stat", "gauge", "table", "state-timeline", "alertlist"}
PANELS_WITHOUT_FIELDS = {"row", "alertlist", "text"}  # no data fields, so no unit either


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def panels(dashboard: dict) -> Iterator[dict]:
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])  # inside collapsed rows


def queries(dashboard: dict) -> Iterator[tuple[dict, dict]]:
    """(panel, target) for every Prometheus query of the dashboard."""
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            yield panel, target


def provisioned_datasource_uids() -> set[str]:
    uids = set()
    for path in (PROVISIONING / "datasources").glob("*.y*ml"):
        uids |= {ds["uid"] for ds in yaml.safe_load(path.read_text()).get("datasources", [])}
    return uids


# --- Grafana's macros -------------------------------------------------------------------------

def substitute(expr: str, variables: dict[str, str], rate_interval: str = "1m", range_: str = "30m",
               interval: str = "15s") -> str:
    """The query as Grafana would send it: macros and dashboard variables replaced."""
    expr = expr.replace("$__rate_interval", rate_interval).replace("${__rate_interval}", rate_interval)
    expr = expr.replace("$__range", range_).replace("${__range}", range_)
    expr = expr.replace("$__interval", interval).replace("${__interval}", interval)
    for name, value in variables.items():
        expr = re.sub(r"\$\{" + name + r"(:[a-z]+)?\}|\$" + name + r"\b", value, expr)
    if "$" in expr:
        raise ValueError(f"unsubstituted variable or macro left in {expr!r}")
    return expr


# --- The TypeScript type check ----------------------------------------------------------------

def ensure_typecheck_tool() -> Path:
    """`npm ci` in grafana/typecheck when node_modules is missing or older than the lock file
    (under a lock: test sessions of other port offsets may share this checkout). Returns tsc."""
    lock = TYPECHECK / "package-lock.json"
    stamp = TYPECHECK / "node_modules" / ".lock.sha256"
    wanted = hashlib.sha256(lock.read_bytes()).hexdigest()
    tsc = TYPECHECK / "node_modules" / ".bin" / "tsc"
    with open(TYPECHECK / ".install.lock", "w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        if not (tsc.exists() and stamp.exists() and stamp.read_text() == wanted):
            if not shutil.which("npm"):
                raise RuntimeError("npm is missing: `make install-test` installs nodejs and npm")
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=TYPECHECK, check=True,
                           capture_output=True, text=True, timeout=600)
            stamp.write_text(wanted)
    return tsc


def to_typescript(dashboard: dict) -> str:
    """The dashboard as a TypeScript module: each panel is checked against the types of its panel
    type with `satisfies`, the rest against the dashboard's type. JSON is valid TypeScript."""
    top = {k: v for k, v in dashboard.items() if k != "panels"}
    lines = ['import type { DashboardDoc, RowDoc, TypedPanel } from "../../dashboard-types";', "",
             "export const dashboard = {"]
    for key, value in top.items():
        lines.append(f"  {json.dumps(key)}: {json.dumps(value, indent=2)},")
    lines.append('  "panels": [')
    for panel in panels(dashboard):
        title = str(panel.get("title", ""))[:60].replace("*/", "")
        kind = "RowDoc" if panel.get("type") == "row" else f"TypedPanel<{json.dumps(panel.get('type'))}>"
        body = {k: v for k, v in panel.items() if not (panel.get("type") == "row" and k == "panels")}
        lines.append(f"    // panel {panel.get('id')}: {title}")
        lines.append(f"    ({json.dumps(body, indent=2)}) satisfies {kind},")
    lines += ["  ],", "} satisfies DashboardDoc;", ""]
    return "\n".join(lines)


def typecheck(named: dict[str, dict]) -> dict[str, list[str]]:
    """Type-check dashboards (name -> JSON) with `tsc --noEmit`; returns the errors per name."""
    tsc = ensure_typecheck_tool()
    work = TYPECHECK / ".generated" / uuid.uuid4().hex
    work.mkdir(parents=True)
    try:
        files = {}
        for name, dashboard in named.items():
            filename = re.sub(r"[^A-Za-z0-9_-]", "_", name) + ".ts"
            (work / filename).write_text(to_typescript(dashboard))
            files[filename] = name
        (work / "tsconfig.json").write_text(json.dumps({"extends": "../../tsconfig.base.json",
                                                        "files": sorted(files)}))
        done = subprocess.run([str(tsc), "--noEmit", "--pretty", "false", "-p", str(work / "tsconfig.json")],
                              capture_output=True, text=True, timeout=300, cwd=TYPECHECK)
        errors: dict[str, list[str]] = {name: [] for name in named}
        unattributed = []
        for line in done.stdout.splitlines():
            match = re.match(r"^.*?([^/\\]+\.ts)\(\d+,\d+\): error", line)
            if match and match.group(1) in files:
                errors[files[match.group(1)]].append(line)
            elif line.strip() and not line.startswith(" "):
                unattributed.append(line)
        if done.returncode not in (0, 1, 2) or unattributed:
            raise RuntimeError(f"tsc failed outside the dashboards (rc {done.returncode}):\n"
                               f"{done.stdout}{done.stderr}")
        if done.returncode != 0 and not any(errors.values()):
            raise RuntimeError(f"tsc failed without errors in the dashboards:\n{done.stdout}{done.stderr}")
        return errors
    finally:
        shutil.rmtree(work, ignore_errors=True)
