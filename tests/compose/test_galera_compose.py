"""docker-compose.galera.yml (the database as a three-node Galera cluster in containers), checked
without an engine as docker-compose.yml is: Compose accepts the two files together, the schema
accepts the result, and it runs what the rendered cluster configs expect."""

import yaml

from stack import render
from stack import secrets as stack_secrets
from stack.settings import ROOT
from tests.compose.conftest import COMPOSE_FILE, run, tool

GALERA_FILE = ROOT / "docker-compose.galera.yml"


def merged(env_file) -> dict:
    done = run(tool("docker-compose"), "-f", COMPOSE_FILE, "-f", GALERA_FILE, "--env-file", env_file, "config",
               cwd=ROOT)
    return yaml.safe_load(done.stdout)


def mount_source(volume) -> str:
    return volume["source"] if isinstance(volume, dict) else str(volume).split(":")[0]


def mount_target(volume) -> str:
    return volume["target"] if isinstance(volume, dict) else str(volume).split(":")[1]


def test_compose_accepts_the_two_files_together(env_file, tmp_path):
    run(tool("docker-compose"), "-f", COMPOSE_FILE, "-f", GALERA_FILE, "--env-file", env_file, "config", "-q",
        cwd=ROOT)
    resolved = tmp_path / "cluster.yml"
    resolved.write_text(yaml.safe_dump(merged(env_file)))
    assert "ok" in run(tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", resolved).stdout


def test_three_nodes_from_the_one_image_each_with_its_data_and_its_exporter(env_file):
    services = merged(env_file)["services"]
    context = render.compose_context({name: "x" for name in stack_secrets.NAMES}, {"PIGGY_DB_NODES": "3"})
    assert services["config"]["environment"]["PIGGY_DB_NODES"] == "3"
    volumes = set()
    for node in context["db_nodes"]:
        service = services[node["host"]]  # db (node db1), db2, db3
        assert service["image"] == services["db"]["image"]
        assert service["environment"]["PIGGY_DB_NODE"] == node["name"]
        volumes |= {mount_source(v) for v in service["volumes"] if mount_target(v) == "/var/lib/mysql"}
        assert "9200" in " ".join(service["healthcheck"]["test"]), "a node is healthy when its probe says ready"
        exporter = services[node["exporter_host"]]
        assert f"--config.my-cnf={render.COMPOSE_CONF}/{node['exporter_dir']}/my.cnf" in exporter["command"]
    assert len(volumes) == 3, "each node keeps its own data"
    assert services["db"]["environment"]["PIGGY_GALERA_FIRST"] == "1"
    for host in {*context["hosts"].values(), *(n[k] for n in context["db_nodes"] for k in ("host", "exporter_host"))}:
        assert host in services, f"{host} is named in the rendered cluster configs but is no service"
    # HAProxy, the app servers' database address, starts only once every node is ready
    assert {"db2", "db3"} <= set(services["haproxy"]["depends_on"])
    assert "/api/liveness" in " ".join(services[render.COMPOSE_APP_SERVICE]["healthcheck"]["test"])


def test_the_cluster_publishes_nothing_more(env_file):
    single = yaml.safe_load(run(tool("docker-compose"), "-f", COMPOSE_FILE, "--env-file", env_file, "config",
                                cwd=ROOT).stdout)["services"]
    cluster = merged(env_file)["services"]
    assert {name: s.get("ports") for name, s in cluster.items() if s.get("ports")} == {
        name: s.get("ports") for name, s in single.items() if s.get("ports")}
