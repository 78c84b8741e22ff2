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
from stack.settings import DEFAULT_PORTS, ROOT, Stack, app_server_count, db_node_count, grafana_binary

TEMPLATES = {
    "nginx.conf": "nginx/nginx.conf.j2",
    "haproxy.cfg": "haproxy/haproxy.cfg.j2",
    "prometheus.yml": "prometheus/prometheus.yml.j2",
    "alertmanager.yml": "prometheus/alertmanager.yml.j2",
    "monitrc": "monit/monitrc.j2",
}
# Rendered once per database node (`node` in the context): the server's and its exporter's config.
NODE_TEMPLATES = {"my.cnf": "mariadb/my.cnf.j2", "mysqld-exporter.my.cnf": "prometheus/mysqld-exporter.my.cnf.j2"}
PRIVATE = {"monitrc", "mysqld-exporter.my.cnf"}  # Monit refuses a control file readable by others
GRAFANA_TEMPLATE = "grafana/grafana.ini.j2"  # rendered only where a Grafana server is installed
# Fragments of haproxy/ appended to haproxy.cfg (each with a `defaults` of its own).
GALERA_WRITER = "galera-writer.cfg.j2"  # the database's one address, when it is a Galera cluster
NJS_MODULE = "/usr/lib/nginx/modules/ngx_http_js_module.so"  # Debian's libnginx-mod-http-js


def haproxy_sections(clustered: bool) -> list[str]:
    return [GALERA_WRITER] if clustered else []


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
        "monit_dir": run / "monit", "monit_bin": ROOT / "monit" / "bin", "mariadb_bin": ROOT / "mariadb",
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
    db_nodes = native_db_nodes(stack)
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
        "db_nodes": db_nodes, "clustered": stack.clustered, "haproxy_sections": haproxy_sections(stack.clustered),
        "services": monit_services(stack, paths, hosts, db_nodes),
    }


def native_db_nodes(stack: Stack) -> list[dict]:
    """Each database node's names, addresses and paths, as the node templates use them."""
    local = "127.0.0.1"
    peers = [f"{local}:{node.galera['gmcast']}" for node in stack.db_nodes if node.galera]
    nodes = []
    for node in stack.db_nodes:
        single = node.galera is None
        nodes.append({
            "name": node.name, "host": local, "port": node.port, "data": node.data, "socket": node.socket,
            "pid": stack.pidfile(node.name), "log": stack.logfile(node.name), "user": "root",
            "bootstrap_request": node.bootstrap_request,
            "config": stack.conf / ("my.cnf" if single else f"{node.name}.cnf"),
            "exporter": node.exporter, "exporter_host": local, "exporter_port": node.exporter_port,
            "exporter_config": stack.conf / f"{node.exporter}.my.cnf",
            "galera": None if single else {
                **node.galera, "address": local, "peers": peers, "sst_user": "root",
                "sst_logs": node.dir / "sst_log_archive", "check_listen": local,
            },
        })
    return nodes


def _start(stack: Stack, name: str, *command) -> str:
    """A Monit start program: monit/bin/start.sh backgrounds the command and writes its pid."""
    args = [str(ROOT / "monit" / "bin" / "start.sh"), str(stack.pidfile(name)), str(stack.logfile(name)),
            *map(str, command)]
    return " ".join(shlex.quote(a) for a in args).replace('"', '\\"')


