"""A rehearsal of the db, migrate, appserver1, haproxy and nginx containers without an engine.

The containers' files are laid out at their container paths in private mount, network and pid
namespaces (tests/compose/containerfs.py), and their own commands run there, with the host's
binaries of the same versions (MariaDB 10.11, Monit 5.33, tini, HAProxy 2.6.12; nginx 1.22 instead
of the image's 1.28): docker/db/entrypoint.sh as uid 999 makes the data directory and hands over to Monit
(monit/bin/supervise.sh), MariaDB applies init.sql, the compose `migrate` command migrates over the
network name `db`, Monit restarts a killed mariadbd and app server, a SIGTERM (docker stop) stops
them cleanly, a second start keeps the data, and nginx serves the API through HAProxy and an app server
with the certificate of the `config` service. What it cannot show: the images themselves (README).
"""

import shlex
import shutil

import pytest

from stack import render
from stack.settings import ROOT
from tests.compose.conftest import DOCKERFILES, dockerfile_instructions, image_files
from tests.compose.containerfs import run_in_layout

CONF = render.COMPOSE_CONF
WAIT = "for i in $(seq {tenths}); do {check} >/dev/null 2>&1 && break; sleep 0.1; done; {check} >/dev/null 2>&1"


def sh(args) -> str:
    return " ".join(shlex.quote(str(a)) for a in args)


def as_user(uid: int, command: str) -> str:
    return f"setpriv --reuid={uid} --regid={uid} --clear-groups -- {command}"


def env_prefix(environment: dict) -> str:
    return "env -i PATH=/usr/local/bin:/usr/bin:/bin " + " ".join(f"{k}={shlex.quote(str(v))}"
                                                                   for k, v in environment.items())


APP_ADDRESS, HOST_ADDRESS = "10.99.0.2", "10.99.0.1"  # the app server's own network, as in a bridge network
ABSENT_ADDRESS = "10.99.0.3"
TOOLS = ("unshare", "nsenter", "setpriv", "ip", "curl", "tini", "monit", "mariadbd", "mariadb-install-db", "mariadb",
         "mariadb-admin", "haproxy", "nginx")


