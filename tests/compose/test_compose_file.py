"""docker-compose.yml and the Dockerfiles, checked without a Docker engine.

What only an engine can show (the images build, the containers start and pass their health checks)
is listed in README.md, section "Docker".
"""

import os
import re
import shlex
import shutil
import stat
import subprocess
from fnmatch import fnmatch
from pathlib import Path

import pytest
import yaml

from stack import database, render
from stack import secrets as stack_secrets
from stack.settings import ROOT, Stack
from tests.compose.conftest import (
    COMPOSE_FILE,
    DOCKERFILES,
    PENDING,
    dockerfile_instructions,
    image_files,
    run,
    tool,
)

# Each native component (a Monit service of stack/render.py) and the compose service that runs it;
# every native app server (appserver1 ... appserver<N>) is a replica of the one app server service.
NATIVE_TO_COMPOSE = {
    "mariadb": "db", "nginx": "nginx", "haproxy": "haproxy",
    "mysqld-exporter": "mysqld-exporter", "blackbox-exporter": "blackbox-exporter", "alert-sink": "alert-sink",
    "alertmanager": "alertmanager", "prometheus": "prometheus", "grafana": "grafana",
}
APP = render.COMPOSE_APP_SERVICE


def compose_service_of(native_name: str) -> str:
    return APP if re.fullmatch(r"appserver\d+", native_name) else NATIVE_TO_COMPOSE[native_name]
# Compose services that are steps rather than processes natively.
STEPS = {
    "config": "`make up` renders the configs and makes the certificate (stack/control.py up)",
    "migrate": "`make up` runs `python -m app migrate` before it starts the app servers",
    "locust": "`make load` runs load/locustfile.py",
}
# The only ports on the host: (host address or None for all, host port, container port).
PUBLISHED = {"nginx": [(None, 8080, 8080)], "grafana": [(None, 5000, 5000)],
             "prometheus": [("127.0.0.1", 9090, 9090)]}
# Flags whose values are container paths or addresses; every other flag must match the native one.
PLACE_FLAGS = {"--config.file", "--storage.tsdb.path", "--storage.path", "--web.listen-address", "--config.my-cnf"}
OPTIONAL_VARIABLES = {"PIGGY_LOGIN_RATE", "PIGGY_LOGIN_BURST", "PIGGY_APP_SERVERS", "LOAD_USERS", "LOAD_SPAWN_RATE",
                      "LOAD_RUN_TIME"}


def native_services() -> dict[str, dict]:
    stack = Stack.from_env({"PIGGY_RUN_DIR": "/tmp/piggybank-compose-check", "PIGGY_PORT_OFFSET": "0"})
    context = render.native_context(stack, {name: "x" for name in stack_secrets.NAMES})
    return {s["name"]: s for s in context["services"]}


def native_command(service: dict) -> list[str]:
    """The command of a native Monit start program (after monit/bin/start.sh PIDFILE LOGFILE)."""
    return shlex.split(service["start"].replace('\\"', '"'))[3:]


def flags(command: list[str]) -> dict[str, str]:
    return dict(arg.split("=", 1) if "=" in arg else (arg, "") for arg in command if arg.startswith("--"))


def port_tuples(ports: list) -> list[tuple]:
    result = []
    for port in ports:
        if isinstance(port, dict):
            result.append((port.get("host_ip"), int(port["published"]), int(port["target"])))
        else:
            parts = str(port).split("/")[0].split(":")
            host = parts[0] if len(parts) == 3 else None
            result.append((host, int(parts[-2]), int(parts[-1])))
    return result


# --- the file is valid Compose ---------------------------------------------------------------------

def test_docker_compose_config_accepts_the_file(env_file):
    run(tool("docker-compose"), "-f", COMPOSE_FILE, "--env-file", env_file, "config", "-q", cwd=ROOT)


