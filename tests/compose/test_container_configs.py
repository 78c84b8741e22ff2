"""The containers' configs are the native templates rendered with other addresses and paths.

Both are rendered here and compared after masking exactly the context values that differ by
design; then the container configs are checked by the tools (nginx -t, haproxy -c, monit -t, promtool, amtool)
at their container paths (tests/compose/containerfs.py).
"""

import configparser
import os
import re
import shlex
import stat
from pathlib import Path, PurePath
from unittest import mock

import pytest

from stack import render
from stack.settings import ROOT, Stack
from tests.compose.conftest import run
from tests.compose.containerfs import quote, run_in_layout

CONF = render.COMPOSE_CONF


def native_files(tmp_path_factory, secrets, nodes: int) -> tuple[dict, dict[str, str]]:
    """The native context and files where Grafana is installed, as in the containers (grafana.ini
    is rendered, nginx leaves the Grafana port to Grafana; natively without Grafana, PiggyBank's board
    takes it: tests/observability/test_dashboards.py), each database node's files as
    "<template name>@<node index>"."""
    run_dir = tmp_path_factory.mktemp("native") / "run"
    stack = Stack.from_env({"PIGGY_RUN_DIR": str(run_dir), "PIGGY_PORT_OFFSET": "0", "PIGGY_DB_NODES": str(nodes)})
    with mock.patch.object(render, "grafana_binary", return_value="/usr/sbin/grafana"):
        context = render.native_context(stack, secrets)
    templates = render.environment()
    files = {name: templates.get_template(template).render(**context) for name, template in render.TEMPLATES.items()}
    files["grafana.ini"] = templates.get_template(render.GRAFANA_TEMPLATE).render(**context)
    for index, node in enumerate(context["db_nodes"]):
        for name, template in render.NODE_TEMPLATES.items():
            files[f"{name}@{index}"] = templates.get_template(template).render(**context, node=node)
    return context, files


def node_file(context: dict, files: dict[str, str], name: str, index: int) -> str:
    """A database node's file among the containers' files."""
    node = context["db_nodes"][index]
    return files[f"{node['dir'] if name == 'my.cnf' else node['exporter_dir']}/my.cnf"]


@pytest.fixture(scope="module")
def native(tmp_path_factory, secrets) -> tuple[dict, dict[str, str]]:
    return native_files(tmp_path_factory, secrets, 1)


@pytest.fixture(scope="module")
def containers(secrets) -> tuple[dict, dict[str, str]]:
    return render.compose_context(secrets), render.compose_files(secrets)


@pytest.fixture(scope="module")
def native_cluster(tmp_path_factory, secrets) -> tuple[dict, dict[str, str]]:
    return native_files(tmp_path_factory, secrets, 3)


@pytest.fixture(scope="module")
def containers_cluster(secrets) -> tuple[dict, dict[str, str]]:
    env = {"PIGGY_DB_NODES": "3"}
    return render.compose_context(secrets, env), render.compose_files(secrets, env)


def addresses(*contexts) -> set[str]:
    found = {"127.0.0.1", "localhost", "0.0.0.0"}
    for context in contexts:
        found |= set(context["hosts"].values()) | {context["listen"], context["db_bind"]}
        # (the app server service's name is the name of a Monit service too; where it is an address,
        # mask_app_server_lists covers it)
        found |= {server["host"] for server in context["app_servers"]} - {render.COMPOSE_APP_SERVICE}
        found |= {node[key] for node in context["db_nodes"] for key in ("host", "exporter_host")}
    return found


