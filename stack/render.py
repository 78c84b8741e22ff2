"""Render each component's configuration template into the run directory.

The templates live in their component's folder (nginx/, haproxy/, monit/, prometheus/, mariadb/) and are the
single source for the native stack and the containers: only addresses and paths differ, and they
come from the context built here.
"""

import json
import os
import re
import shlex
from functools import cache
from pathlib import Path, PurePosixPath

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from stack.secrets import APP_SECRETS
from stack.settings import DEFAULT_PORTS, ROOT, Stack, app_server_count, grafana_binary

TEMPLATES = {
    "nginx.conf": "nginx/nginx.conf.j2",
    "haproxy.cfg": "haproxy/haproxy.cfg.j2",
    "my.cnf": "mariadb/my.cnf.j2",
    "prometheus.yml": "prometheus/prometheus.yml.j2",
    "alertmanager.yml": "prometheus/alertmanager.yml.j2",
    "mysqld-exporter.my.cnf": "prometheus/mysqld-exporter.my.cnf.j2",
    "monitrc": "monit/monitrc.j2",
}
PRIVATE = {"monitrc", "mysqld-exporter.my.cnf"}  # Monit refuses a control file readable by others
GRAFANA_TEMPLATE = "grafana/grafana.ini.j2"  # rendered only where a Grafana server is installed
# Fragments of haproxy/ appended to haproxy.cfg (each with a `defaults` of its own): none yet.
HAPROXY_SECTIONS: list[str] = []
NJS_MODULE = "/usr/lib/nginx/modules/ngx_http_js_module.so"  # Debian's libnginx-mod-http-js


def environment() -> Environment:
    return Environment(loader=FileSystemLoader(str(ROOT)), undefined=StrictUndefined,
                       keep_trailing_newline=True, trim_blocks=False)


def _traversable_by_others(path: Path) -> bool:
    return all(os.stat(p).st_mode & 0o001 for p in [path, *path.parents] if p.exists())


@cache
def api_routes() -> tuple[dict, ...]:
    """Each API path as a regular expression, with the methods its Allow header lists: the app's URL
    rules, read from an app built without a database (nginx answers some 405s itself)."""
    from app import create_app
    from app.api import methods_by_rule
    from app.config import Config

    app = create_app({**Config.from_env(), "JWT_SECRET_KEY": "only-to-read-the-url-rules", "METRICS_ENABLED": False})
    converters = app.url_map.converters
    routes = []
    for rule, methods in methods_by_rule(app).items():
        pattern, position = "", 0
        for variable in re.finditer(r"<(?:(\w+)(?:\([^)]*\))?:)?\w+>", rule):
            pattern += re.escape(rule[position:variable.start()]) + converters[variable.group(1) or "default"].regex
            position = variable.end()
        routes.append({"pattern": pattern + re.escape(rule[position:]), "allow": ", ".join(methods)})
    return tuple(routes)