def monit_services(stack: Stack, paths: dict, hosts: dict, db_nodes: list[dict]) -> list[dict]:
    ports, conf = stack.ports, stack.conf
    services = []
    for node in db_nodes:
        name, galera = node["name"], node["galera"]
        if galera is None:
            services += database_services(node, _start(stack, name, "/usr/sbin/mariadbd",
                                                       f"--defaults-file={node['config']}"))
            continue
        check = f"{name}-check"
        probe = [stack.python, paths["mariadb_bin"] / "galera_check.py", "--socket", node["socket"],
                 "--listen", f"{galera['check_listen']}:{galera['check']}"]
        services += database_services(
            node, _start(stack, name, paths["mariadb_bin"] / "galera-start.sh", node["config"], node["data"],
                         node["bootstrap_request"]),
            (check, stack.pidfile(check), _start(stack, check, *probe)))
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
    http += [(node["exporter"], node["exporter_port"], "/", False,
              ["/usr/bin/prometheus-mysqld-exporter", f"--config.my-cnf={node['exporter_config']}",
               f"--web.listen-address=127.0.0.1:{node['exporter_port']}"]) for node in db_nodes]
    for name, port, path, tls, command in http:
        services.append({"name": name, "template": "http.j2", "pidfile": stack.pidfile(name), "host": "127.0.0.1",
                         "port": port, "path": path, "tls": tls, "start": _start(stack, name, *command)})
    return services


def database_services(node: dict, start: str, check: tuple | None = None) -> list[dict]:
    """The Monit services of one database node: the server, and a Galera node's readiness probe
    (`check`: its name, pid file and start program).

    Monit starts every node at once; the one `make up` chose to bootstrap from (stack/galera.py) makes
    the primary component and the others join it, and whenever one dies Monit restarts it and the
    start wrapper has it rejoin by IST.
    """
    services = [{"name": node["name"], "template": "mariadb.j2", "pidfile": node["pid"], "host": "127.0.0.1",
                 "port": node["port"], "start": start, "galera": node["galera"] is not None,
                 "check_port": node["galera"]["check"] if node["galera"] else None}]
    if check:
        name, pidfile, check_start = check
        services.append({"name": name, "template": "http.j2", "pidfile": pidfile, "host": "127.0.0.1",
                         "port": node["galera"]["check"], "path": "/healthz", "tls": False, "start": check_start})
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
    for node in context["db_nodes"]:
        for name, target in (("my.cnf", node["config"]), ("mysqld-exporter.my.cnf", node["exporter_config"])):
            target.write_text(env.get_template(NODE_TEMPLATES[name]).render(**context, node=node))
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
# Containers whose main process is Monit (under tini), and the Monit services each one supervises;
# the database's containers follow from its nodes (compose_db_nodes).
MONIT_CONTAINERS = {COMPOSE_APP_SERVICE: (COMPOSE_APP_SERVICE,)}
# Where each native config file goes in the `config` volume (the monitrc goes to each Monit container;
# each database node's my.cnf and exporter config go to its own directory, compose_db_nodes).
COMPOSE_OUTPUTS = {
    "nginx.conf": "nginx/nginx.conf", "haproxy.cfg": "haproxy/haproxy.cfg",
    "prometheus.yml": "prometheus/prometheus.yml",
    "alertmanager.yml": "alertmanager/alertmanager.yml", "monitrc": "{container}/monitrc",
}
COMPOSE_GRAFANA_INI = "grafana/grafana.ini"  # GRAFANA_TEMPLATE: natively only where Grafana is installed
# Galera's standard ports, inside each node's container (natively: base + node, stack/settings.py).
COMPOSE_GALERA_PORTS = {"gmcast": 4567, "ist": 4568, "sst": 4444, "check": 9200}
# The secrets each reader gets, from the `secrets` volume that only the config service mounts:
# the app servers' (PIGGY_SECRETS_FILE) and Grafana's admin password (GF_SECURITY_ADMIN_PASSWORD__FILE).
# MariaDB gets its users' passwords in each node's init.sql, the exporters in their my.cnf, Monit in its monitrc.
COMPOSE_APP_SECRETS = "app/secrets.env"
COMPOSE_GRAFANA_PASSWORD = "grafana/admin-password"
# Files readable only by the one user that needs them (Monit insists on owning its control file);
# each database node's are added by compose_owners.
COMPOSE_OWNERS = {f"{COMPOSE_APP_SERVICE}/monitrc": (APP_UID, 0o600), COMPOSE_GRAFANA_INI: (GRAFANA_UID, 0o400),
                  COMPOSE_APP_SECRETS: (APP_UID, 0o400), COMPOSE_GRAFANA_PASSWORD: (GRAFANA_UID, 0o400)}


