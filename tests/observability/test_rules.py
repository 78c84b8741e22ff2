"""Prometheus' rules and configuration: promtool's checks and unit tests, every alert tested both
ways, each with its severity, annotations and a runbook section that exists. No stack needed."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from stack import render
from stack.settings import ROOT, Stack

RULES = sorted((ROOT / "prometheus" / "rules").glob("*.yml"))
RULE_TESTS = sorted((ROOT / "prometheus" / "tests").glob("*.yml"))
RUNBOOK = ROOT / "docs" / "runbook.md"
SEVERITIES = {"critical", "warning"}
SECRETS = {name: f"test-{name.lower()}" for name in (
    "PIGGY_JWT_SECRET", "PIGGY_TAN_SECRET", "PIGGY_DB_PASSWORD", "PIGGY_EXPORTER_DB_PASSWORD",
    "PIGGY_MONIT_PASSWORD", "PIGGY_GRAFANA_ADMIN_PASSWORD")}


def promtool(*args, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(["promtool", *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=120)


def rules() -> list[dict]:
    return [rule for path in RULES for group in yaml.safe_load(path.read_text())["groups"]
            for rule in group["rules"]]


def alerts() -> list[dict]:
    return [rule for rule in rules() if "alert" in rule]


def alert_names() -> list[str]:
    return sorted({rule["alert"] for rule in alerts()})


def github_anchor(heading: str) -> str:
    """The anchor GitHub (and most Markdown renderers) give a heading."""
    slug = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return slug.replace(" ", "-")


def runbook_anchors() -> set[str]:
    return {github_anchor(line.lstrip("#")) for line in RUNBOOK.read_text().splitlines()
            if re.match(r"^#{1,6} ", line)}


def test_promtool_check_rules():
    done = promtool("check", "rules", *RULES)
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(RULES) >= 2


def test_promtool_unit_tests_pass():
    done = promtool("test", "rules", *RULE_TESTS)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("SUCCESS") == len(RULE_TESTS)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """The native stack's configuration rendered into a scratch run directory (nothing started)."""
    run = tmp_path_factory.mktemp("run")
    stack = Stack.from_env({"PIGGY_RUN_DIR": str(run), "PIGGY_PORT_OFFSET": "23000"})
    render.render_native(stack, SECRETS)
    return stack


