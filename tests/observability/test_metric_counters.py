"""The counters move by exactly what known requests should move them: read both app servers'
/metrics before and after N requests through nginx and compare the sums (nginx spreads the
requests over both, so only the sum is known)."""

import uuid

import pytest
import requests

from tests.observability import traffic
from tests.observability.live import scrape, value

pytestmark = pytest.mark.stack

N = 20
N_SIGN_INS = 6  # each wrong sign-in costs a bcrypt check (~0.3 s)
REQ = "flask_http_request_duration_seconds"


def totals(stack) -> dict:
    """Every sample summed over both app servers, and each server's own samples."""
    per_server = {server.name: scrape(server.port) for server in stack.app_servers}
    summed: dict[tuple, float] = {}
    for samples in per_server.values():
        for key, val in samples.items():
            summed[key] = summed.get(key, 0.0) + val
    return {"sum": summed, **per_server}


def delta(before: dict, after: dict, name: str, **labels) -> float:
    return value(after["sum"], name, **labels) - value(before["sum"], name, **labels)


def test_n_reads_move_the_request_counters_by_exactly_n(stack, api):
    token = api.login_seed("max")
    before = totals(stack)
    for _ in range(N):
        assert api.get("/api/user", token).status_code == 200
    after = totals(stack)
    route = {"method": "GET", "status": "200", "url_rule": "/api/user"}
    assert delta(before, after, f"{REQ}_count", **route) == N
    assert delta(before, after, f"{REQ}_bucket", **route, le="+Inf") == N
    assert 0 < delta(before, after, f"{REQ}_sum", **route) < N * 1.0
    assert delta(before, after, "flask_http_request_total", method="GET", status="200") == N
    # round robin: both app servers answered some of them
    for server in stack.app_servers:
        assert delta({"sum": before[server.name]}, {"sum": after[server.name]}, f"{REQ}_count", **route) > 0


def test_n_wrong_sign_ins_count_n_wrong_logins_and_n_401s(stack, api):
    before = totals(stack)
    for _ in range(N_SIGN_INS):
        response = api.post("/auth", json={"username": f"nobody-{uuid.uuid4().hex[:8]}@example.com",
                                           "password": "wrong"})
        assert response.status_code == 401
    after = totals(stack)
    assert delta(before, after, "piggybank_logins_total", result="wrong") == N_SIGN_INS
    assert delta(before, after, "piggybank_logins_total", result="ok") == 0
    assert delta(before, after, f"{REQ}_count", method="POST", status="401", url_rule="/auth") == N_SIGN_INS


def test_a_booked_transfer_moves_each_business_counter_by_one(stack, api, db_engine):
    sender, recipient = traffic.new_customers(db_engine, 2)
    token = api.login(sender["email"], sender["password"])
    before = totals(stack)
    refused = api.create_transfer(token, recipient["iban"], "100000.01")
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "amount_too_large"
    created = api.create_transfer(token, recipient["iban"], "1.00")
    assert created.status_code == 201
    transfer_id = created.json()["id"]
    tan = api.tan_for(token, transfer_id)
    assert api.confirm(token, transfer_id, traffic.wrong_tan(tan)).status_code == 422
    assert api.confirm(token, transfer_id, tan).status_code == 200
    assert api.confirm(token, transfer_id, tan).status_code == 200  # confirming again books nothing more
    after = totals(stack)
    assert delta(before, after, "piggybank_transfers_rejected_total", reason="amount_too_large") == 1
    assert delta(before, after, "piggybank_transfers_created_total") == 1
    assert delta(before, after, "piggybank_mtan_verifications_total", result="wrong") == 1
    assert delta(before, after, "piggybank_mtan_verifications_total", result="ok") == 1
    assert delta(before, after, "piggybank_transfers_booked_total") == 1
    assert delta(before, after, f"{REQ}_count", method="POST", status="201", url_rule="/api/transfers") == 1
    assert delta(before, after, f"{REQ}_count", method="POST", status="200",
                 url_rule="/api/transfers/<int:transfer_id>/confirm") == 2


def test_gauges_report_the_pool_the_uptime_and_the_build(stack):
    for server in stack.app_servers:
        samples = scrape(server.port)
        # two pools of PIGGY_DB_POOL_SIZE (10): units of work, and reads in autocommit (app/db.py)
        assert value(samples, "piggybank_db_pool_size") == 20
        assert 0 <= value(samples, "piggybank_db_pool_in_use") <= 20
        assert value(samples, "piggybank_db_pool_waiting") == 0
        assert value(samples, "piggybank_process_uptime_seconds") > 0
        assert value(samples, "piggybank_app_info", instance=server.name, version="1.0.0") == 1
        assert value(samples, "piggybank_health_status") == 2
        for result in ("ok", "wrong", "locked"):  # known label values exist from the start
            assert ("piggybank_logins_total", (("result", result),)) in samples


def test_polled_paths_are_left_out_and_an_unknown_path_counts_once(stack, api):
    """Only the customers' requests count: the health polls and the scrapes do not, or every SLI
    would be diluted by them; a path that no rule matches counts under url_rule "None"."""
    server = stack.app_servers[0]
    base = f"http://127.0.0.1:{server.port}"
    before = scrape(server.port)
    for path in ("/api/healthcheck", "/api/liveness", "/metrics"):
        assert requests.get(base + path, timeout=5).status_code == 200
    assert requests.get(base + "/api/no-such-thing", timeout=5).status_code == 404
    after = scrape(server.port)
    moved = {key: after[key] - before.get(key, 0.0) for key in after
             if key[0] == "flask_http_request_total" and after[key] != before.get(key, 0.0)}
    assert moved == {("flask_http_request_total", (("method", "GET"), ("status", "404"))): 1}, moved
    assert value(after, f"{REQ}_count", method="GET", status="404", url_rule="None") - value(
        before, f"{REQ}_count", method="GET", status="404", url_rule="None") == 1


def test_an_unknown_method_counts_as_other(stack):
    """Labels stay bounded: a made-up method adds no series of its own."""
    server = stack.app_servers[0]
    before = scrape(server.port)
    assert requests.request("FROBNICATE", f"http://127.0.0.1:{server.port}/api/user", timeout=5).status_code == 405
    after = scrape(server.port)
    assert value(after, "flask_http_request_total", method="other", status="405") - value(
        before, "flask_http_request_total", method="other", status="405") == 1
    assert not any(dict(labels).get("method") == "FROBNICATE" for _name, labels in after)