def test_compose_spec_schema_accepts_the_file():
    done = run(tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", COMPOSE_FILE)
    assert "ok" in done.stdout


def test_the_file_has_no_version_key(raw_compose):
    assert "version" not in raw_compose  # the Compose Specification has none


def test_docker_compose_config_passes_with_no_env_and_a_clean_environment(tmp_path):
    """A fresh clone: no .env and nothing set, as a new user runs `docker compose up --build`."""
    copy = tmp_path / "clone"
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, tracked.decode().split("\0")):
        if (ROOT / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, copy / name)
    assert not (copy / ".env").exists()
    clean = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path)}
    run(tool("docker-compose"), "config", "-q", cwd=copy, env=clean)
    resolved = yaml.safe_load(run(tool("docker-compose"), "config", cwd=copy, env=clean).stdout)
    config = resolved["services"]["config"]
    assert all(config["environment"].get(name, "") == "" for name in stack_secrets.NAMES)
    assert "--secrets" in config["command"]


# --- the same components as natively ---------------------------------------------------------------

def test_every_native_component_has_its_service_and_vice_versa(services):
    native = set(native_services()) | {"grafana"}  # Monit runs Grafana natively only where it is installed
    assert {compose_service_of(name) for name in native} == set(NATIVE_TO_COMPOSE.values()) | {APP}, \
        "a native component without a compose service (or a stale mapping)"
    expected = set(NATIVE_TO_COMPOSE.values()) | {APP} | set(STEPS)
    assert set(services) == expected, f"compose services without a native counterpart: {set(services) - expected}"


def test_the_number_of_app_servers_is_one_setting(env_file, tmp_path):
    """PIGGY_APP_SERVERS (default 2) is the app server service's replicas and what the `config`
    service renders HAProxy's slots and Prometheus' discovery for."""
    for count in ("2", "3"):
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIGGY_")}
        if count != "2":
            env["PIGGY_APP_SERVERS"] = count
        done = run(tool("docker-compose"), "-f", COMPOSE_FILE, "--env-file", env_file, "config", cwd=ROOT, env=env)
        resolved = yaml.safe_load(done.stdout)["services"]
        assert resolved[APP]["deploy"]["replicas"] == int(count)
        assert resolved["config"]["environment"]["PIGGY_APP_SERVERS"] == count
        files = render.compose_files({name: "x" for name in stack_secrets.NAMES},
                                     {"PIGGY_APP_SERVERS": resolved["config"]["environment"]["PIGGY_APP_SERVERS"]})
        assert f"server-template appserver 1-{count} {APP}:8001\n" in files["haproxy/haproxy.cfg"]
        assert f"server-template fallback-appserver 1-{count} {APP}:8001 backup" in files["haproxy/haproxy.cfg"]
        assert f"- names: ['{APP}']" in files["prometheus/prometheus.yml"]


def test_monit_is_the_main_process_where_it_supervises(services):
    """Monit itself: the main process of each container whose programs it supervises natively."""
    native = native_services()
    for container, monitored in render.monit_containers(render.compose_db_nodes(1)).items():
        assert container in services
        if container != APP:  # the app server replicas' Monit service is named after their service
            assert set(monitored) <= set(native)
            assert {compose_service_of(name) for name in monitored} == {container}
        command = services[container].get("command") or []
        if container == "db":  # its entrypoint makes the data directory, then execs supervise.sh
            text = (ROOT / "docker" / "db" / "entrypoint.sh").read_text()
            assert f"config={render.COMPOSE_CONF}/${{PIGGY_DB_NODE:-db}}\n" in text  # db/ for the single MariaDB
            assert re.search(rf'exec {render.COMPOSE_ROOT}/monit/bin/supervise.sh "\$config/monitrc"', text)
        else:
            assert command[:2] == [f"{render.COMPOSE_ROOT}/monit/bin/supervise.sh",
                                   f"{render.COMPOSE_CONF}/{container}/monitrc"]


def test_the_app_servers_listen_where_nginx_and_prometheus_look(services):
    context = render.compose_context({name: "x" for name in stack_secrets.NAMES})
    for server in context["app_servers"]:
        assert server["host"] == APP and server["port"] == context["app_service"]["port"]
        assert f"http://127.0.0.1:{server['port']}/api/liveness" in " ".join(services[APP]["healthcheck"]["test"])
    for host in context["hosts"].values():
        assert host in services, f"{host} is a host in the rendered configs but no compose service"