@pytest.fixture(scope="module")
def rehearsal(tmp_path_factory, services, secrets):
    """db (and nginx, migrate) in one network namespace; appserver1 in its own, joined by a veth pair."""
    missing = [t for t in TOOLS if not shutil.which(t)]
    if missing:
        pytest.skip(f"not installed: {' '.join(missing)} (make install and make install-test install them)")
    work = tmp_path_factory.mktemp("rehearsal")
    dockerfiles = {d.parent.name: d for d in DOCKERFILES}
    db_dirs = [part.strip() for instruction, args in dockerfile_instructions(dockerfiles["db"]) if instruction == "RUN"
               for part in args.split("&&") if part.strip().startswith("install -d")]
    assert db_dirs, "the db Dockerfile makes its directories with install -d"
    assert "PYTHONPATH=/opt/piggybank" in dockerfiles["app"].read_text()
    python = f"#!/bin/sh\nexec {ROOT / '.venv' / 'bin' / 'python'} \"$@\"\n"
    state, logs = render.COMPOSE_STATE, render.COMPOSE_LOGS
    # What the app and db images copy from the repository, where they copy it to.
    layout = {**image_files(dockerfiles["app"]), **image_files(dockerfiles["db"]),
              "/usr/local/bin/python": python,
              "/usr/share/piggybank/www": ROOT / "nginx" / "placeholder",
              "/var/cache/nginx/.keep": "", "/var/lib/haproxy/.keep": ""}
    (work / "app-hosts").write_text(f"127.0.0.1 localhost\n{HOST_ADDRESS} db\n")
    # As the images are built: the db image's directories (its Dockerfile's own `install -d` lines);
    # the app container's state and logs are its own (bound over the same paths in its namespace).
    # The rehearsal runs the app server as root: the host's Python lives under /root, which the app
    # image's user could not read, so its control file is given to root after the config step.
    setup = ("rm -rf /var/lib/mysql", *db_dirs,
             f"install -d {state}-app/monit {state}-app/pids {logs}-app",
             "chmod 0755 /usr/local/bin/python",
             f"echo '{APP_ADDRESS} appserver1' >>/etc/hosts",
             f"echo '{ABSENT_ADDRESS} appserver2' >>/etc/hosts")  # not started here: nginx must do without it
    db_health = as_user(render.MYSQL_UID, sh(services["db"]["healthcheck"]["test"][1:]))
    in_app = f"nsenter -t $(cat {work}/app.pid) -n -m --"
    app_health = f"{in_app} {sh(services['appserver1']['healthcheck']['test'][1:])}"
    image_env = {"PYTHONPATH": str(render.COMPOSE_ROOT)}  # the app image's ENV; its WORKDIR is the same place
    migrate = (f"cd {render.COMPOSE_ROOT} && " + env_prefix({**services["migrate"]["environment"], **image_env})
               + " " + sh(services["migrate"]["command"]))
    app_container = (
        "unshare --net --mount --propagation private bash -c "
        + shlex.quote(f"mount --bind {state}-app {state} && mount --bind {logs}-app {logs} && "
                      f"mount --bind {work}/app-hosts /etc/hosts && "
                      f"for i in $(seq 50); do ip -o addr show eth0 2>/dev/null | grep -q {APP_ADDRESS} && break; "
                      f"sleep 0.1; done; exec {env_prefix(services['appserver1']['environment'])} "
                      f"/usr/bin/tini -- {sh(services['appserver1']['command'])}")
        + f" >>{work}/app.out 2>&1 & echo $! >{work}/app.pid; sleep 0.2; "
        f"ip link add vapp type veth peer name eth0 netns $(cat {work}/app.pid) && "
        f"ip addr add {HOST_ADDRESS}/24 dev vapp && ip link set vapp up && "
        f"nsenter -t $(cat {work}/app.pid) -n sh -c 'ip addr add {APP_ADDRESS}/24 dev eth0 && ip link set eth0 up "
        f"&& ip link set lo up'; ")
    mysql = "mariadb --no-defaults -h db -P 3307 -N -B"
    app_pw, exporter_pw = secrets["PIGGY_DB_PASSWORD"], secrets["PIGGY_EXPORTER_DB_PASSWORD"]
    db_start = (f"{as_user(render.MYSQL_UID, '/usr/bin/tini -- /usr/local/bin/piggybank-db')} "
                f">>{work}/db.out 2>&1 & echo $! >{work}/db.pid; ")
    mariadbd_pid = "$(cat /run/mysqld/mysqld.pid)"
    app_pid = f"$(cat {state}-app/pids/appserver1.pid)"
    config = services["config"]
    commands = {
        # the `config` service's own command and environment, as root, from the app image's files
        "config renders": f"cd {render.COMPOSE_ROOT} && "
                          + env_prefix({**config["environment"], **image_env})
                          + " " + sh(config["command"])
                          # the rehearsal runs the app server as root (see setup): its control file too
                          + f" && chown 0:0 {CONF}/appserver1/monitrc",
        "db starts": db_start + WAIT.format(tenths=600, check=db_health) + f" || {{ cat {work}/db.out; exit 1; }}",
        "db users": f"{mysql} -u piggybank -p{shlex.quote(app_pw)} -e 'SHOW GRANTS' && "
                    f"{mysql} -u exporter -p{shlex.quote(exporter_pw)} -e 'SHOW GRANTS'",
        "db root by socket only": f"{mysql} -u root -e 'SELECT 1'",
        "migrate": migrate,
        "migrate again": migrate,
        "monit restarts mariadbd": f"old={mariadbd_pid}; kill -9 $old; sleep 0.5; start=$(date +%s%N); "
                                   + WAIT.format(tenths=300, check=db_health)
                                   + f" && [ {mariadbd_pid} != $old ] && echo restarted in "
                                     "$(( ($(date +%s%N) - start) / 1000000 )) ms",
        "app starts": app_container + WAIT.format(tenths=300, check=app_health)
                      + f" || {{ cat {work}/app.out; exit 1; }}; {in_app} python -c "
                      + shlex.quote("import urllib.request; print(urllib.request.urlopen("
                                    "'http://127.0.0.1:8001/api/healthcheck').read().decode())"),
        # the haproxy service's command (the image's entrypoint prepends `haproxy -W -db`): it finds
        # appserver1 by name (/etc/hosts here, Docker's DNS there), its checks take the absent
        # appserver2 out of rotation, and it answers from appserver1
        "haproxy balances the app server": (
            f"haproxy -W -db {sh(services['haproxy']['command'])} >>{work}/haproxy.out 2>&1 & "
            + WAIT.format(tenths=100, check=sh(services["haproxy"]["healthcheck"]["test"][1:])) + " && "
            + WAIT.format(tenths=50, check="curl -s 'http://127.0.0.1:8404/stats;csv' "
                                           "| grep -q '^appservers,appserver2,.*,DOWN,'")
            + " && curl -fs http://127.0.0.1:8000/api/liveness && curl -fs http://127.0.0.1:8000/api/liveness"
            + f" || {{ cat {work}/haproxy.out; exit 1; }}"),
        # Debian's nginx 1.22 predates "resolve" on upstream servers (open source since 1.27.3; the image has 1.28)
        "nginx serves the api": f"sed -i 's/ resolve;/;/' {CONF}/nginx/nginx.conf && "
                                f"nginx -c {CONF}/nginx/nginx.conf >>{work}/nginx.out 2>&1 & "
                                + WAIT.format(tenths=100, check="curl -fsk https://127.0.0.1:8080/healthz")
                                + " && curl -sk https://127.0.0.1:8080/api/healthcheck",
        "monit restarts the app server": f"old={app_pid}; kill -9 $old; sleep 0.5; "
                                         + WAIT.format(tenths=300, check=app_health) + f" && [ {app_pid} != $old ]",
        "the app logs reach the container's output": f"sleep 1; grep -c 'appserver1' {work}/app.out",
        "docker stop of the app server": f"kill -TERM $(cat {work}/app.pid); "
                                         f"for i in $(seq 150); do kill -0 $(cat {work}/app.pid) 2>/dev/null || break; "
                                         f"sleep 0.1; done; ! kill -0 {app_pid} 2>/dev/null "
                                         f"&& ! kill -0 $(cat {work}/app.pid) 2>/dev/null",
        "docker stop of the db": f"kill -TERM $(cat {work}/db.pid); for i in $(seq 300); do "
                                 f"kill -0 $(cat {work}/db.pid) 2>/dev/null || break; sleep 0.1; done; "
                                 f"! {db_health} && tail -n 5 {logs}/mariadb.log | grep -c 'Shutdown complete'",
        "db starts again with its data": db_start + WAIT.format(tenths=600, check=db_health)
                                         + f" && {mysql} -u piggybank -p{shlex.quote(app_pw)} "
                                           "-e 'SELECT COUNT(*) FROM piggybank.users'",
        "db entrypoint output": f"cat {work}/db.out",
    }
    hosts = sorted(set(render.COMPOSE_HOSTS.values()))
    return run_in_layout(work, layout, commands, hosts, timeout=300, setup=setup, processes=True)