def native_context(stack: Stack, secrets: dict[str, str]) -> dict:
    run, ports = stack.run, stack.ports
    paths = {
        "nginx_pid": stack.pidfile("nginx"), "nginx_logs": stack.logs / "nginx", "nginx_temp": run / "nginx",
        "haproxy_socket": stack.haproxy_socket,
        "tls_cert": stack.tls / "cert.pem", "tls_key": stack.tls / "key.pem", "www": run / "www",
        "db_data": stack.db_dir / "data", "db_socket": stack.db_socket, "db_pid": stack.pidfile("mariadb"),
        "db_log": stack.logfile("mariadb"), "monit_dir": run / "monit", "monit_bin": ROOT / "monit" / "bin",
        "prometheus_rules": ROOT / "prometheus" / "rules",
        "grafana_data": run / "grafana", "grafana_logs": stack.logs / "grafana",
        "grafana_provisioning": ROOT / "grafana" / "provisioning",
        "grafana_dashboards": ROOT / "grafana" / "dashboards",
        "grafana_admin_password": stack.conf / "grafana-admin-password",
        # PiggyBank's board, where no Grafana runs natively (nginx/nginx.conf.j2, the Grafana port's server)
        "board_settings": stack.conf / "board.json", "prometheus_read_js": ROOT / "nginx" / "prometheus_read.js",
        "njs_module": NJS_MODULE,
    }
    local = "127.0.0.1"
    hosts = dict.fromkeys(("db", "alertmanager", "alert_sink", "mysqld_exporter", "blackbox", "prometheus",
                           "haproxy"), local)
    hosts["nginx"] = "localhost"
    return {
        "target": "native", "foreground": True, "listen": local, "db_bind": local,
        # nginx's workers drop to nobody; that only works where nobody can reach the files they serve.
        "nginx_user": None if all(map(_traversable_by_others, (run, paths["grafana_dashboards"]))) else "root",
        "board": grafana_binary(stack.env) is None,
        "resolver": None,  # loopback addresses never change
        "login_rate": stack.env.get("PIGGY_LOGIN_RATE", "10r/s"),
        "login_burst": stack.env.get("PIGGY_LOGIN_BURST", "20"),
        "ports": ports, "paths": paths, "hosts": hosts, "secrets": secrets, "api_routes": api_routes(),
        "app_servers": [{"name": s.name, "host": local, "port": s.port} for s in stack.app_servers],
        "app_service": None,  # natively each app server is listed; in containers, one service of replicas
        "haproxy_sections": HAPROXY_SECTIONS,
        "services": monit_services(stack, paths, hosts),
    }


def _start(stack: Stack, name: str, *command) -> str:
    """A Monit start program: monit/bin/start.sh backgrounds the command and writes its pid."""
    args = [str(ROOT / "monit" / "bin" / "start.sh"), str(stack.pidfile(name)), str(stack.logfile(name)),
            *map(str, command)]
    return " ".join(shlex.quote(a) for a in args).replace('"', '\\"')