def test_the_official_images_run_with_the_native_flags(services):
    native = native_services()
    for name in ("prometheus", "alertmanager", "mysqld-exporter", "blackbox-exporter"):
        theirs, ours = flags(native_command(native[name])), flags(services[name]["command"])
        assert set(theirs) == set(ours), f"{name}: flags differ from the native ones"
        for flag, value in theirs.items():
            if flag not in PLACE_FLAGS:
                assert ours[flag] == value, f"{name}: {flag}={ours[flag]!r}, natively {value!r}"


def test_config_files_are_read_from_where_the_config_service_writes_them(services, raw_compose):
    outputs = {f"{render.COMPOSE_CONF}/{path}" for path in render.compose_files(
        {name: "x" for name in stack_secrets.NAMES})}
    for name in ("prometheus", "alertmanager", "mysqld-exporter"):
        paths = [v for f, v in flags(services[name]["command"]).items() if f in {"--config.file", "--config.my-cnf"}]
        assert paths and set(paths) <= outputs, f"{name} reads a file the config service does not write"
    assert services["grafana"]["environment"]["GF_PATHS_CONFIG"] in outputs
    assert f"{render.COMPOSE_CONF}/nginx/nginx.conf" in (ROOT / "docker/nginx/Dockerfile").read_text()
    # the blackbox exporter's file is the native one, mounted
    blackbox = flags(native_command(native_services()["blackbox-exporter"]))["--config.file"]
    mounts = {m.split(":")[1]: m.split(":")[0] for m in raw_compose["services"]["blackbox-exporter"]["volumes"]}
    ours = flags(services["blackbox-exporter"]["command"])["--config.file"]
    assert (ROOT / mounts[ours]).resolve() == Path(blackbox).resolve()


# --- ports, health, order, restarts ----------------------------------------------------------------

def test_only_the_intended_ports_are_published(services):
    published = {name: port_tuples(s["ports"]) for name, s in services.items() if s.get("ports")}
    assert published == PUBLISHED


def test_monit_web_interface_is_never_published(services):
    monit_port = Stack.from_env({}).ports["monit"]
    for name, service in services.items():
        assert all(host_port != monit_port and container_port != monit_port
                   for _, host_port, container_port in port_tuples(service.get("ports", []))), name
        assert str(monit_port) not in " ".join(map(str, service.get("expose", [])))


def test_every_service_has_a_healthcheck_and_a_restart_policy(services):
    for name, service in services.items():
        check = service.get("healthcheck")
        assert check, f"{name} has no healthcheck"
        if check.get("test") == ["NONE"] or check.get("disable"):
            assert name in STEPS, f"{name}: only one-shot services may go without a health check"
            assert service.get("restart") == "no", f"{name}: a one-shot must not be restarted"
        else:
            assert check["test"][0] in {"CMD", "CMD-SHELL"} and len(check["test"]) > 1, name
            assert service.get("restart") == "unless-stopped", f"{name} is not restarted when it dies"


def test_depends_on_orders_the_start(services):
    def condition(service, dependency):
        return services[service].get("depends_on", {}).get(dependency, {}).get("condition")

    completed, healthy = "service_completed_successfully", "service_healthy"
    for name, service in services.items():
        mounts = [str(v) for v in service.get("volumes", [])]
        if name != "config" and any(m.startswith("config:") for m in mounts):
            assert condition(name, "config") == completed, f"{name} reads the config volume before it is rendered"
        for dependency, spec in service.get("depends_on", {}).items():
            expected = completed if dependency in STEPS else healthy
            assert spec["condition"] == expected, f"{name} -> {dependency}: {spec['condition']}"
    assert condition("migrate", "db") == healthy
    assert condition(APP, "migrate") == completed
    assert condition("haproxy", APP) == healthy
    assert condition("nginx", "haproxy") == healthy
    assert condition("mysqld-exporter", "db") == healthy
    assert condition("grafana", "prometheus") == healthy
    assert condition("locust", "nginx") == healthy
    assert services["locust"].get("profiles") == ["load"]


