"""The Grafana port where no Grafana runs natively (issue 11): nginx serves PiggyBank's board and the
dashboard files, and of Prometheus only its read-only query APIs, at a bounded resolution."""

import re
import time

import pytest
import requests

from stack import control
from tests.observability import dashboards as dash


@pytest.fixture(scope="module")
def board(stack) -> str:
    return f"http://127.0.0.1:{stack.ports['grafana']}"


def get(url: str, **params) -> requests.Response:
    return requests.get(url, params=params, timeout=10)


def test_make_up_says_that_the_board_serves_the_dashboard_and_why(stack, capsys):
    control.print_welcome(stack)
    out = capsys.readouterr().out
    assert re.search(rf"Dashboard  http://localhost:{stack.ports['grafana']}  \(PiggyBank board: PIGGY_GRAFANA=off\)",
                     out), out


def test_the_root_answers_the_board_and_grafanas_urls_too(board):
    for path in ("/", "/d/piggybank-overview", "/d/piggybank-database/piggybank-database?from=now-1h&to=now"):
        page = get(board + path)
        assert page.status_code == 200 and "<title>PiggyBank board</title>" in page.text, path
        assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    script = re.search(r'src="(/assets/board-[^"]+\.js)"', get(board + "/").text).group(1)
    assert get(board + script).status_code == 200


def test_the_dashboard_files_are_served_as_they_are(board):
    listing = get(board + "/dashboards/").json()
    assert sorted(e["name"] for e in listing if e["type"] == "file") == sorted(p.name for p in dash.DASHBOARDS)
    for path in dash.DASHBOARDS:
        assert get(f"{board}/dashboards/{path.name}").json() == dash.load(path)
    settings = get(board + "/board.json").json()
    assert settings["home"] == "piggybank-overview.json" and settings["whyNoGrafana"] == "PIGGY_GRAFANA=off"
    assert {d["uid"]: d["timeInterval"] for d in settings["datasources"]}["prometheus"] == "2s"


def test_prometheus_query_apis_answer_read_only(board):
    now = time.time()
    assert get(board + "/api/v1/query", query="up").json()["status"] == "success"
    day = get(board + "/api/v1/query_range", query="up", start=now - 86400, end=now, step=300)
    assert day.status_code == 200 and day.json()["status"] == "success"
    assert max(len(s["values"]) for s in day.json()["data"]["result"]) <= 300
    assert get(board + "/api/v1/alerts").json()["status"] == "success"
    values = get(board + "/api/v1/label/appserver/values", **{"match[]": 'up{job="app"}'}).json()
    assert values["status"] == "success" and "appserver1" in values["data"]
    assert requests.post(board + "/api/v1/query", data={"query": "up"}, timeout=10).status_code == 403


@pytest.mark.parametrize("params, problem", [
    ({"start": 0, "end": 86400, "step": 15}, "at most 500"),
    ({"start": 0, "end": 86400, "step": "1m"}, "at most 500"),
    ({"start": 0, "end": 86400}, "step is required"),
    ({"start": "yesterday", "end": 86400, "step": 300}, "Unix timestamps or RFC 3339"),
    ({"start": 0, "end": 86400, "step": "-5"}, "positive"),
    ({"start": 100, "end": 0, "step": 10}, "before start"),
])
def test_a_range_query_beyond_the_bound_or_malformed_is_refused_with_a_clear_error(board, params, problem):
    answer = get(board + "/api/v1/query_range", query="up", **params)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "bad_range" and problem in error["message"], error


@pytest.mark.parametrize("method, path", [
    ("POST", "/api/v1/admin/tsdb/delete_series?match[]=up"), ("GET", "/api/v1/admin/tsdb/delete_series"),
    ("POST", "/api/v1/admin/tsdb/snapshot"), ("POST", "/-/reload"), ("POST", "/-/quit"), ("GET", "/-/healthy"),
    ("POST", "/api/v1/write"), ("GET", "/graph"), ("GET", "/classic/graph"), ("GET", "/targets"), ("GET", "/alerts"),
    ("GET", "/api/v1/targets"), ("GET", "/api/v1/status/config"), ("GET", "/api/v1/series?match[]=up"),
    ("GET", "/federate?match[]=up"), ("GET", "/metrics"), ("POST", "/api/v1/query_range"),
])
def test_nothing_else_of_prometheus_is_reachable_there(board, stack, method, path):
    answer = requests.request(method, board + path, timeout=10)
    assert answer.status_code in (403, 404), (path, answer.status_code, answer.text[:200])
    assert answer.headers["Content-Type"].startswith("application/json")
    assert "error" in answer.json()


def test_prometheus_itself_would_answer_what_the_board_refuses(stack):
    """So the refusals above are nginx's: Prometheus runs with its lifecycle API on."""
    assert requests.post(f"http://127.0.0.1:{stack.ports['prometheus']}/-/reload", timeout=10).status_code == 200
    assert requests.get(f"http://127.0.0.1:{stack.ports['prometheus']}/graph", timeout=10).status_code == 200
