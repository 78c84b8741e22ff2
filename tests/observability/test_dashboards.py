"""Grafana, proven without Grafana (it can't be installed here): the dashboards type-check against
Grafana's published types, follow the provisioning conventions, and the provisioning and
grafana.ini say what the issue asks. Their queries are run against the live stack in
test_dashboard_queries.py."""

import configparser
import copy
import json
import re
from unittest import mock

import pytest
import yaml

from stack import control, render
from stack.settings import ROOT, Stack
from tests.observability import dashboards as dash
from tests.observability.test_rules import SECRETS

DASHBOARD_IDS = [path.stem for path in dash.DASHBOARDS]


@pytest.fixture(scope="module")
def boards() -> dict[str, dict]:
    return {path.stem: dash.load(path) for path in dash.DASHBOARDS}


def test_there_is_a_home_dashboard_and_a_database_dashboard(boards):
    assert {"piggybank-overview", "piggybank-database"} <= set(boards)
    assert boards["piggybank-overview"]["title"] == "PiggyBank overview"


# --- The type check against Grafana's published types -------------------------------------------

def test_every_dashboard_type_checks_against_grafanas_types(boards):
    errors = dash.typecheck(boards)
    assert errors == {name: [] for name in boards}


def _panel(board: dict, kind: str) -> dict:
    return next(p for p in board["panels"] if p["type"] == kind)


def _break(edit):
    def broken(board):
        board = copy.deepcopy(board)
        edit(board)
        return board
    return broken


# Each breaks the overview the way a hand edit of the JSON could; each must fail the type check.
BROKEN = {
    "unknown top-level key": _break(lambda b: b.update(refreshh="5s")),
    "unknown panel key": _break(lambda b: _panel(b, "timeseries").update(gridpos={"h": 1})),
    "misspelled option": _break(lambda b: _panel(b, "timeseries")["options"].update(
        lgend=_panel(b, "timeseries")["options"].pop("legend"))),
    "option value not in its enum": _break(lambda b: _panel(b, "timeseries")["options"]["tooltip"].update(
        mode="mutli")),
    "wrong value type": _break(lambda b: _panel(b, "stat")["gridPos"].update(h="5")),
    "misspelled field option": _break(lambda b: _panel(b, "timeseries")["fieldConfig"]["defaults"]["custom"].update(
        lineWidht=2)),
    "unknown unit": _break(lambda b: _panel(b, "timeseries")["fieldConfig"]["defaults"].update(unit="bytez")),
    "Angular panel": _break(lambda b: _panel(b, "timeseries").update(type="graph")),
    "unknown query key": _break(lambda b: _panel(b, "timeseries")["targets"][0].update(
        exp=_panel(b, "timeseries")["targets"][0].pop("expr"))),
    "stat with a custom field config": _break(lambda b: _panel(b, "stat")["fieldConfig"]["defaults"].update(
        custom={"lineWidth": 1})),
    "unknown override property": _break(lambda b: _panel(b, "table")["fieldConfig"]["overrides"][0][
        "properties"].append({"id": "custom.widht", "value": 100})),
    "variable of an unknown type": _break(lambda b: b["templating"]["list"][0].update(type="querry")),
}


@pytest.fixture(scope="module")
def broken_results(boards) -> dict[str, list[str]]:
    """One tsc run over every broken variant (and the unbroken original, which must stay clean)."""
    named = {name: make(boards["piggybank-overview"]) for name, make in BROKEN.items()}
    named["unbroken"] = boards["piggybank-overview"]
    return dash.typecheck(named)


@pytest.mark.parametrize("breakage", sorted(BROKEN))
def test_a_broken_dashboard_fails_the_type_check(broken_results, breakage):
    assert broken_results["unbroken"] == []
    assert broken_results[breakage], f"tsc accepted a dashboard with: {breakage}"