def mask(text: str, context: dict, address_tokens: set[str]) -> str:
    """Replace the values that differ by design: start programs and pid files of the Monit services,
    paths, the OS user of nginx's workers, `mode manual` (natively the app servers are started after
    the migration by `make up`; in compose, `depends_on` orders that), and addresses."""
    # Placeholders joined by "_", which the address pattern below never matches inside.
    for service in context["services"]:
        text = text.replace(service["start"], f"<start_{service['name']}>")
    # A database node's paths by their role (in containers every node has the same ones).
    places = [(str(value), f"<path_{key}>") for key, value in context["paths"].items()]
    for node in context["db_nodes"]:
        places += [(str(value), f"<path_db_{key}>") for key, value in {**node, **(node["galera"] or {})}.items()
                   if isinstance(value, PurePath)]
    for value, placeholder in sorted(places, key=lambda item: -len(item[0])):
        text = text.replace(value, placeholder)
    # A Galera node's ports (natively a base + its number; the standard ones in its container) and the
    # OS user its state transfer authenticates as; natively mariadbd runs as root (`user` in my.cnf).
    for node in context["db_nodes"]:
        if node["galera"]:
            ports = {**{key: node["galera"][key] for key in ("gmcast", "ist", "sst", "check")},
                     "exporter": node["exporter_port"]}
            for key, port in ports.items():
                text = re.sub(rf"(?<![\w.-]){port}(?!\d)", f"<port_{key}>", text)
            # its client port where the node is meant (natively base + number; 3307 also names HAProxy's writer)
            for pattern in (f"{node['host']}:{node['port']}", f"port = {node['port']}\n", f"port {node['port']} "):
                text = text.replace(pattern, pattern.replace(str(node["port"]), "<port_db>"))
            text = text.replace(f"wsrep_sst_auth = {node['galera']['sst_user']}:", "wsrep_sst_auth = <os user>:")
    text = re.sub(r"(?m)^user = root\n", "", text)
    for service in context["services"]:
        text = text.replace(str(service["pidfile"]), f"<pidfile_{service['name']}>")
    text = re.sub(r"(?m)^user \S+;\n", "", text)
    for resolving in (" resolvers docker resolve-opts prevent-dup-ip init-addr last,libc,none",  # Docker's DNS
                      " resolvers docker init-addr last,libc,none"):
        text = text.replace(resolving, "")
    text = re.sub(r"(?m)^resolvers docker\n(?:    .*\n)*", "", text)
    text = re.sub(r"(?m)^.*(resolver|Container addresses change).*\n\n?", "", text).replace(" resolve;", ";")
    text = re.sub(r"(?m)^    mode manual$\n?", "", text)
    text = mask_app_server_lists(text)
    tokens = "|".join(re.escape(t) for t in sorted(address_tokens, key=len, reverse=True))
    return re.sub(rf"(?<![\w.-])({tokens})(?![\w-])", "<addr>", text)


def mask_app_server_lists(text: str) -> str:
    """Where the app servers are listed, by design the other difference: natively each one by name
    and port, in containers the replicas of one service found through Docker's DNS (HAProxy's
    server-template, Prometheus' dns_sd_configs)."""
    text = re.sub(r"(?m)^    server(?:-template)? (fallback-|)appserver\S* .*\n(?:    server \1appserver.*\n)*",
                  lambda m: f"    <app servers{' fallback' if m.group(1) else ''}>\n", text)
    # a Prometheus job's targets: from its static_configs or dns_sd_configs up to relabel_configs or the next job
    return re.sub(r"(?ms)^    (?:static|dns_sd)_configs:.*?(?=^  - job_name|^    metric_relabel_configs|\Z)",
                  lambda m: "    <targets>\n\n" if "appserver" in m.group(0) else m.group(0), text)


def monit_blocks(text: str) -> tuple[str, dict[str, str]]:
    """A rendered monitrc: its header, and each service's block by name."""
    starts = list(re.finditer(r"(?m)^# ([\w-]+): .*\n(?:#.*\n)*check process \1 ", text))
    blocks = {m.group(1): text[m.start():(starts[i + 1].start() if i + 1 < len(starts) else len(text))].strip()
              for i, m in enumerate(starts)}
    return text[:starts[0].start()].strip(), blocks