def test_volumes_keep_the_data(services, compose):
    assert "db-data:/var/lib/mysql" in [str(v).removesuffix(":rw") for v in services["db"]["volumes"]]
    assert set(compose["volumes"]) >= {"db-data", "config", "tls", "prometheus-data", "grafana-data"}
    for name, service in services.items():  # configs and certificates are mounted read-only where they are read
        for volume in map(str, service.get("volumes", [])):
            if volume.split(":")[0] in {"config", "tls"} and name != "config":
                assert volume.endswith(":ro"), f"{name}: {volume}"


# --- secrets ---------------------------------------------------------------------------------------

def test_env_example_names_every_secret_without_a_value():
    lines = [line for line in (ROOT / ".env.example").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert {line.split("=", 1)[0] for line in lines} == set(stack_secrets.NAMES)
    assert all(line.split("=", 1)[1] == "" for line in lines), ".env.example must not hold values"


def test_secrets_are_generated_by_the_config_service_and_read_from_files(services, raw_compose):
    """Only the config service takes secrets from the environment, each optional; it alone mounts the
    `secrets` volume; the others read the files it renders for them."""
    text = COMPOSE_FILE.read_text()
    assert set(re.findall(r"\$\{(\w+)", text)) <= set(stack_secrets.NAMES) | OPTIONAL_VARIABLES
    for name in stack_secrets.NAMES:  # never required: with nothing set, the config service generates them
        assert re.findall(rf"\$\{{{name}(:-|-|:\?|\?|\}})", text) == [":-"], name
    for name, service in raw_compose["services"].items():
        named = set(service.get("environment") or {}) & set(stack_secrets.NAMES)
        assert name == "config" or not named, f"{name} takes secrets from the environment: {named}"
        mounts = {str(v).split(":")[0] for v in service.get("volumes", [])}
        assert ("secrets" in mounts) == (name == "config"), f"{name} and the secrets volume"
    outputs = {f"{render.COMPOSE_CONF}/{path}" for path in render.compose_files({n: "x" for n in stack_secrets.NAMES})}
    assert services["migrate"]["environment"]["PIGGY_SECRETS_FILE"] in outputs
    assert services["grafana"]["environment"]["GF_SECURITY_ADMIN_PASSWORD__FILE"] in outputs
    assert "DATA_SOURCE_NAME" not in text  # mysqld-exporter >= 0.15 reads --config.my-cnf only
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".env" in ignored and "run" in ignored
    assert ".env" in (ROOT / ".gitignore").read_text().split()
    tracked = subprocess.run(["git", "ls-files", ".env", "run"], cwd=ROOT, capture_output=True, text=True).stdout
    assert tracked == ""


def test_no_image_layer_can_hold_a_secret():
    """COPY takes only the repository's tracked files (never .env, run/ or a secrets file), and no
    ENV or ARG names a secret: the images are the same whoever builds them."""
    secret_words = re.compile(r"SECRET|PASSWORD|TOKEN|PASSWD|CREDENTIAL|KEY", re.IGNORECASE)
    tracked = set(subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split())
    for dockerfile in DOCKERFILES:
        for instruction, args in dockerfile_instructions(dockerfile):
            if instruction in {"ENV", "ARG"}:
                names = re.findall(r"(\w+)=", args) or [args.split()[0]]
                assert not any(secret_words.search(n) or n in stack_secrets.NAMES for n in names), \
                    f"{dockerfile}: {instruction} {args}"
            if instruction in {"COPY", "ADD"} and "--from=" not in args:
                for source in [a for a in shlex.split(args)[:-1] if not a.startswith("--")]:
                    path = (ROOT / source).resolve()
                    files = [path] if path.is_file() else [f for f in path.rglob("*") if f.is_file()]
                    for file in files:
                        relative = str(file.relative_to(ROOT))
                        assert relative in tracked or _dockerignored(relative), \
                            f"{dockerfile}: COPY {source} would take {relative}, which git does not track"
                        assert not re.search(r"(^|/)(\.env|secrets\.env|run/)", relative), relative


def test_compose_env_writes_every_secret_privately_and_keeps_them(tmp_path):
    target = tmp_path / ".env"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIGGY_")} | {"PYTHONPATH": str(ROOT)}
    run("python3", "-m", "stack", "compose-env", "--out", target, env=env, cwd=tmp_path)
    first = stack_secrets.read(target)
    assert set(first) == set(stack_secrets.NAMES) and all(len(v) >= 32 for v in first.values())
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    run("python3", "-m", "stack", "compose-env", "--out", target, env=env, cwd=tmp_path)
    assert stack_secrets.read(target) == first


# --- images and Dockerfiles ------------------------------------------------------------------------

def test_hadolint_passes_every_dockerfile():
    assert DOCKERFILES, "no Dockerfiles under docker/"
    for dockerfile in DOCKERFILES:
        run(tool("hadolint"), dockerfile)


def _base_images() -> dict[str, list[str]]:
    return {str(d.relative_to(ROOT)): [args.split()[-3] if " AS " in args.upper() else args.split()[-1]
                                       for instruction, args in dockerfile_instructions(d) if instruction == "FROM"]
            for d in DOCKERFILES}


def test_every_image_is_pinned(raw_compose):
    images = [s["image"] for s in raw_compose["services"].values() if "image" in s]
    images += [image for bases in _base_images().values() for image in bases]
    for image in images:
        name, _, tag = image.rpartition(":")
        assert name and tag and "/" not in tag, f"{image} has no tag"
        assert tag != "latest" and re.search(r"\d+\.\d+\.\d+|\d{8}", tag), f"{image} is not pinned to a release"


def test_pins_follow_the_project(raw_compose):
    services = raw_compose["services"]
    grafana_version = (ROOT / "grafana" / "VERSION").read_text().strip()
    assert services["grafana"]["image"] == f"grafana/grafana:{grafana_version}"
    dev = dict(line.split("==") for line in (ROOT / "requirements-dev.txt").read_text().splitlines()
               if "==" in line and not line.startswith("#"))
    assert _base_images()["docker/locust/Dockerfile"] == [f"locustio/locust:{dev['locust']}"]
    extra = dict(line.split("==") for line in (ROOT / "docker/locust/requirements.txt").read_text().splitlines()
                 if "==" in line and not line.startswith("#"))
    assert all(dev[name] == version for name, version in extra.items())
    (python,) = _base_images()["docker/app/Dockerfile"]
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm", python)  # pyproject: 3.11, as natively
    for service in ("mysqld-exporter", "blackbox-exporter", "prometheus", "alertmanager"):
        assert services[service]["image"].startswith(f"prom/{service}:v"), "the official Prometheus images"


def test_debian_packages_are_pinned_to_the_versions_the_native_stack_runs():
    pins = {}
    for dockerfile in DOCKERFILES:
        for instruction, args in dockerfile_instructions(dockerfile):
            for install in re.findall(r"apt-get install ([^&;]*)", args) if instruction == "RUN" else []:
                for package in (word for word in install.split() if not word.startswith("-")):
                    assert "=" in package, f"{dockerfile}: {package} is not pinned to a version"
                    pins.update([package.split("=", 1)])
    assert {"monit", "tini", "mariadb-server-core", "mariadb-client"} <= set(pins)
    for package, version in pins.items():
        installed = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True)
        if installed.returncode == 0 and installed.stdout:
            assert installed.stdout == version, f"{package}: the image pins {version}, the native stack runs " \
                                                f"{installed.stdout} (bump the pin in the Dockerfile)"