# --- Conventions ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", DASHBOARD_IDS)
def test_fixed_uid_null_id_no_inputs_not_editable(boards, name):
    board = boards[name]
    assert board["uid"] == name, "the uid is fixed and equals the file name (links use /d/<uid>)"
    assert re.fullmatch(r"[a-z0-9-]{1,40}", board["uid"])
    assert board["id"] is None
    assert "__inputs" not in board and "__requires" not in board
    assert board["editable"] is False
    assert board["title"] and board["description"] and board["schemaVersion"] >= 41
    assert board["refresh"] and "$" not in json.dumps(board["time"])


def test_uids_are_unique():
    uids = [dash.load(path)["uid"] for path in dash.DASHBOARDS]
    assert len(uids) == len(set(uids))


@pytest.mark.parametrize("name", DASHBOARD_IDS)
def test_only_modern_panel_types(boards, name):
    types = {panel["type"] for panel in dash.panels(boards[name])} - {"row"}
    assert not types & dash.ANGULAR_PANELS
    assert types <= dash.MODERN_PANELS


@pytest.mark.parametrize("name", DASHBOARD_IDS)
def test_every_datasource_uid_is_provisioned(boards, name):
    provisioned = dash.provisioned_datasource_uids()
    board = boards[name]
    refs = [panel["datasource"] for panel in dash.panels(board) if "datasource" in panel]
    refs += [target["datasource"] for _, target in dash.queries(board)]
    refs += [var["datasource"] for var in board["templating"]["list"] if "datasource" in var]
    assert refs
    for ref in refs:
        assert isinstance(ref, dict), f"refer to data sources by {{type, uid}}, not by name: {ref!r}"
        assert ref["uid"] in provisioned, f"{ref} is not a provisioned data source ({provisioned})"
        assert ref["type"] == "prometheus"


@pytest.mark.parametrize("name", DASHBOARD_IDS)
def test_every_panel_has_a_title_a_description_and_a_unit(boards, name):
    for panel in dash.panels(boards[name]):
        assert panel.get("title"), panel
        if panel["type"] in dash.PANELS_WITHOUT_FIELDS:
            continue
        assert panel.get("description"), panel["title"]
        assert panel["fieldConfig"]["defaults"].get("unit"), f"{panel['title']}: no unit"


@pytest.mark.parametrize("name", DASHBOARD_IDS)
def test_every_query_is_complete_and_uses_rate_interval(boards, name):
    for panel in dash.panels(boards[name]):
        refs = [target["refId"] for target in panel.get("targets", [])]
        assert len(refs) == len(set(refs)), panel["title"]
    for panel, target in dash.queries(boards[name]):
        assert target["expr"].strip() and target["refId"], panel["title"]
        for window in re.findall(r"\[([^\]]+)\]", target["expr"]):
            assert window in {"$__rate_interval", "$__range", "30d"}, (
                f"{panel['title']}: [{window}]: rates use $__rate_interval (30d only for the SLO window)")
        for function in re.findall(r"\b(rate|irate)\(", target["expr"]):
            assert "$__rate_interval" in target["expr"], f"{panel['title']}: {function} without $__rate_interval"


@pytest.mark.parametrize("name", DASHBOARD_IDS)
def test_panels_fit_the_grid_without_overlapping(boards, name):
    taken = set()
    ids = []
    for panel in dash.panels(boards[name]):
        ids.append(panel["id"])
        pos = panel["gridPos"]
        assert pos["x"] >= 0 and pos["w"] > 0 and pos["x"] + pos["w"] <= 24, panel["title"]
        cells = {(x, y) for x in range(pos["x"], pos["x"] + pos["w"]) for y in range(pos["y"], pos["y"] + pos["h"])}
        assert not cells & taken, f"{panel['title']} overlaps another panel"
        taken |= cells
    assert len(ids) == len(set(ids))