@pytest.mark.parametrize("topology", ["single", "cluster"])
def test_every_native_template_is_rendered_for_the_containers(topology, request):
    context, files = request.getfixturevalue("containers" if topology == "single" else "containers_cluster")
    assert set(render.TEMPLATES) <= set(render.COMPOSE_OUTPUTS)
    expected = {render.COMPOSE_OUTPUTS[name] for name in render.TEMPLATES if name != "monitrc"}
    expected |= {f"{container}/monitrc" for container in render.monit_containers(context["db_nodes"])}
    for node in context["db_nodes"]:
        expected |= {f"{node['dir']}/my.cnf", f"{node['dir']}/init.sql", f"{node['exporter_dir']}/my.cnf"}
    assert set(files) == expected | {render.COMPOSE_GRAFANA_INI, render.COMPOSE_APP_SECRETS,
                                     render.COMPOSE_GRAFANA_PASSWORD}
    assert len(context["db_nodes"]) == (1 if topology == "single" else 3)


@pytest.mark.parametrize("topology", ["single", "cluster"])
def test_container_configs_equal_the_native_ones_but_for_addresses_and_paths(topology, request):
    suffix = "" if topology == "single" else "_cluster"
    native_context, native_files_ = request.getfixturevalue("native" + suffix)
    compose_context, compose_files = request.getfixturevalue("containers" + suffix)
    tokens = addresses(native_context, compose_context)
    compared = [*[(name, render.COMPOSE_OUTPUTS[name], name) for name in render.TEMPLATES if name != "monitrc"],
                ("grafana.ini", render.COMPOSE_GRAFANA_INI, "grafana.ini")]
    for index, _node in enumerate(compose_context["db_nodes"]):
        for name in render.NODE_TEMPLATES:
            compared.append((f"{name}@{index}", None, f"{name}@{index}"))
    for label, relative, native_name in compared:
        if relative is None:
            name, index = label.split("@")
            ours = node_file(compose_context, compose_files, name, int(index))
        else:
            ours = compose_files[relative]
        theirs = native_files_[native_name]
        assert ours != theirs, f"{label}: nothing differs at all, so the containers would use native addresses"
        assert mask(ours, compose_context, tokens) == mask(theirs, native_context, tokens), label

    def masked_blocks(text, context):
        header, blocks = monit_blocks(text)
        return mask(header, context, tokens), {name: mask(block, context, tokens).strip()
                                               for name, block in blocks.items()}

    native_header, native_blocks = masked_blocks(native_files_["monitrc"], native_context)
    for container, names in render.monit_containers(compose_context["db_nodes"]).items():
        header, blocks = masked_blocks(compose_files[f"{container}/monitrc"], compose_context)
        assert header == native_header, f"{container}/monitrc: the header differs from the native one"
        assert set(blocks) == set(names)
        for name in names:
            # each replica's app server is checked as natively appserver1 is, under the service's name
            native_name = "appserver1" if name == render.COMPOSE_APP_SERVICE else name
            theirs = native_blocks[native_name].replace(f"<start_{native_name}>", f"<start_{name}>").replace(
                f"<pidfile_{native_name}>", f"<pidfile_{name}>").replace(f"# {native_name}:", f"# {name}:").replace(
                f"check process {native_name} ", f"check process {name} ")
            assert blocks[name] == theirs, f"{container}/monitrc: {name} differs from the native check"


def test_the_containers_use_their_own_addresses(containers):
    _, files = containers
    nginx = files["nginx/nginx.conf"]
    assert "server haproxy:8000 max_fails=0 resolve;" in nginx
    assert "listen 0.0.0.0:8080 ssl" in nginx and "user nginx;" in nginx
    haproxy = files["haproxy/haproxy.cfg"]
    assert "server-template appserver 1-2 appserver:8001\n" in haproxy  # PIGGY_APP_SERVERS' default
    assert "bind 0.0.0.0:8000\n" in haproxy and "nameserver dns 127.0.0.11:53" in haproxy
    assert "js_import" not in nginx and ":5000" not in nginx  # Grafana has the Grafana port in containers
    prometheus = files["prometheus/prometheus.yml"]
    for target in ("- names: ['appserver']", "mysqld-exporter:9104", "alertmanager:9093",
                   "https://nginx:8080/api/healthcheck", "blackbox-exporter:9115", "haproxy:8404"):
        assert target in prometheus
    assert "http://alert-sink:9095/alerts" in files["alertmanager/alertmanager.yml"]
    assert "resolver 127.0.0.11 " in nginx
    assert "127.0.0.1" not in nginx.replace("resolver 127.0.0.11 ", "") + haproxy.replace(
        "nameserver dns 127.0.0.11:53", "") + prometheus + files[
        "alertmanager/alertmanager.yml"]  # Docker's DNS is the one loopback address a container config names
    assert "bind-address = 0.0.0.0" in files["db/my.cnf"]


