"""The benchmark's arithmetic for the cost of the request metrics (load/bench.py): each round runs the
pair as on, off, off, on, and the cost is paired within the round, so a steady drift of the machine
over the round cancels out instead of reading as a cost."""

import pytest

from load.bench import metrics_cost, round_order


def run(cpu_ms: float, rps: float) -> dict:
    return {"cpu_ms_per_request": {"app servers": cpu_ms}, "rps": rps}


def test_a_round_runs_the_metrics_pair_on_off_off_on_and_every_other_target_once():
    assert round_order(["on", "off", "flask", "wsgi"]) == ["on", "off", "off", "on", "flask", "wsgi"]


def test_a_steady_drift_within_a_round_cancels_out():
    # The machine gets slower by 5 % of the first run's time at every run; the metrics cost nothing.
    on_off_off_on = [run(0.50 * (1 + 0.05 * i), 2000 / (1 + 0.05 * i)) for i in range(4)]
    on, off = [on_off_off_on[0], on_off_off_on[3]], on_off_off_on[1:3]
    cost = metrics_cost(on, off, rounds=1)
    assert cost["metrics_cost_cpu"] == pytest.approx(0, abs=1e-9)
    assert cost["metrics_cost"] == pytest.approx(0, abs=1e-9)


def test_the_cost_is_the_median_of_the_rounds_and_each_round_is_reported():
    on = [run(0.52, 2000), run(0.52, 2000)] * 3
    off = [run(0.50, 2080), run(0.50, 2080), run(0.494, 2100), run(0.494, 2100), run(0.40, 2600), run(0.40, 2600)]
    cost = metrics_cost(on, off, rounds=3)
    assert cost["metrics_cost_cpu_rounds"] == [0.038, 0.05, 0.231]
    assert cost["metrics_cost_cpu"] == 0.05
    assert cost["metrics_cost"] == pytest.approx(1 - 2000 / 2100, abs=0.001)