def monit_services(stack: Stack, paths: dict, hosts: dict) -> list[dict]:
    ports, conf = stack.ports, stack.conf
    services = [{
        "name": "mariadb", "template": "mariadb.j2", "pidfile": paths["db_pid"], "host": hosts["db"],
        "port": ports["db"],
        "start": _start(stack, "mariadb", "/usr/sbin/mariadbd", f"--defaults-file={conf / 'my.cnf'}", "--user=root"),
    }]
    for server in stack.app_servers:
        services.append({
            "name": server.name, "template": "appserver.j2", "pidfile": stack.pidfile(server.name),
            "host": "127.0.0.1", "port": server.port, "manual": True,
            "start": _start(stack, server.name, "/usr/bin/env", f"PIGGY_INSTANCE={server.name}",
                            f"PIGGY_PORT={server.port}", f"PIGGY_DB_PORT={ports['db']}",
                            f"PIGGY_SECRETS_FILE={stack.secrets_file}", f"PYTHONPATH={ROOT}",
                            stack.python, "-m", "app"),
        })
    http = [
        ("nginx", ports["https"], "/healthz", True,
         ["/usr/sbin/nginx", "-p", stack.run / "nginx", "-c", conf / "nginx.conf"]),
        ("haproxy", ports["haproxy_stats"], "/healthz", False,
         [ROOT / "monit" / "bin" / "haproxy.sh", "-f", conf / "haproxy.cfg", "-db"]),  # why a wrapper: there
        ("mysqld-exporter", ports["mysqld_exporter"], "/", False,
         ["/usr/bin/prometheus-mysqld-exporter", f"--config.my-cnf={conf / 'mysqld-exporter.my.cnf'}",
          f"--web.listen-address=127.0.0.1:{ports['mysqld_exporter']}"]),
        ("blackbox-exporter", ports["blackbox"], "/-/healthy", False,
         ["/usr/bin/prometheus-blackbox-exporter", f"--config.file={ROOT / 'prometheus' / 'blackbox.yml'}",
          f"--web.listen-address=127.0.0.1:{ports['blackbox']}"]),
        ("alert-sink", ports["alert_sink"], "/healthz", False,
         [stack.python, "-m", "stack.alert_sink", "--port", ports["alert_sink"],
          "--log", stack.logs / "alerts.jsonl"]),
        ("alertmanager", ports["alertmanager"], "/-/healthy", False,
         ["/usr/bin/prometheus-alertmanager", f"--config.file={conf / 'alertmanager.yml'}",
          f"--storage.path={stack.run / 'alertmanager'}", f"--web.listen-address=127.0.0.1:{ports['alertmanager']}",
          "--cluster.listen-address="]),
        ("prometheus", ports["prometheus"], "/-/healthy", False,
         ["/usr/bin/prometheus", f"--config.file={conf / 'prometheus.yml'}",
          f"--storage.tsdb.path={stack.run / 'prometheus'}", f"--web.listen-address=127.0.0.1:{ports['prometheus']}",
          "--web.enable-lifecycle", "--storage.tsdb.retention.time=7d"]),
    ]
    grafana = grafana_binary(stack.env)
    if grafana:
        # The provisioning files take these from the environment (the containers set their own).
        grafana_env = [f"PROMETHEUS_URL=http://{hosts['prometheus']}:{ports['prometheus']}",
                       f"ALERTMANAGER_URL=http://{hosts['alertmanager']}:{ports['alertmanager']}",
                       f"GRAFANA_DASHBOARDS_DIR={paths['grafana_dashboards']}",
                       f"GF_SECURITY_ADMIN_PASSWORD__FILE={paths['grafana_admin_password']}"]
        http.append(("grafana", ports["grafana"], "/api/health", False,
                     ["/usr/bin/env", *grafana_env, grafana, *(["server"] if grafana.endswith("/grafana") else []),
                      "--homepath", "/usr/share/grafana", "--config", conf / "grafana.ini"]))
    for name, port, path, tls, command in http:
        services.append({"name": name, "template": "http.j2", "pidfile": stack.pidfile(name), "host": "127.0.0.1",
                         "port": port, "path": path, "tls": tls, "start": _start(stack, name, *command)})
    return services


def render_native(stack: Stack, secrets: dict[str, str]) -> dict:
    """Write every rendered config into run/conf; returns the context used."""
    context = native_context(stack, secrets)
    env = environment()
    stack.conf.mkdir(parents=True, exist_ok=True)
    for name, template in TEMPLATES.items():
        target = stack.conf / name
        target.write_text(env.get_template(template).render(**context))
        target.chmod(0o600 if name in PRIVATE else 0o644)
    grafana_ini = env.get_template(GRAFANA_TEMPLATE).render(**context)
    if context["board"]:
        (stack.conf / "board.json").write_text(json.dumps(board_settings(stack, grafana_ini), indent=2) + "\n")
    else:  # Monit runs Grafana only when it is installed
        (stack.conf / "grafana.ini").write_text(grafana_ini)
        password = context["paths"]["grafana_admin_password"]
        password.touch(mode=0o600)
        password.chmod(0o600)
        password.write_text(secrets["PIGGY_GRAFANA_ADMIN_PASSWORD"])
    return context


def board_settings(stack: Stack, grafana_ini: str) -> dict:
    """What PiggyBank's board needs to know of Grafana's setup, read from the files Grafana itself
    reads: the home dashboard (grafana.ini), the data sources (the provisioning), the release."""
    import configparser

    import yaml  # the native stack's virtualenv has it; the containers never render the board

    from stack import grafana

    ini = configparser.ConfigParser(interpolation=None, comment_prefixes=(";", "#"))
    ini.read_string(grafana_ini)
    sources = []
    for path in sorted((ROOT / "grafana" / "provisioning" / "datasources").glob("*.y*ml")):
        for source in yaml.safe_load(path.read_text()).get("datasources", []):
            sources.append({"uid": source["uid"], "name": source["name"], "type": source["type"],
                            "isDefault": bool(source.get("isDefault")),
                            "timeInterval": source.get("jsonData", {}).get("timeInterval")})
    return {"home": Path(ini["dashboards"]["default_home_dashboard_path"]).name, "datasources": sources,
            "grafanaVersion": grafana.VERSION, "whyNoGrafana": grafana.why_not(stack.env)}