def test_the_start_programs_run_what_runs_natively(native, containers):
    def command(service):
        return shlex.split(service["start"].replace('\\"', '"'))

    theirs = {s["name"]: command(s) for s in native[0]["services"]}
    ours = {s["name"]: command(s) for s in containers[0]["services"]}
    for name, args in ours.items():
        native_name = "appserver1" if name == render.COMPOSE_APP_SERVICE else name
        assert Path(args[0]).name == Path(theirs[native_name][0]).name == "start.sh", name
    app = render.COMPOSE_APP_SERVICE
    assert ours[app][-2:] == theirs["appserver1"][-2:] == ["-m", "app"]
    env = {a.split("=")[0]: a.split("=", 1)[1] for a in ours[app] if re.match(r"PIGGY_\w+=", a)}
    native_env = {a.split("=")[0]: a.split("=", 1)[1] for a in theirs["appserver1"] if re.match(r"PIGGY_\w+=", a)}
    for key in ("PIGGY_PORT", "PIGGY_DB_PORT"):
        assert env[key] == native_env[key], key
    assert "PIGGY_INSTANCE" not in env  # a replica is named by its hostname
    assert env["PIGGY_DB_HOST"] == "db" and env["PIGGY_BIND"] == "0.0.0.0"
    # both read their secrets from a file: natively the run directory's, here the config volume's own
    assert native_env["PIGGY_SECRETS_FILE"].endswith("/secrets.env")
    assert env["PIGGY_SECRETS_FILE"] == f"{CONF}/{render.COMPOSE_APP_SECRETS}"
    assert Path(ours["mariadb"][3]).name == Path(theirs["mariadb"][3]).name == "mariadbd"
    assert ours["mariadb"][4] == f"--defaults-file={CONF}/db/my.cnf"
    assert f"--init-file={CONF}/db/init.sql" in ours["mariadb"]


def test_db_init_sql_is_the_native_user_sql_for_the_compose_network(containers, secrets):
    from stack.database import user_statements

    sql = containers[1]["db/init.sql"]
    native = user_statements(secrets)
    assert sql.count(";\n") == len(user_statements(secrets, hosts=("%",)))
    assert sql.replace("'%'", "'127.0.0.1'") == "".join(f"{s};\n" for s in native[:8])
    assert secrets["PIGGY_DB_PASSWORD"] in sql and "'localhost'" not in sql


def test_grafana_ini_and_exporter_credentials_parse(containers, secrets):
    files = containers[1]
    grafana = configparser.ConfigParser(inline_comment_prefixes=None)
    grafana.read_string(files[render.COMPOSE_GRAFANA_INI])
    assert grafana["server"]["http_port"] == "5000" and grafana["server"]["http_addr"] == "0.0.0.0"
    assert grafana["auth.anonymous"]["enabled"] == "true" and grafana["auth.anonymous"]["org_role"] == "Viewer"
    # the admin password is a file of its own (GF_SECURITY_ADMIN_PASSWORD__FILE), not in grafana.ini
    assert "admin_password" not in grafana["security"] and secrets["PIGGY_GRAFANA_ADMIN_PASSWORD"] not in files[
        render.COMPOSE_GRAFANA_INI]
    assert files[render.COMPOSE_GRAFANA_PASSWORD] == secrets["PIGGY_GRAFANA_ADMIN_PASSWORD"]
    app = dict(line.split("=", 1) for line in files[render.COMPOSE_APP_SECRETS].splitlines())
    assert app == {name: secrets[name] for name in ("PIGGY_JWT_SECRET", "PIGGY_TAN_SECRET", "PIGGY_DB_PASSWORD")}
    exporter = configparser.ConfigParser()
    exporter.read_string(files["mysqld-exporter/my.cnf"])
    assert dict(exporter["client"]) == {"user": "exporter", "password": secrets["PIGGY_EXPORTER_DB_PASSWORD"],
                                        "host": "db", "port": "3307"}