def compose_db_nodes(count: int) -> list[dict]:
    """The database nodes in containers: the `db` service (the single MariaDB, or Galera node db1),
    and, with docker-compose.galera.yml, the services db2 ... dbN; node 1's exporter is the
    `mysqld-exporter` service, the others' mysqld-exporter-db2 ... Each container has the same paths;
    its configs are in its own directory of the `config` volume (`dir`)."""
    local = {"data": PurePosixPath("/var/lib/mysql"), "socket": PurePosixPath("/run/mysqld/mysqld.sock"),
             "pid": PurePosixPath("/run/mysqld/mysqld.pid"), "user": None,
             "bootstrap_request": COMPOSE_STATE / "bootstrap-requested",
             "exporter_port": DEFAULT_PORTS["mysqld_exporter"]}
    if count == 1:
        return [{**local, "name": "mariadb", "host": COMPOSE_HOSTS["db"], "port": DEFAULT_PORTS["db"], "dir": "db",
                 "log": COMPOSE_LOGS / "mariadb.log", "config": COMPOSE_CONF / "db" / "my.cnf",
                 "exporter": "mysqld-exporter", "exporter_host": COMPOSE_HOSTS["mysqld_exporter"],
                 "exporter_dir": "mysqld-exporter", "galera": None}]
    names = [f"db{i}" for i in range(1, count + 1)]
    hosts = {name: COMPOSE_HOSTS["db"] if name == "db1" else name for name in names}
    peers = [f"{hosts[name]}:{COMPOSE_GALERA_PORTS['gmcast']}" for name in names]
    return [{**local, "name": name, "host": hosts[name], "port": DEFAULT_PORTS["db"], "dir": name,
             "log": COMPOSE_LOGS / f"{name}.log", "config": COMPOSE_CONF / name / "my.cnf",
             "exporter": f"mysqld-exporter-{name}",
             "exporter_host": COMPOSE_HOSTS["mysqld_exporter"] if name == "db1" else f"mysqld-exporter-{name}",
             "exporter_dir": f"mysqld-exporter-{name}",
             "galera": {**COMPOSE_GALERA_PORTS, "address": hosts[name], "peers": peers, "sst_user": "mysql",
                        "sst_logs": COMPOSE_STATE / "sst_log_archive", "check_listen": "0.0.0.0"}}
            for name in names]


def compose_owners(db_nodes: list[dict]) -> dict[str, tuple[int, int]]:
    owners = dict(COMPOSE_OWNERS)
    for node in db_nodes:
        owners[f"{node['dir']}/monitrc"] = (MYSQL_UID, 0o600)
        owners[f"{node['dir']}/init.sql"] = (MYSQL_UID, 0o400)
        owners[f"{node['exporter_dir']}/my.cnf"] = (EXPORTER_UID, 0o400)
    return owners


def monit_containers(db_nodes: list[dict]) -> dict[str, tuple[str, ...]]:
    """Config directory of each Monit container -> the Monit services it supervises."""
    return {**MONIT_CONTAINERS, **{node["dir"]: (node["name"], *([f"{node['name']}-check"] if node["galera"] else []))
                                   for node in db_nodes}}