# --- Containers ---------------------------------------------------------------------------------
# `docker compose up --build` runs the same templates with the containers' addresses and paths. The
# one-shot `config` service (app image, as root) runs `python -m stack render --target compose` into
# the `config` volume, which every other service mounts read-only at COMPOSE_CONF; it also makes the
# TLS certificate once, into the `tls` volume. Ports are the native defaults, inside each container.

COMPOSE_CONF = PurePosixPath("/etc/piggybank")      # the `config` volume
COMPOSE_ROOT = PurePosixPath("/opt/piggybank")      # the repository's code in the app and db images
COMPOSE_STATE = PurePosixPath("/var/lib/piggybank")  # Monit's files and pid files, in each container
COMPOSE_LOGS = PurePosixPath("/var/log/piggybank")
COMPOSE_TLS = COMPOSE_STATE / "tls"                  # the `tls` volume
COMPOSE_PYTHON = "/usr/local/bin/python"             # of the python image
APP_UID = 10001       # user `piggy` of docker/app/Dockerfile (app servers, alert sink)
MYSQL_UID = 999       # user `mysql` of docker/db/Dockerfile
EXPORTER_UID = 10104  # `user:` of the mysqld-exporter service in docker-compose.yml
GRAFANA_UID = 472     # user `grafana` of the grafana/grafana image

# The compose service names that stand in for the native hosts (all 127.0.0.1 natively).
COMPOSE_HOSTS = {"db": "db", "alertmanager": "alertmanager", "alert_sink": "alert-sink",
                 "mysqld_exporter": "mysqld-exporter", "blackbox": "blackbox-exporter", "prometheus": "prometheus",
                 "nginx": "nginx", "haproxy": "haproxy"}
# The compose service of the app servers: PIGGY_APP_SERVERS replicas of it (deploy.replicas), each
# on the same port in its own container, all found by this one name in Docker's DNS.
COMPOSE_APP_SERVICE = "appserver"
# Containers whose main process is Monit (under tini), and the Monit services each one supervises.
MONIT_CONTAINERS = {COMPOSE_APP_SERVICE: (COMPOSE_APP_SERVICE,), "db": ("mariadb",)}
# Where each native config file goes in the `config` volume (the monitrc goes to each Monit container).
COMPOSE_OUTPUTS = {
    "nginx.conf": "nginx/nginx.conf", "haproxy.cfg": "haproxy/haproxy.cfg", "my.cnf": "db/my.cnf",
    "prometheus.yml": "prometheus/prometheus.yml",
    "alertmanager.yml": "alertmanager/alertmanager.yml", "mysqld-exporter.my.cnf": "mysqld-exporter/my.cnf",
    "monitrc": "{container}/monitrc",
}
COMPOSE_GRAFANA_INI = "grafana/grafana.ini"  # GRAFANA_TEMPLATE: natively only where Grafana is installed
# The secrets each reader gets, from the `secrets` volume that only the config service mounts:
# the app servers' (PIGGY_SECRETS_FILE) and Grafana's admin password (GF_SECURITY_ADMIN_PASSWORD__FILE).
# MariaDB gets its users' passwords in db/init.sql, the exporter in its my.cnf, Monit in its monitrc.
COMPOSE_APP_SECRETS = "app/secrets.env"
COMPOSE_GRAFANA_PASSWORD = "grafana/admin-password"
# Files readable only by the one user that needs them (Monit insists on owning its control file).
COMPOSE_OWNERS = {"db/monitrc": (MYSQL_UID, 0o600), "db/init.sql": (MYSQL_UID, 0o400),
                  f"{COMPOSE_APP_SERVICE}/monitrc": (APP_UID, 0o600),
                  "mysqld-exporter/my.cnf": (EXPORTER_UID, 0o400), COMPOSE_GRAFANA_INI: (GRAFANA_UID, 0o400),
                  COMPOSE_APP_SECRETS: (APP_UID, 0o400), COMPOSE_GRAFANA_PASSWORD: (GRAFANA_UID, 0o400)}