def test_image_users_match_the_owners_of_the_rendered_files(raw_compose):
    app = (ROOT / "docker/app/Dockerfile").read_text()
    db = (ROOT / "docker/db/Dockerfile").read_text()
    assert f"--uid {render.APP_UID} " in app and f"USER {render.APP_UID}:{render.APP_UID}" in app
    assert f"--uid {render.MYSQL_UID} " in db and f"USER {render.MYSQL_UID}:{render.MYSQL_UID}" in db
    assert raw_compose["services"]["mysqld-exporter"]["user"] == f"{render.EXPORTER_UID}:{render.EXPORTER_UID}"


def test_the_db_entrypoint_makes_the_data_directory_as_natively():
    text = (ROOT / "docker/db/entrypoint.sh").read_text().replace("\\\n", " ")
    (command,) = [line for line in text.splitlines() if "mariadb-install-db" in line and "--datadir" in line]
    assert all(option in command.split() for option in database.INSTALL_DB_OPTIONS)
    assert '--datadir="$datadir"' in command and "datadir=" + str(render.compose_db_nodes(1)[0]["data"]) in text


# --- every file that is copied or mounted exists -----------------------------------------------------

def _dockerignored(relative: str) -> bool:
    patterns = [p for p in (ROOT / ".dockerignore").read_text().split() if not p.startswith("#")]
    parts = Path(relative).parts
    return any(fnmatch("/".join(parts[:i]), p) for p in patterns for i in range(1, len(parts) + 1))