def compose_paths() -> dict:
    return {
        "nginx_pid": PurePosixPath("/run/nginx.pid"), "nginx_logs": PurePosixPath("/var/log/nginx"),
        "haproxy_socket": PurePosixPath("/var/lib/haproxy/admin.sock"),  # the haproxy image's own directory
        "nginx_temp": PurePosixPath("/var/cache/nginx"), "tls_cert": COMPOSE_TLS / "cert.pem",
        "tls_key": COMPOSE_TLS / "key.pem", "www": PurePosixPath("/usr/share/piggybank/www"),
        "monit_dir": COMPOSE_STATE / "monit", "monit_bin": COMPOSE_ROOT / "monit" / "bin",
        "mariadb_bin": COMPOSE_ROOT / "mariadb",
        "prometheus_rules": PurePosixPath("/etc/prometheus/rules"),
        # the grafana/grafana image's own places; the repository's provisioning and dashboards are mounted
        "grafana_data": PurePosixPath("/var/lib/grafana"), "grafana_logs": PurePosixPath("/var/log/grafana"),
        "grafana_provisioning": PurePosixPath("/etc/grafana/provisioning"),
        "grafana_dashboards": PurePosixPath("/etc/grafana/dashboards"),
        "grafana_admin_password": COMPOSE_CONF / COMPOSE_GRAFANA_PASSWORD,
    }


def _container_start(name: str, *command, pidfile: PurePosixPath | None = None) -> str:
    """A Monit start program in a container: the same monit/bin/start.sh as natively."""
    args = [str(COMPOSE_ROOT / "monit" / "bin" / "start.sh"), str(pidfile or compose_pidfile(name)),
            str(COMPOSE_LOGS / f"{name}.log"), *map(str, command)]
    return " ".join(shlex.quote(a) for a in args).replace('"', '\\"')


def compose_pidfile(name: str) -> PurePosixPath:
    return COMPOSE_STATE / "pids" / f"{name}.pid"


def compose_services(ports: dict[str, int], db_nodes: list[dict], hosts: dict[str, str]) -> list[dict]:
    """The Monit services of the containers, in the shapes of `monit_services`."""
    services = []
    for node in db_nodes:
        name, galera = node["name"], node["galera"]
        # The db containers run as `mysql` throughout, so mariadbd needs no --user. The init file holds
        # stack.database.user_statements: MariaDB applies it at every start, before it takes clients.
        init = f"--init-file={COMPOSE_CONF / node['dir'] / 'init.sql'}"
        if galera is None:
            start = _container_start(name, "/usr/sbin/mariadbd", f"--defaults-file={node['config']}", init,
                                     pidfile=node["pid"])
            services += database_services(node, start)
            continue
        check = f"{name}-check"
        probe = ["/usr/bin/python3", COMPOSE_ROOT / "mariadb" / "galera_check.py", "--socket", node["socket"],
                 "--listen", f"{galera['check_listen']}:{galera['check']}"]
        services += database_services(
            node, _container_start(name, COMPOSE_ROOT / "mariadb" / "galera-start.sh", node["config"], node["data"],
                                   node["bootstrap_request"], init, pidfile=node["pid"]),
            (check, compose_pidfile(check), _container_start(check, *probe)))
    name, port = COMPOSE_APP_SERVICE, ports["app"]
    services.append({
        # Each replica's app server. Not `mode manual` as natively: compose starts these only after the
        # `migrate` service succeeded. No PIGGY_INSTANCE: a replica is named by its hostname. The
        # secrets come from their file in the `config` volume.
        "name": name, "template": "appserver.j2", "pidfile": compose_pidfile(name), "host": "127.0.0.1",
        "port": port, "manual": False,
        "start": _container_start(name, "/usr/bin/env", f"PIGGY_PORT={port}", "PIGGY_BIND=0.0.0.0",
                                  f"PIGGY_DB_HOST={hosts['db']}", f"PIGGY_DB_PORT={ports['db']}",
                                  f"PIGGY_SECRETS_FILE={COMPOSE_CONF / COMPOSE_APP_SECRETS}",
                                  f"PYTHONPATH={COMPOSE_ROOT}", COMPOSE_PYTHON, "-m", "app"),
    })
    return services