def compose_paths() -> dict:
    return {
        "nginx_pid": PurePosixPath("/run/nginx.pid"), "nginx_logs": PurePosixPath("/var/log/nginx"),
        "haproxy_socket": PurePosixPath("/var/lib/haproxy/admin.sock"),  # the haproxy image's own directory
        "nginx_temp": PurePosixPath("/var/cache/nginx"), "tls_cert": COMPOSE_TLS / "cert.pem",
        "tls_key": COMPOSE_TLS / "key.pem", "www": PurePosixPath("/usr/share/piggybank/www"),
        "db_data": PurePosixPath("/var/lib/mysql"), "db_socket": PurePosixPath("/run/mysqld/mysqld.sock"),
        "db_pid": PurePosixPath("/run/mysqld/mysqld.pid"), "db_log": COMPOSE_LOGS / "mariadb.log",
        "monit_dir": COMPOSE_STATE / "monit", "monit_bin": COMPOSE_ROOT / "monit" / "bin",
        "prometheus_rules": PurePosixPath("/etc/prometheus/rules"),
        # the grafana/grafana image's own places; the repository's provisioning and dashboards are mounted
        "grafana_data": PurePosixPath("/var/lib/grafana"), "grafana_logs": PurePosixPath("/var/log/grafana"),
        "grafana_provisioning": PurePosixPath("/etc/grafana/provisioning"),
        "grafana_dashboards": PurePosixPath("/etc/grafana/dashboards"),
        "grafana_admin_password": COMPOSE_CONF / COMPOSE_GRAFANA_PASSWORD,
    }


def _container_start(name: str, *command) -> str:
    """A Monit start program in a container: the same monit/bin/start.sh as natively."""
    args = [str(COMPOSE_ROOT / "monit" / "bin" / "start.sh"), str(compose_pidfile(name)),
            str(COMPOSE_LOGS / f"{name}.log"), *map(str, command)]
    return " ".join(shlex.quote(a) for a in args).replace('"', '\\"')


def compose_pidfile(name: str) -> PurePosixPath:
    return compose_paths()["db_pid"] if name == "mariadb" else COMPOSE_STATE / "pids" / f"{name}.pid"


def compose_services(ports: dict[str, int]) -> list[dict]:
    """The Monit services of the containers, in the shapes of `monit_services`."""
    name, port = COMPOSE_APP_SERVICE, ports["app"]
    return [{
        # The db container runs as `mysql` throughout, so mariadbd needs no --user. The init file holds
        # stack.database.user_statements: MariaDB applies it at every start, before it takes clients.
        "name": "mariadb", "template": "mariadb.j2", "pidfile": compose_pidfile("mariadb"), "host": "127.0.0.1",
        "port": ports["db"],
        "start": _container_start("mariadb", "/usr/sbin/mariadbd", f"--defaults-file={COMPOSE_CONF / 'db' / 'my.cnf'}",
                                  f"--init-file={COMPOSE_CONF / 'db' / 'init.sql'}"),
    }, {
        # Each replica's app server. Not `mode manual` as natively: compose starts these only after the
        # `migrate` service succeeded. No PIGGY_INSTANCE: a replica is named by its hostname. The
        # secrets come from their file in the `config` volume.
        "name": name, "template": "appserver.j2", "pidfile": compose_pidfile(name), "host": "127.0.0.1",
        "port": port, "manual": False,
        "start": _container_start(name, "/usr/bin/env", f"PIGGY_PORT={port}", "PIGGY_BIND=0.0.0.0",
                                  f"PIGGY_DB_HOST={COMPOSE_HOSTS['db']}", f"PIGGY_DB_PORT={ports['db']}",
                                  f"PIGGY_SECRETS_FILE={COMPOSE_CONF / COMPOSE_APP_SECRETS}",
                                  f"PYTHONPATH={COMPOSE_ROOT}", COMPOSE_PYTHON, "-m", "app"),
    }]