def ok(rehearsal, step):
    result = rehearsal[step]
    assert result.returncode == 0, f"{step}:\n{result.output}"
    return result.output


def test_config_service_renders_from_the_app_images_files(rehearsal, secrets):
    output = ok(rehearsal, "config renders")
    assert f"rendered {len(render.compose_files(secrets))} files into {CONF}" in output and "made now" in output


def test_db_container_makes_its_data_directory_and_becomes_healthy(rehearsal):
    ok(rehearsal, "db starts")
    assert rehearsal["db entrypoint output"].output.count("creating the data directory") == 1


def test_db_users_come_from_init_sql_with_least_privilege(rehearsal):
    grants = ok(rehearsal, "db users")
    assert "GRANT ALL PRIVILEGES ON `piggybank`.* TO `piggybank`@`%`" in grants
    assert "GRANT PROCESS, BINLOG MONITOR, SLAVE MONITOR ON *.* TO `exporter`@`%`" in grants
    assert "MAX_USER_CONNECTIONS 3" in grants
    assert rehearsal["db root by socket only"].returncode != 0  # root has no password login


def test_migrate_service_migrates_once(rehearsal):
    assert '"applied": [' in ok(rehearsal, "migrate")
    assert '"applied": []' in ok(rehearsal, "migrate again")


def test_monit_restarts_a_killed_mariadbd(rehearsal):
    assert "restarted in" in ok(rehearsal, "monit restarts mariadbd")


def test_app_server_container_is_healthy_and_restarted_by_monit(rehearsal):
    health = ok(rehearsal, "app starts")  # over its own network: the database at db:3307 from another address
    assert '"status": "ok"' in health.replace('":"', '": "') and '"instance": "appserver1"' in health.replace(
        '":"', '": "')
    ok(rehearsal, "monit restarts the app server")
    assert int(ok(rehearsal, "the app logs reach the container's output").split()[-1]) > 0


def test_haproxy_container_config_balances_the_app_server(rehearsal):
    assert '"instance":"appserver1"' in ok(rehearsal, "haproxy balances the app server").replace(" ", "")


def test_nginx_container_config_serves_the_api_over_tls(rehearsal):
    assert '"status": "ok"' in ok(rehearsal, "nginx serves the api").replace('":"', '": "')


def test_docker_stop_stops_the_supervised_programs_cleanly(rehearsal):
    ok(rehearsal, "docker stop of the app server")
    ok(rehearsal, "docker stop of the db")


def test_db_keeps_its_data_across_a_restart(rehearsal):
    assert int(ok(rehearsal, "db starts again with its data").split()[-1]) >= 3