def test_the_config_service_command_renders_the_volume(tmp_path, env_file):
    """What the `config` service runs, with nothing set: the secrets generated once and kept, every
    file with its reader's uid and mode, and a certificate made once and then kept; a secret in the
    environment (.env, from `make compose-env`) replaces the stored one."""
    from stack import secrets as stack_secrets

    out, tls, secrets_file = tmp_path / "config", tmp_path / "tls", tmp_path / "secrets" / "secrets.env"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PIGGY_")}, "PYTHONPATH": str(ROOT)}
    command = [str(ROOT / ".venv/bin/python"), "-m", "stack", "render", "--target", "compose", "--out", out,
               "--secrets", secrets_file, "--tls", tls, *(["--chown"] if os.geteuid() == 0 else [])]
    first = run(*command, env=env, cwd=ROOT).stdout
    assert f"secrets {secrets_file}: generated now" in first
    generated = stack_secrets.read(secrets_file)
    assert set(generated) == set(stack_secrets.NAMES) and all(len(v) >= 32 for v in generated.values())
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(secrets_file.parent.stat().st_mode) == 0o700
    for relative in render.compose_files(generated):
        path = out / relative
        uid, mode = render.compose_owners(render.compose_db_nodes(1)).get(relative, (0, 0o644))
        assert stat.S_IMODE(path.stat().st_mode) == mode, relative
        if os.geteuid() == 0:
            assert path.stat().st_uid == uid, relative
    assert generated["PIGGY_DB_PASSWORD"] in (out / "db" / "init.sql").read_text()
    key = (tls / "key.pem").read_bytes()
    assert stat.S_IMODE((tls / "key.pem").stat().st_mode) == 0o600
    second = run(*command, env=env, cwd=ROOT).stdout  # the second start keeps everything
    assert f"secrets {secrets_file}: kept" in second and "TLS certificate" in second and "kept" in second
    assert stack_secrets.read(secrets_file) == generated and (tls / "key.pem").read_bytes() == key
    text = run("openssl", "x509", "-in", tls / "cert.pem", "-noout", "-text").stdout
    assert "DNS:localhost" in text
    own = stack_secrets.read(env_file)  # what `make compose-env` wrote, handed over by compose
    third = run(*command, env={**env, **own}, cwd=ROOT).stdout
    assert "updated from the environment" in third and stack_secrets.read(secrets_file) == own


# --- the tools, at the container paths ----------------------------------------------------------------

def check_in_layout(work: Path, context: dict, env: dict[str, str]) -> dict:
    """nginx -t, haproxy -c, monit -t, promtool and amtool on the container configs, at their container paths."""
    conf = work / "config"
    render.render_compose(conf, context["secrets"], env)  # without --chown: the checks run as root
    # Debian's nginx 1.22 predates "resolve" on upstream servers (open source since 1.27.3; the image has 1.28)
    nginx_conf = conf / "nginx" / "nginx.conf"
    nginx_conf.write_text(nginx_conf.read_text().replace(" resolve;", ";"))
    tls = work / "tls"
    from stack import tls as certificates

    certificates.ensure_certificate(tls)
    paths = context["paths"]
    www = ROOT / "frontend" / "dist"
    layout = {
        str(CONF): conf,
        str(render.COMPOSE_TLS): tls,
        str(render.COMPOSE_ROOT / "monit"): ROOT / "monit",
        str(render.COMPOSE_ROOT / "mariadb"): ROOT / "mariadb",
        str(paths["www"]): www if (www / "index.html").exists() else ROOT / "nginx" / "placeholder",
        str(paths["prometheus_rules"]): ROOT / "prometheus" / "rules",
        str(paths["monit_dir"]) + "/.keep": "",
        str(paths["nginx_temp"]) + "/.keep": "",
        str(paths["nginx_logs"]) + "/.keep": "",
        str(paths["haproxy_socket"].parent) + "/.keep": "",
    }
    commands = {
        "nginx": quote("nginx", "-t", "-c", f"{CONF}/nginx/nginx.conf"),
        "haproxy": quote("haproxy", "-c", "-f", f"{CONF}/haproxy/haproxy.cfg"),
        "promtool": quote("promtool", "check", "config", f"{CONF}/prometheus/prometheus.yml"),
        "amtool": quote("amtool", "check-config", f"{CONF}/alertmanager/alertmanager.yml"),
    }
    for container in render.monit_containers(context["db_nodes"]):
        commands[f"monit {container}"] = quote("monit", "-t", "-c", f"{CONF}/{container}/monitrc")
    hosts = sorted(set(context["hosts"].values()) | {s["host"] for s in context["app_servers"]}
                   | {node[key] for node in context["db_nodes"] for key in ("host", "exporter_host")})
    return run_in_layout(work, layout, commands, hosts)