def compose_context(secrets: dict[str, str], env: dict[str, str] | None = None) -> dict:
    """The context for the containers: every key of `native_context`, with container addresses and paths.
    PIGGY_APP_SERVERS in `env` (the `config` service's environment) is the number of replicas."""
    env = {} if env is None else env
    ports = dict(DEFAULT_PORTS)
    service = {"host": COMPOSE_APP_SERVICE, "port": ports["app"]}
    # HAProxy's slots for the replicas (server-template names them appserver1 ...)
    app_servers = [{"name": f"appserver{i}", **service} for i in range(1, app_server_count(env) + 1)]
    return {
        "target": "compose", "foreground": True, "listen": "0.0.0.0", "db_bind": "0.0.0.0",
        "nginx_user": "nginx",  # the nginx image's unprivileged user; its master runs as root
        "resolver": "127.0.0.11",  # Docker's DNS; nginx >= 1.27.3 re-resolves upstream servers marked "resolve"
        "board": False,  # Grafana has its own container on the Grafana port
        "login_rate": env.get("PIGGY_LOGIN_RATE", "10r/s"), "login_burst": env.get("PIGGY_LOGIN_BURST", "20"),
        "ports": ports, "paths": compose_paths(), "hosts": dict(COMPOSE_HOSTS), "secrets": secrets,
        "api_routes": api_routes(), "app_servers": app_servers, "app_service": service,
        "haproxy_sections": HAPROXY_SECTIONS, "services": compose_services(ports),
    }


def compose_files(secrets: dict[str, str], env: dict[str, str] | None = None) -> dict[str, str]:
    """Every file of the `config` volume (relative path -> text), rendered from the native templates."""
    from stack.database import user_statements

    context = compose_context(secrets, env)
    templates = environment()
    files = {}
    for name, template in TEMPLATES.items():
        if name not in COMPOSE_OUTPUTS:
            raise KeyError(f"{template} has no place in the containers: add it to COMPOSE_OUTPUTS")
        if name == "monitrc":
            for container, names in MONIT_CONTAINERS.items():
                services = [s for s in context["services"] if s["name"] in names]
                files[COMPOSE_OUTPUTS[name].format(container=container)] = templates.get_template(template).render(
                    **{**context, "services": services})
        else:
            files[COMPOSE_OUTPUTS[name]] = templates.get_template(template).render(**context)
    files[COMPOSE_GRAFANA_INI] = templates.get_template(GRAFANA_TEMPLATE).render(**context)
    # Client hosts "%": in the compose network the app servers and the exporter connect from their own addresses.
    files["db/init.sql"] = "".join(f"{statement};\n" for statement in user_statements(secrets, hosts=("%",)))
    files[COMPOSE_APP_SECRETS] = "".join(f"{name}={secrets[name]}\n" for name in APP_SECRETS)
    files[COMPOSE_GRAFANA_PASSWORD] = secrets["PIGGY_GRAFANA_ADMIN_PASSWORD"]
    return files


def render_compose(out: Path, secrets: dict[str, str], env: dict[str, str] | None = None,
                   chown: bool = False) -> list[Path]:
    """Write the `config` volume's files under `out`; with chown (as root), give each its reader."""
    written = []
    for relative, text in compose_files(secrets, env).items():
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.parent.chmod(0o755)
        uid, mode = COMPOSE_OWNERS.get(relative, (0, 0o644))
        target.unlink(missing_ok=True)  # a read-only file of an earlier run
        target.write_text(text)
        target.chmod(mode)
        if chown:
            os.chown(target, uid, uid)
        written.append(target)
    return written