def test_the_overview_has_what_the_issue_asks_for(boards):
    board = boards["piggybank-overview"]
    exprs = " ".join(target["expr"] for _, target in dash.queries(board))
    for needle in ("up{job=\"app\"", "process_cpu_seconds_total", "process_resident_memory_bytes",
                   "piggybank_process_uptime_seconds", "piggybank_health_status",  # status, CPU, memory, uptime
                   "flask_http_request_duration_seconds_count", 'status=~"5.."',  # rate and errors
                   "histogram_quantile(0.5,", "histogram_quantile(0.95,", "histogram_quantile(0.99,",
                   "mysql_up", "mysql_global_status_threads_connected", "mysql_global_status_queries",
                   'probe_success{job="blackbox", probe="site"}', "job:slo_errors_per_request", "/ 0.001",
                   'ALERTS{alertstate="firing"}'):
        assert needle in exprs, needle
    types = {panel["type"] for panel in dash.panels(board)}
    assert {"timeseries", "stat", "table", "state-timeline", "gauge", "alertlist"} <= types
    variable = board["templating"]["list"][0]
    assert variable["name"] == "appserver" and variable["includeAll"] and variable["multi"]
    assert variable["query"]["query"] == 'label_values(up{job="app"}, appserver)'
    per_server = [p for p in dash.panels(board) if "$appserver" in json.dumps(p.get("targets", []))]
    assert len(per_server) >= 15


# --- Provisioning and grafana.ini ---------------------------------------------------------------

def test_the_datasource_is_provisioned_with_a_fixed_uid_and_an_url_from_the_environment():
    config = yaml.safe_load((dash.PROVISIONING / "datasources" / "piggybank.yaml").read_text())
    prometheus = next(ds for ds in config["datasources"] if ds["type"] == "prometheus")
    assert prometheus["uid"] == "prometheus" and prometheus["isDefault"] is True
    assert prometheus["url"] == "${PROMETHEUS_URL}" and prometheus["editable"] is False
    assert prometheus["jsonData"]["timeInterval"] == "2s"  # the scrape interval, for $__rate_interval
    assert sum(1 for ds in config["datasources"] if ds.get("isDefault")) == 1


def test_one_dashboards_provider_with_a_fixed_folder_read_only():
    config = yaml.safe_load((dash.PROVISIONING / "dashboards" / "piggybank.yaml").read_text())
    [provider] = config["providers"]
    assert provider["folder"] == "PiggyBank" and provider["folderUid"] == "piggybank"
    assert provider["allowUiUpdates"] is False and provider["disableDeletion"] is True
    assert provider["options"]["path"] == "${GRAFANA_DASHBOARDS_DIR}"


def _render_with_grafana(tmp_path, env=None):
    stack = Stack.from_env({"PIGGY_RUN_DIR": str(tmp_path), "PIGGY_PORT_OFFSET": "23000", **(env or {})})
    with mock.patch.object(render, "grafana_binary", return_value="/usr/sbin/grafana"):
        context = render.render_native(stack, SECRETS)
    ini = configparser.ConfigParser(interpolation=None, comment_prefixes=(";", "#"))
    ini.read(stack.conf / "grafana.ini")
    return stack, context, ini


def test_grafana_ini_anonymous_viewer_admin_password_no_sign_up_home_dashboard(tmp_path):
    stack, _, ini = _render_with_grafana(tmp_path)
    assert ini["server"]["http_addr"] == "127.0.0.1"
    assert ini["server"]["http_port"] == str(stack.ports["grafana"]) == "28000"
    assert ini["auth.anonymous"]["enabled"] == "true" and ini["auth.anonymous"]["org_role"] == "Viewer"
    assert ini["security"]["admin_password"] == SECRETS["PIGGY_GRAFANA_ADMIN_PASSWORD"]
    assert ini["users"]["allow_sign_up"] == "false"
    assert ini["paths"]["provisioning"] == str(ROOT / "grafana" / "provisioning")
    home = ini["dashboards"]["default_home_dashboard_path"]
    assert home == str(ROOT / "grafana" / "dashboards" / "piggybank-overview.json")
    assert dash.load(ROOT / home)["uid"] == "piggybank-overview"  # a provisioned file (grafana#54574)
    assert (stack.conf / "grafana.ini").stat().st_mode & 0o077 == 0  # it holds the admin password


