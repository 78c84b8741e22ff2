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
from pathlib import Path
from unittest import mock

import pytest

from stack import render
from stack.settings import ROOT, Stack
from tests.compose.conftest import run
from tests.compose.containerfs import quote, run_in_layout

CONF = render.COMPOSE_CONF


@pytest.fixture(scope="module")
def native(tmp_path_factory, secrets) -> tuple[dict, dict[str, str]]:
    """The native context and files where Grafana is installed, as in the containers (grafana.ini
    is rendered, nginx leaves the Grafana port to Grafana; natively without Grafana, PiggyBank's board
    takes it: tests/observability/test_dashboards.py)."""
    run_dir = tmp_path_factory.mktemp("native") / "run"
    stack = Stack.from_env({"PIGGY_RUN_DIR": str(run_dir), "PIGGY_PORT_OFFSET": "0"})
    with mock.patch.object(render, "grafana_binary", return_value="/usr/sbin/grafana"):
        context = render.native_context(stack, secrets)
    templates = render.environment()
    files = {name: templates.get_template(template).render(**context) for name, template in render.TEMPLATES.items()}
    files["grafana.ini"] = templates.get_template(render.GRAFANA_TEMPLATE).render(**context)
    return context, files


@pytest.fixture(scope="module")
def containers(secrets) -> tuple[dict, dict[str, str]]:
    return render.compose_context(secrets), render.compose_files(secrets)


def addresses(*contexts) -> set[str]:
    found = {"127.0.0.1", "localhost", "0.0.0.0"}
    for context in contexts:
        found |= set(context["hosts"].values()) | {context["listen"], context["db_bind"]}
        # (the app server service's name is the name of a Monit service too; where it is an address,
        # mask_app_server_lists covers it)
        found |= {server["host"] for server in context["app_servers"]} - {render.COMPOSE_APP_SERVICE}
    return found


def mask(text: str, context: dict, address_tokens: set[str]) -> str:
    """Replace the values that differ by design: start programs and pid files of the Monit services,
    paths, the OS user of nginx's workers, `mode manual` (natively the app servers are started after
    the migration by `make up`; in compose, `depends_on` orders that), and addresses."""
    # Placeholders joined by "_", which the address pattern below never matches inside.
    for service in context["services"]:
        text = text.replace(service["start"], f"<start_{service['name']}>")
    for key, value in sorted(context["paths"].items(), key=lambda item: -len(str(item[1]))):
        text = text.replace(str(value), f"<path_{key}>")
    for service in context["services"]:
        text = text.replace(str(service["pidfile"]), f"<pidfile_{service['name']}>")
    text = re.sub(r"(?m)^user \S+;\n", "", text)
    text = text.replace(" resolvers docker resolve-opts prevent-dup-ip init-addr last,libc,none", "")  # Docker's DNS
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


def test_every_native_template_is_rendered_for_the_containers(containers):
    _, files = containers
    assert set(render.TEMPLATES) <= set(render.COMPOSE_OUTPUTS)
    expected = {render.COMPOSE_OUTPUTS[name] for name in render.TEMPLATES if name != "monitrc"}
    expected |= {f"{container}/monitrc" for container in render.MONIT_CONTAINERS}
    assert set(files) == expected | {"db/init.sql", render.COMPOSE_GRAFANA_INI, render.COMPOSE_APP_SECRETS,
                                     render.COMPOSE_GRAFANA_PASSWORD}


def test_container_configs_equal_the_native_ones_but_for_addresses_and_paths(native, containers):
    native_context, native_files = native
    compose_context, compose_files = containers
    tokens = addresses(native_context, compose_context)
    for name in [*render.TEMPLATES, "grafana.ini"]:
        if name == "monitrc":
            continue
        ours = compose_files[render.COMPOSE_GRAFANA_INI if name == "grafana.ini" else render.COMPOSE_OUTPUTS[name]]
        theirs = native_files[name]
        assert ours != theirs, f"{name}: nothing differs at all, so the containers would use native addresses"
        assert mask(ours, compose_context, tokens) == mask(theirs, native_context, tokens), name
    def masked_blocks(text, context):
        header, blocks = monit_blocks(text)
        return mask(header, context, tokens), {name: mask(block, context, tokens).strip()
                                               for name, block in blocks.items()}

    native_header, native_blocks = masked_blocks(native_files["monitrc"], native_context)
    for container, names in render.MONIT_CONTAINERS.items():
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
        uid, mode = render.COMPOSE_OWNERS.get(relative, (0, 0o644))
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

@pytest.fixture(scope="module")
def checked(tmp_path_factory, containers) -> dict:
    """nginx -t, haproxy -c, monit -t, promtool and amtool on the container configs, at their container paths."""
    work = tmp_path_factory.mktemp("containerfs")
    context, files = containers
    conf = work / "config"
    render.render_compose(conf, context["secrets"])  # without --chown: the checks run as root
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
    for container in render.MONIT_CONTAINERS:
        commands[f"monit {container}"] = quote("monit", "-t", "-c", f"{CONF}/{container}/monitrc")
    hosts = sorted(set(context["hosts"].values()) | {s["host"] for s in context["app_servers"]})
    return run_in_layout(work, layout, commands, hosts)


def test_nginx_accepts_the_container_config(checked):
    assert checked["nginx"].returncode == 0, checked["nginx"].output
    assert "test is successful" in checked["nginx"].output


def test_haproxy_accepts_the_container_config(checked):
    assert checked["haproxy"].returncode == 0, checked["haproxy"].output
    assert "Configuration file is valid" in checked["haproxy"].output
    assert "WARNING" not in checked["haproxy"].output


@pytest.mark.parametrize("container", sorted(render.MONIT_CONTAINERS))
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