def compose_context(secrets: dict[str, str], env: dict[str, str] | None = None) -> dict:
    """The context for the containers: every key of `native_context`, with container addresses and paths.
    PIGGY_APP_SERVERS in `env` (the `config` service's environment) is the number of replicas."""
    env = {} if env is None else env
    ports = dict(DEFAULT_PORTS)
    service = {"host": COMPOSE_APP_SERVICE, "port": ports["app"]}
    # HAProxy's slots for the replicas (server-template names them appserver1 ...)
    app_servers = [{"name": f"appserver{i}", **service} for i in range(1, app_server_count(env) + 1)]
    db_nodes = compose_db_nodes(db_node_count(env))
    # With a cluster, the app servers' one database address is HAProxy's writer (haproxy/galera-writer.cfg.j2).
    hosts = {**COMPOSE_HOSTS, "db": COMPOSE_HOSTS["haproxy"] if len(db_nodes) > 1 else COMPOSE_HOSTS["db"]}
    return {
        "target": "compose", "foreground": True, "listen": "0.0.0.0", "db_bind": "0.0.0.0",
        "nginx_user": "nginx",  # the nginx image's unprivileged user; its master runs as root
        "resolver": "127.0.0.11",  # Docker's DNS; nginx >= 1.27.3 re-resolves upstream servers marked "resolve"
        "board": False,  # Grafana has its own container on the Grafana port
        "login_rate": env.get("PIGGY_LOGIN_RATE", "10r/s"), "login_burst": env.get("PIGGY_LOGIN_BURST", "20"),
        "ports": ports, "paths": compose_paths(), "hosts": hosts, "secrets": secrets,
        "api_routes": api_routes(), "app_servers": app_servers, "app_service": service,
        "db_nodes": db_nodes, "clustered": len(db_nodes) > 1, "haproxy_sections": haproxy_sections(len(db_nodes) > 1),
        "services": compose_services(ports, db_nodes, hosts),
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
            for container, names in monit_containers(context["db_nodes"]).items():
                services = [s for s in context["services"] if s["name"] in names]
                files[COMPOSE_OUTPUTS[name].format(container=container)] = templates.get_template(template).render(
                    **{**context, "services": services})
        else:
            files[COMPOSE_OUTPUTS[name]] = templates.get_template(template).render(**context)
    files[COMPOSE_GRAFANA_INI] = templates.get_template(GRAFANA_TEMPLATE).render(**context)
    # Client hosts "%": in the compose network the app servers and the exporter connect from their own addresses.
    init = "".join(f"{statement};\n" for statement in user_statements(secrets, hosts=("%",)))
    for node in context["db_nodes"]:
        files[f"{node['dir']}/my.cnf"] = templates.get_template(NODE_TEMPLATES["my.cnf"]).render(**context, node=node)
        files[f"{node['exporter_dir']}/my.cnf"] = templates.get_template(
            NODE_TEMPLATES["mysqld-exporter.my.cnf"]).render(**context, node=node)
        files[f"{node['dir']}/init.sql"] = init
    files[COMPOSE_APP_SECRETS] = "".join(f"{name}={secrets[name]}\n" for name in APP_SECRETS)
    files[COMPOSE_GRAFANA_PASSWORD] = secrets["PIGGY_GRAFANA_ADMIN_PASSWORD"]
    return files


def render_compose(out: Path, secrets: dict[str, str], env: dict[str, str] | None = None,
                   chown: bool = False) -> list[Path]:
    """Write the `config` volume's files under `out`; with chown (as root), give each its reader."""
    owners = compose_owners(compose_db_nodes(db_node_count(env or {})))
    written = []
    for relative, text in compose_files(secrets, env).items():
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.parent.chmod(0o755)
        uid, mode = owners.get(relative, (0, 0o644))
        target.unlink(missing_ok=True)  # a read-only file of an earlier run
        target.write_text(text)
        target.chmod(mode)
        if chown:
            os.chown(target, uid, uid)
        written.append(target)
    return written
