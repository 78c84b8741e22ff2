"""Render each component's configuration template into the run directory.

The templates live in their component's folder (nginx/, monit/, prometheus/, mariadb/) and are the
single source for the native stack and the containers: only addresses and paths differ, and they
come from the context built here.
"""

import os
import shlex
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from stack.settings import ROOT, Stack, grafana_binary

TEMPLATES = {
    "nginx.conf": "nginx/nginx.conf.j2",
    "my.cnf": "mariadb/my.cnf.j2",
    "prometheus.yml": "prometheus/prometheus.yml.j2",
    "alertmanager.yml": "prometheus/alertmanager.yml.j2",
    "mysqld-exporter.my.cnf": "prometheus/mysqld-exporter.my.cnf.j2",
    "monitrc": "monit/monitrc.j2",
}
PRIVATE = {"monitrc", "mysqld-exporter.my.cnf"}  # Monit refuses a control file readable by others
GRAFANA_TEMPLATE = "grafana/grafana.ini.j2"  # rendered only where a Grafana server is installed


def environment() -> Environment:
    return Environment(loader=FileSystemLoader(str(ROOT)), undefined=StrictUndefined,
                       keep_trailing_newline=True, trim_blocks=False)


def _traversable_by_others(path: Path) -> bool:
    return all(os.stat(p).st_mode & 0o001 for p in [path, *path.parents] if p.exists())


def native_context(stack: Stack, secrets: dict[str, str]) -> dict:
    run, ports = stack.run, stack.ports
    paths = {
        "nginx_pid": stack.pidfile("nginx"), "nginx_logs": stack.logs / "nginx", "nginx_temp": run / "nginx",
        "tls_cert": stack.tls / "cert.pem", "tls_key": stack.tls / "key.pem", "www": run / "www",
        "db_data": stack.db_dir / "data", "db_socket": stack.db_socket, "db_pid": stack.pidfile("mariadb"),
        "db_log": stack.logfile("mariadb"), "monit_dir": run / "monit", "monit_bin": ROOT / "monit" / "bin",
        "prometheus_rules": ROOT / "prometheus" / "rules",
        "grafana_data": run / "grafana", "grafana_logs": stack.logs / "grafana",
        "grafana_provisioning": ROOT / "grafana" / "provisioning", "grafana_dashboards": ROOT / "grafana" / "dashboards",
    }
    local = "127.0.0.1"
    hosts = dict.fromkeys(("db", "alertmanager", "alert_sink", "mysqld_exporter", "blackbox", "prometheus"), local)
    hosts["nginx"] = "localhost"
    return {
        "target": "native", "foreground": True, "listen": local, "db_bind": local,
        # nginx's workers drop to nobody; that only works where nobody can reach the run directory.
        "nginx_user": None if _traversable_by_others(run) else "root",
        "login_rate": stack.env.get("PIGGY_LOGIN_RATE", "10r/s"),
        "login_burst": stack.env.get("PIGGY_LOGIN_BURST", "20"),
        "ports": ports, "paths": paths, "hosts": hosts, "secrets": secrets,
        "app_servers": [{"name": s.name, "host": local, "port": s.port} for s in stack.app_servers],
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
    grafana = grafana_binary()
    if grafana:
        # The provisioning files take these from the environment (the containers set their own).
        grafana_env = [f"PROMETHEUS_URL=http://{hosts['prometheus']}:{ports['prometheus']}",
                       f"ALERTMANAGER_URL=http://{hosts['alertmanager']}:{ports['alertmanager']}",
                       f"GRAFANA_DASHBOARDS_DIR={paths['grafana_dashboards']}"]
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
    if grafana_binary():  # Monit runs Grafana only when it is installed; it holds the admin password
        target = stack.conf / "grafana.ini"
        target.write_text(env.get_template(GRAFANA_TEMPLATE).render(**context))
        target.chmod(0o600)
    return context
