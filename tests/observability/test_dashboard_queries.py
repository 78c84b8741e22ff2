"""Every query of every dashboard, with Grafana's macros and variables substituted, is valid PromQL
and returns series for both app servers from the test stack's Prometheus, after known traffic."""

import json

import pytest

from tests.observability import dashboards as dash
from tests.observability import traffic
from tests.observability.live import Prometheus
from tests.polling import wait_until

pytestmark = pytest.mark.stack

APP_SERVERS = ("appserver1", "appserver2")
ALL = "(" + "|".join(APP_SERVERS) + ")"  # how Grafana formats a multi-value variable for =~
# Grafana's $__rate_interval with the data source's timeInterval 2s is max(4 x 2 s, interval + 2 s):
# 8 s on a short time range; 30 s stands for a typical wider range.
RATE_INTERVAL = "30s"

QUERIES = [(path.stem, panel["title"], target["refId"])
           for path in dash.DASHBOARDS for panel, target in dash.queries(dash.load(path))]


def find(dashboard: str, title: str, ref: str) -> dict:
    board = dash.load(dash.GRAFANA / "dashboards" / f"{dashboard}.json")
    return next(t for p, t in dash.queries(board) if p["title"] == title and t["refId"] == ref)


@pytest.fixture(scope="module")
def prometheus(stack, db_engine) -> Prometheus:
    """Known traffic on both app servers, then Prometheus has scraped its effects from both."""
    prom = Prometheus(stack)
    traffic.drive_until_scraped(stack, db_engine, prom)
    return prom


def run(prom: Prometheus, target: dict, expr: str) -> list[dict]:
    return prom.query(expr) if target.get("instant") else prom.query_range(expr, seconds=60)


def test_an_invalid_query_is_refused_so_the_check_can_fail(prometheus):
    broken = dash.substitute('sum by (appserver) (rate(up{job="app", appserver=~"$appserver"}[$__rate_interval])',
                             {"appserver": ALL})
    with pytest.raises(AssertionError, match="parse error"):
        prometheus.query(broken)
    with pytest.raises(ValueError, match="unsubstituted"):
        dash.substitute('up{appserver=~"$instance"}', {"appserver": ALL})


def test_the_app_server_variable_lists_both_app_servers(prometheus):
    values = prometheus.api("/api/v1/label/appserver/values", {"match[]": 'up{job="app"}'})
    assert sorted(values) == list(APP_SERVERS)


@pytest.mark.parametrize("dashboard, title, ref", QUERIES, ids=[f"{d}:{t}:{r}" for d, t, r in QUERIES])
def test_query_is_valid_and_returns_series_for_both_app_servers(prometheus, dashboard, title, ref):
    target = find(dashboard, title, ref)
    expr = dash.substitute(target["expr"], {"appserver": ALL}, rate_interval=RATE_INTERVAL)
    run(prometheus, target, expr)  # valid PromQL: Prometheus answers success (it raises otherwise)
    if "$appserver" in target["expr"]:
        for server in APP_SERVERS:
            single = dash.substitute(target["expr"], {"appserver": server}, rate_interval=RATE_INTERVAL)
            wait_until(f"{title} [{ref}] to return series for {server}: {single}",
                       lambda q=single: run(prometheus, target, q), timeout=45)
        result = run(prometheus, target, expr)
        labelled = {series["metric"]["appserver"] for series in result if "appserver" in series["metric"]}
        assert labelled in (set(), set(APP_SERVERS)), f"series for {labelled} only: {json.dumps(result)[:500]}"
    else:
        wait_until(f"{title} [{ref}] to return series: {expr}", lambda: run(prometheus, target, expr), timeout=45)