def test_the_grafana_port_is_configurable(tmp_path):
    stack, _, ini = _render_with_grafana(tmp_path, {"PIGGY_GRAFANA_PORT": "3001"})
    assert ini["server"]["http_port"] == "3001"


def test_monit_starts_grafana_with_the_provisioning_environment(tmp_path):
    stack, context, _ = _render_with_grafana(tmp_path)
    [grafana] = [s for s in context["services"] if s["name"] == "grafana"]
    assert f"PROMETHEUS_URL=http://127.0.0.1:{stack.ports['prometheus']}" in grafana["start"]
    assert f"GRAFANA_DASHBOARDS_DIR={ROOT / 'grafana' / 'dashboards'}" in grafana["start"]
    assert f"--config {stack.conf / 'grafana.ini'}" in grafana["start"]
    assert grafana["port"] == stack.ports["grafana"]


def test_without_grafana_the_board_takes_the_grafana_port_and_up_says_why(tmp_path, capsys):
    stack = Stack.from_env({"PIGGY_RUN_DIR": str(tmp_path), "PIGGY_PORT_OFFSET": "23000"})
    (tmp_path / "grafana-unavailable").write_text("https://apt.grafana.com is not reachable from this machine\n")
    with mock.patch.object(render, "grafana_binary", return_value=None):
        context = render.render_native(stack, SECRETS)
    assert not (stack.conf / "grafana.ini").exists()
    assert "grafana" not in {s["name"] for s in context["services"]}
    nginx = (stack.conf / "nginx.conf").read_text()
    assert f"listen 127.0.0.1:{stack.ports['grafana']};" in nginx and nginx.startswith("# ")
    assert f"load_module {render.NJS_MODULE};" in nginx
    board = json.loads((stack.conf / "board.json").read_text())
    assert board["home"] == "piggybank-overview.json"
    assert board["grafanaVersion"] == (ROOT / "grafana" / "VERSION").read_text().strip()
    assert board["whyNoGrafana"] == "https://apt.grafana.com is not reachable from this machine"
    with mock.patch.object(control, "grafana_binary", return_value=None):
        control.print_welcome(stack)
    assert (f"Dashboard  http://localhost:{stack.ports['grafana']}  (PiggyBank board: https://apt.grafana.com is not "
            "reachable from this machine)") in capsys.readouterr().out


def test_with_grafana_nginx_leaves_the_grafana_port_to_it(tmp_path):
    _, context, _ = _render_with_grafana(tmp_path)
    nginx = (tmp_path / "conf" / "nginx.conf").read_text()
    assert context["board"] is False and "js_import" not in nginx and "load_module" not in nginx
    assert f":{context['ports']['grafana']};" not in nginx and not (tmp_path / "conf" / "board.json").exists()


def test_piggy_grafana_off_runs_the_board_even_where_grafana_is_installed(tmp_path):
    from stack.settings import grafana_binary

    with mock.patch("shutil.which", return_value="/usr/sbin/grafana"):
        assert grafana_binary({"PIGGY_GRAFANA": "off"}) is None
        assert grafana_binary({}) == "/usr/sbin/grafana"


def test_the_grafana_version_is_written_down_once_and_the_sdk_is_pinned():
    version = (ROOT / "grafana" / "VERSION").read_text().strip()
    assert re.fullmatch(r"12\.\d+\.\d+", version)
    package = json.loads((dash.TYPECHECK / "package.json").read_text())
    lock = json.loads((dash.TYPECHECK / "package-lock.json").read_text())
    for name, wanted in package["devDependencies"].items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", wanted), f"{name} is not pinned exactly: {wanted}"
        assert lock["packages"][f"node_modules/{name}"]["version"] == wanted