@pytest.fixture(scope="module")
def checked(tmp_path_factory, containers) -> dict:
    return check_in_layout(tmp_path_factory.mktemp("containerfs"), containers[0], {})


@pytest.fixture(scope="module")
def checked_cluster(tmp_path_factory, containers_cluster) -> dict:
    return check_in_layout(tmp_path_factory.mktemp("containerfs"), containers_cluster[0], {"PIGGY_DB_NODES": "3"})


def test_the_cluster_configs_pass_haproxy_monit_and_promtool(checked_cluster):
    """With docker-compose.galera.yml: HAProxy with its writer section, each node's control file."""
    for name in ("haproxy", "promtool", "monit db1", "monit db2", "monit db3"):
        assert checked_cluster[name].returncode == 0, (name, checked_cluster[name].output)
    assert "WARNING" not in checked_cluster["haproxy"].output, checked_cluster["haproxy"].output


def test_the_cluster_in_containers_has_one_writer_address_and_a_probe_per_node(containers_cluster):
    context, files = containers_cluster
    haproxy = files["haproxy/haproxy.cfg"].split("listen galera_writer", 1)[1]
    assert "bind 0.0.0.0:3307" in haproxy and not re.search(r"(?m)^\s*server .* backup", haproxy)
    for node, host in zip(("db1", "db2", "db3"), ("db", "db2", "db3"), strict=True):
        assert f"server {node} {host}:3307 check port 9200" in haproxy
        monitrc = files[f"{node}/monitrc"]
        assert f"check process {node} " in monitrc and f"check process {node}-check " in monitrc
        assert "galera-start.sh" in monitrc and "--listen 0.0.0.0:9200" in monitrc
        assert "wsrep_cluster_address = gcomm://db:4567,db2:4567,db3:4567" in files[f"{node}/my.cnf"]
        assert f"host = {host}" in files[f"mysqld-exporter-{node}/my.cnf"]
    assert "PIGGY_DB_HOST=haproxy " in files[f"{render.COMPOSE_APP_SERVICE}/monitrc"]
    prometheus = files["prometheus/prometheus.yml"]
    for target in ("mysqld-exporter:9104", "mysqld-exporter-db2:9104", "mysqld-exporter-db3:9104"):
        assert target in prometheus


def test_nginx_accepts_the_container_config(checked):
    assert checked["nginx"].returncode == 0, checked["nginx"].output
    assert "test is successful" in checked["nginx"].output


def test_haproxy_accepts_the_container_config(checked):
    assert checked["haproxy"].returncode == 0, checked["haproxy"].output
    assert "Configuration file is valid" in checked["haproxy"].output
    assert "WARNING" not in checked["haproxy"].output


@pytest.mark.parametrize("container", sorted(render.monit_containers(render.compose_db_nodes(1))))
def test_monit_accepts_each_containers_control_file(checked, container):
    result = checked[f"monit {container}"]
    assert result.returncode == 0, result.output
    assert "Control file syntax OK" in result.output


def test_promtool_accepts_the_container_prometheus_config_and_its_rules(checked):
    result = checked["promtool"]
    assert result.returncode == 0, result.output
    assert re.search(r"SUCCESS: [1-9]\d* rules found", result.output), result.output


def test_amtool_accepts_the_container_alertmanager_config(checked):
    result = checked["amtool"]
    assert result.returncode == 0, result.output
    assert "SUCCESS" in result.output