def test_every_file_a_dockerfile_copies_exists_in_the_build_context(raw_compose):
    contexts = {s["build"]["dockerfile"]: s["build"]["context"] for s in raw_compose["services"].values()
                if "build" in s}
    assert {str(d.relative_to(ROOT)) for d in DOCKERFILES} == set(contexts), "a Dockerfile that nothing builds"
    for dockerfile, context in contexts.items():
        assert (ROOT / context).resolve() == ROOT and (ROOT / dockerfile).is_file()
        for instruction, args in dockerfile_instructions(ROOT / dockerfile):
            if instruction in {"COPY", "ADD"} and "--from=" not in args:
                for source in shlex.split(args)[:-1]:
                    if source.startswith("--"):
                        continue
                    assert (ROOT / source).exists(), f"{dockerfile}: COPY {source}: no such file"
                    assert not _dockerignored(source.rstrip("/")), f"{dockerfile}: COPY {source} is .dockerignored"


def test_every_file_a_service_mounts_exists(raw_compose):
    pending = []
    for name, service in raw_compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                relative = source.removeprefix("./")
                if not (ROOT / relative).exists() and relative in PENDING:
                    pending.append(f"{name}: {source} ({PENDING[relative]})")
                    continue
                assert (ROOT / relative).exists(), f"{name} mounts {source}: no such file"
    if pending:
        pytest.skip("mounted but not in the repository yet: " + "; ".join(pending))


def test_the_commands_run_files_that_are_in_the_images(services):
    """Paths under /opt/piggybank in commands are the repository's files, copied into the images."""
    for name, service in services.items():
        for arg in service.get("command") or []:
            if str(arg).startswith(f"{render.COMPOSE_ROOT}/"):
                source = ROOT / str(arg).removeprefix(f"{render.COMPOSE_ROOT}/")
                assert source.is_file(), f"{name} runs {arg}, which is not in the repository"
                if source.suffix == ".sh":
                    assert os.access(source, os.X_OK), f"{source} is not executable"
    for script in ("docker/db/entrypoint.sh", "monit/bin/supervise.sh", "monit/bin/start.sh", "monit/bin/stop.sh"):
        assert os.access(ROOT / script, os.X_OK), f"{script} is not executable"
        run("sh", "-n", ROOT / script)


def test_the_app_image_holds_what_the_config_service_renders():
    """The `config` service renders from the app image: every template and the code must be in it."""
    copied = image_files(ROOT / "docker" / "app" / "Dockerfile")
    in_image = {path.resolve() for path in copied.values()}
    needed = [ROOT / t for t in (*render.TEMPLATES.values(), render.GRAFANA_TEMPLATE)]
    needed += list((ROOT / "monit" / "services").glob("*.j2")) + [ROOT / "stack" / "render.py", ROOT / "app"]
    for path in needed:
        assert any(path.resolve() == p or p in path.resolve().parents for p in in_image), \
            f"{path.relative_to(ROOT)} is not copied into the app image"
    assert "/opt/piggybank/app" in copied and str(render.COMPOSE_ROOT) == "/opt/piggybank"
