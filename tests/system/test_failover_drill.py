"""The short failover drill (load/failover.py --quick) against the test stack: Locust journeys of
generated customers while appserver1 is killed with kill -9 and appserver2 is hung with SIGSTOP
for 20 s. Users must see zero failed requests, HAProxy must take the hung server out within a
second or so and its requests must not wait for it (generous bounds here: the machine is shared;
the drill's own targets, 1 s without an answer and 1.5 s for the slowest, are figures for
docs/benchmarks.md), the ledger must be right, and every process must be running and monitored
again afterwards.

It runs in its own process (Locust monkey-patches the standard library with gevent) and leaves the
seed customers alone (--isolated), so the other tests' expectations about them still hold.
"""

import json
import os
import subprocess

import pytest

from stack import drill


@pytest.fixture(scope="module")
def drill_report(stack, tmp_path_factory):
    out = tmp_path_factory.mktemp("failover")
    env = {**os.environ, "PIGGY_RUN_DIR": str(stack.run), "PIGGY_PORT_OFFSET": stack.env["PIGGY_PORT_OFFSET"],
           "PYTHONPATH": str(stack.root)}
    done = subprocess.run([str(stack.python), "-m", "load.failover", "--quick", "--isolated", "--out", str(out)],
                          cwd=stack.root, env=env, capture_output=True, text=True, timeout=600)
    print(done.stdout[-6000:], done.stderr[-3000:])
    reports = sorted(out.glob("failover-quick-*.json"))
    assert reports, f"the drill wrote no report (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done, json.loads(reports[-1].read_text()), out


def test_drill_ran_under_load_and_injected_both_faults(drill_report):
    _done, report, _out = drill_report
    assert [p["phase"] for p in report["phases"]][:2] == ["baseline", "kill -9 appserver1"]
    assert report["phases"][2]["phase"].startswith("SIGSTOP appserver2")
    assert report["totals"]["requests"] > 300, "not much of a load"
    assert all(p["requests"] > 50 for p in report["phases"]), report["phases"]
    for phase in report["phases"][1:]:
        # Monit replaced the process (new pid) and it answered its healthcheck; generous bounds here,
        # the timings themselves are figures for docs/benchmarks.md.
        assert phase["restarted_s"] is not None and phase["healthy_s"] is not None, phase
        assert phase["healthy_s"] < 60, phase


def test_haproxy_took_the_hung_server_out_and_its_requests_did_not_wait_for_it(drill_report):
    _done, report, _out = drill_report
    hang = report["phases"][2]
    assert hang["haproxy_out_s"] is not None and hang["haproxy_out_s"] < 3, hang  # ~0.6-0.9 s on a quiet machine
    assert hang["haproxy_back_s"] is not None, "the replaced server never came back into rotation"
    assert hang["longest_gap_s"] is not None and hang["longest_gap_s"] < 4, hang  # nginx alone: 5 s
    assert hang["failures"] == 0


def test_users_saw_zero_failed_requests(drill_report):
    _done, report, _out = drill_report
    failed = {p["phase"]: p["failed_statuses"] for p in report["phases"] if p["failures"]}
    assert report["totals"]["failures"] == 0, f"failed requests by phase and status: {failed}"
    assert report["checks"]["no Locust exceptions (bugs in the journeys)"]


def test_ledger_is_right_after_the_drill(drill_report):
    _done, report, _out = drill_report
    book = report["ledger"]
    assert book["transfers_confirmed_seen"] > 10, "the drill should have moved money"
    assert book["ok"], book["problems"]
    assert book["invariant_violations"] == 0 and book["doubled_keys"] == 0 and book["orphan_transfers"] == 0


def test_nothing_left_stopped_or_unmonitored(drill_report, stack):
    done, report, out = drill_report
    assert report["stuck_or_unmonitored"] == []
    assert report["phases"][2]["old_process_still_stopped_at_end"] is False, "Monit did not replace the hung server"
    for service in ("appserver1", "appserver2", "mariadb"):
        assert drill.healthy(stack, service), service
    assert done.returncode == 0, done.stdout[-3000:]
    assert {p.suffix for p in out.iterdir()} >= {".json", ".csv", ".png"}