def test_promtool_check_config_on_the_rendered_configuration(rendered):
    done = promtool("check", "config", rendered.conf / "prometheus.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    for path in RULES:  # the rule files are found through the rendered rule_files glob
        assert f"Checking {path}" in done.stdout


def test_amtool_check_config_on_the_rendered_alertmanager_configuration(rendered):
    done = subprocess.run(["amtool", "check-config", str(rendered.conf / "alertmanager.yml")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 receivers" in done.stdout and "inhibit rules" in done.stdout


def test_the_rendered_configuration_scrapes_each_app_server_on_its_own(rendered):
    config = yaml.safe_load((rendered.conf / "prometheus.yml").read_text())
    app = next(job for job in config["scrape_configs"] if job["job_name"] == "app")
    targets = {group["labels"]["appserver"]: group["targets"] for group in app["static_configs"]}
    assert targets == {"appserver1": [f"127.0.0.1:{rendered.ports['app1']}"],
                       "appserver2": [f"127.0.0.1:{rendered.ports['app2']}"]}
    haproxy = next(job for job in config["scrape_configs"] if job["job_name"] == "haproxy")
    assert haproxy["static_configs"] == [{"targets": [f"127.0.0.1:{rendered.ports['haproxy_stats']}"]}]
    assert config["rule_files"] == [f"{ROOT / 'prometheus' / 'rules'}/*.yml"]


@pytest.mark.parametrize("name", alert_names())
def test_every_alert_has_for_severity_summary_description_and_runbook(name):
    for rule in (r for r in alerts() if r["alert"] == name):
        assert rule.get("for"), f"{name}: no `for` (a single bad scrape would page)"
        assert rule["labels"]["severity"] in SEVERITIES, name
        annotations = rule["annotations"]
        assert set(annotations) >= {"summary", "description", "runbook_url"}, name
        assert "{{" in annotations["summary"] + annotations["description"] or name in {
            "AllAppServersDown", "DatabaseDown", "GaleraQuorumLost"  # each about the whole of something
        }, f"{name}: the text should name what is affected from its labels or value"
        assert annotations["runbook_url"] == f"docs/runbook.md#{name.lower()}"


@pytest.mark.parametrize("name", alert_names())
def test_every_alert_has_its_runbook_section(name):
    anchors = runbook_anchors()
    for rule in (r for r in alerts() if r["alert"] == name):
        path, anchor = rule["annotations"]["runbook_url"].split("#")
        assert (ROOT / path) == RUNBOOK
        assert anchor in anchors, f"docs/runbook.md has no section #{anchor}"


def test_the_runbook_has_no_section_for_an_alert_that_does_not_exist():
    sections = {line[3:].strip() for line in RUNBOOK.read_text().splitlines() if line.startswith("## ")}
    assert sections - {"Where to look"} == set(alert_names())


def test_recording_rules_are_named_level_metric_operations():
    records = [rule["record"] for rule in rules() if "record" in rule]
    assert records
    for name in records:
        assert re.fullmatch(r"[a-z_]+:[a-z0-9_]+:[a-z0-9_]+", name), name


def _unit_tests() -> list[dict]:
    return [case for path in RULE_TESTS for case in yaml.safe_load(path.read_text())["tests"]]


@pytest.mark.parametrize("name", alert_names())
def test_every_alert_is_unit_tested_firing_and_silent(name):
    checks = [check for case in _unit_tests() for check in case.get("alert_rule_test", [])
              if check["alertname"] == name]
    firing = [alert for check in checks for alert in check["exp_alerts"]]
    assert firing, f"no promtool test expects {name} to fire"
    assert any(not check["exp_alerts"] for check in checks), f"no promtool test expects {name} to stay silent"
    severities = {rule["labels"]["severity"] for rule in alerts() if rule["alert"] == name}
    assert {alert["exp_labels"]["severity"] for alert in firing} == severities
    for alert in firing:  # the annotations are asserted word for word, runbook link included
        assert set(alert["exp_annotations"]) == {"summary", "description", "runbook_url"}, name


# Each mutation breaks rules the way a careless edit would (every occurrence of the text is
# replaced); the unit tests of the named files must notice it.
MUTATIONS = {
    "AppServerDown fires at once": ("piggybank-alerts.yml", 'up{job="app"} == 0\n        for: 15s',
                                    'up{job="app"} == 0\n        for: 1s', ["availability"]),
    "DatabaseDown never fires": ("piggybank-alerts.yml", '< 10)) == 0', '< 10)) < 0', ["database", "galera"]),
    "DatabaseDown for one node of a cluster": ("piggybank-alerts.yml", 'max by (job) (mysql_up{job="mysqld"}',
                                               'min by (job) (mysql_up{job="mysqld"}', ["galera"]),
    "DatabaseDown hidden by the other topology's lingering series": (
        "piggybank-alerts.yml", ' and on (instance) (time() - timestamp(up{job="mysqld"}) < 10)', "", ["galera"]),
    "GaleraNodeDown for the single MariaDB": (
        "piggybank-galera.yml", '\n          and on () count(time() - timestamp(up{job="mysqld"}) < 10) > 1', "",
        ["galera"]),
    "GaleraNodeDown for the other topology's lingering series": (
        "piggybank-galera.yml", '\n          and on (instance) (time() - timestamp(up{job="mysqld"}) < 10)', "",
        ["galera"]),
    "GaleraNodeDown misses a dead node": ("piggybank-galera.yml", 'mysql_up{job="mysqld"} == 0\n            or ', "",
                                          ["galera"]),
    "GaleraQuorumLost for the single MariaDB": (
        "piggybank-galera.yml", '\n          and max by (job) (mysql_global_variables_wsrep_on{job="mysqld"}\n'
        '                            and on (instance) (time() - timestamp(up{job="mysqld"}) < 10)) == 1', "",
        ["galera"]),
    "flow control counted in seconds, not nanoseconds": ("piggybank-galera.yml", "[1m]) / 1e9 > 0.1", "[1m]) > 0.1",
                                                         ["galera"]),
    "a donor for an SST's seconds pages": ("piggybank-galera.yml", "== 2\n        for: 2m", "== 2\n        for: 5s",
                                           ["galera"]),
    "HighErrorRatio at 50 %": ("piggybank-alerts.yml", "ratio_rate5m > 0.05", "ratio_rate5m > 0.5", ["requests"]),
    "the fast burn rate is 10x too high": ("piggybank-alerts.yml", "(14.4 * 0.001)", "(144 * 0.001)", ["slo"]),
    "the slow burn without its short window": ("piggybank-alerts.yml", "ratio_rate30m > (6 * 0.001)",
                                               "ratio_rate30m >= (0 * 0.001)", ["slo"]),
    "a wrong runbook link": ("piggybank-alerts.yml", "docs/runbook.md#sitedown", "docs/runbook.md#site",
                             ["availability"]),
    "TLS warns only a day before": ("piggybank-alerts.yml", "< 14 * 86400", "< 1 * 86400", ["tls"]),
    "flapping at the first restart": ("piggybank-alerts.yml", "[15m]) >= 3", "[15m]) >= 1", ["flapping"]),
    "a missing app server target is not noticed": ("piggybank-alerts.yml", '- count(up{job="app"}) > 0',
                                                   '- count(up{job="app"}) > 1', ["monitoring"]),
    "a missing HAProxy target is not noticed": ("piggybank-alerts.yml", '          or absent(up{job="haproxy"})\n',
                                                "", ["monitoring"]),
    "out of rotation counts the fallbacks": ("piggybank-alerts.yml", 'role="primary", state="UP"} == 0',
                                             'state="UP"} == 0', ["rotation"]),
    "out of rotation at once": ("piggybank-alerts.yml", 'state="UP"} == 0\n        for: 15s',
                                'state="UP"} == 0\n        for: 1s', ["rotation"]),
    "sign-in counted in p95": ("piggybank-recording.yml", ', url_rule!="/auth"}', "}", ["requests"]),
    "4xx counted as errors": ("piggybank-recording.yml", 'status=~"5.."', 'status=~"[45].."', ["requests", "slo"]),
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_the_unit_tests_fail_when_a_rule_is_broken(mutation, tmp_path):
    shutil.copytree(ROOT / "prometheus" / "rules", tmp_path / "rules")
    shutil.copytree(ROOT / "prometheus" / "tests", tmp_path / "tests")
    file, old, new, suites = MUTATIONS[mutation]
    path = tmp_path / "rules" / file
    text = path.read_text()
    assert old in text, f"the mutation no longer applies: {old!r}"
    path.write_text(text.replace(old, new))
    done = promtool("test", "rules", *(tmp_path / "tests" / f"{suite}_test.yml" for suite in suites), cwd=tmp_path)
    assert done.returncode == 1 and "FAILED" in done.stdout + done.stderr, done.stdout + done.stderr
