"""The Locust journeys' pass/fail gate (load/locustfile.py): thresholds become the exit code.
A short headless run against the test stack must pass with generous thresholds and must fail
(exit code 3) with an impossible p95, so the gate demonstrably can fail."""

import json
import os
import subprocess

import pytest


def run_locust(stack, out, **thresholds) -> subprocess.CompletedProcess:
    env = {**os.environ, "PIGGY_RUN_DIR": str(stack.run), "PIGGY_PORT_OFFSET": stack.env["PIGGY_PORT_OFFSET"],
           "PYTHONPATH": str(stack.root), "LOAD_ISOLATED": "1", "LOAD_CUSTOMERS": "8", "LOAD_RESULTS": str(out),
           **{k: str(v) for k, v in thresholds.items()}}
    command = [str(stack.root / ".venv" / "bin" / "locust"), "-f", "load/locustfile.py", "--headless",
               "-u", "4", "-r", "4", "-t", "8s", "--only-summary", "--csv", str(out / "gate")]
    return subprocess.run(command, cwd=stack.root, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    return tmp_path_factory.mktemp("load-gate")


def test_gate_passes_with_generous_thresholds(stack, outputs):
    done = run_locust(stack, outputs, LOAD_MAX_FAIL_RATIO=0.0, LOAD_MAX_P95_MS=5000, LOAD_MAX_P99_MS=10000)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "THRESHOLDS OK" in output
    summary = json.loads((outputs / "load-summary.json").read_text())
    assert summary["passed"] and summary["requests"] > 10 and summary["failures"] == 0
    assert summary["ledger"]["ok"], summary["ledger"]
    assert (outputs / "gate_stats.csv").exists()


def test_gate_fails_with_an_impossible_p95(stack, outputs):
    done = run_locust(stack, outputs, LOAD_MAX_P95_MS=0.001)
    output = done.stdout + done.stderr
    assert done.returncode == 3, output[-3000:]
    assert "THRESHOLD FAILED" in output and "p95" in output
    assert json.loads((outputs / "load-summary.json").read_text())["passed"] is False
