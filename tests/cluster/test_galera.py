"""The Galera cluster as an operator meets it: three nodes Synced behind one writer, a killed node
back by IST (not a full copy), a node woken from a hang kept out until it has rejoined, and a cold
start after a full stop or a crash of every node that bootstraps the right node and loses nothing."""

import contextlib
import io
import os
import signal
import subprocess
import time

import pytest
import requests
from sqlalchemy import text

from stack import control, galera
from stack.settings import ROOT
from tests.cluster.conftest import log_since, log_size, root_sql
from tests.observability import dashboards as dash
from tests.observability.live import Prometheus
from tests.polling import wait_until

SST = "Preparing the backup"  # the joiner's side of a full copy (wsrep_sst_mariabackup)
IST = "Running IST"           # the joiner asked for, and got, only the writes it missed


def node_named(stack, name):
    return next(node for node in stack.db_nodes if node.name == name)


def not_the_writer(stack):
    writer = galera.writer(stack)
    return next(node for node in stack.db_nodes if node.name != writer)


def healthy_cluster(stack) -> bool:
    candidates = galera.writer_candidates(stack)
    return (all(galera.synced(node) for node in stack.db_nodes) and len(candidates) == len(stack.db_nodes)
            and set(candidates.values()) == {"UP"})


def wait_healthy(stack, timeout: float = 90):
    wait_until("every node Synced in one primary component and UP in HAProxy", lambda: healthy_cluster(stack),
               timeout=timeout, interval=0.5)


def probe(node) -> tuple[int, dict]:
    try:
        answer = requests.get(f"http://127.0.0.1:{node.galera['check']}/", timeout=2)
        return answer.status_code, answer.json()
    except requests.RequestException as error:
        return 0, {"error": str(error)}


@pytest.fixture(scope="module")
def rows(db_engine):
    """A scratch table written through HAProxy's writer, to count what every node has."""
    with db_engine.connect() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS cluster_rows (id INT AUTO_INCREMENT PRIMARY KEY, batch INT)"))
        conn.commit()

    def write(batch: int, count: int) -> None:
        with db_engine.connect() as conn:
            for _ in range(count):
                conn.execute(text("INSERT INTO cluster_rows (batch) VALUES (:b)"), {"b": batch})
                conn.commit()

    yield write
    with db_engine.connect() as conn:
        conn.execute(text("DROP TABLE cluster_rows"))
        conn.commit()


def counts(stack) -> dict[str, int]:
    return {node.name: int(root_sql(node, "SELECT COUNT(*) FROM piggybank.cluster_rows")) for node in stack.db_nodes}


def stop_node(stack, name: str) -> None:
    """A clean stop of one node, as `make down` stops it, with Monit told to leave it alone."""
    control.monit(stack, "unmonitor", name)
    subprocess.run([str(ROOT / "monit" / "bin" / "stop.sh"), str(stack.pidfile(name)), "20"], check=True)


def up(stack) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        control.up(stack)
    print(out.getvalue())
    return out.getvalue()


def test_three_nodes_are_synced_behind_one_writer(stack):
    wait_healthy(stack)
    writer = galera.writer(stack)
    assert writer in {node.name for node in stack.db_nodes}
    for node in stack.db_nodes:
        status = galera.status(node)
        assert status["wsrep_cluster_size"] == "3" and status["wsrep_cluster_status"] == "Primary", status
        code, body = probe(node)
        assert code == 200 and body["ready"] is True, body
    for server in stack.app_servers:  # the app servers reach the database through the writer
        health = requests.get(f"http://127.0.0.1:{server.port}/api/healthcheck", timeout=5).json()
        assert health["db"]["status"] == "ok", health


GALERA_ROW = "Galera cluster"


def galera_row_queries() -> list[tuple[dict, dict]]:
    board = dash.load(dash.GRAFANA / "dashboards" / "piggybank-database.json")
    found, in_row = [], False
    for panel in board["panels"]:
        if panel["type"] == "row":
            in_row = panel["title"].startswith(GALERA_ROW)
        elif in_row:
            found += [(panel, target) for target in panel["targets"]]
    return found


def test_the_database_dashboard_shows_each_node_and_the_writer(stack):
    """Every query of the dashboard's cluster row, as Grafana would run it, answers for each node
    (or, for the writer, names the writer); the node states read Synced."""
    prometheus = Prometheus(stack)
    names = {node.name for node in stack.db_nodes}
    queries = galera_row_queries()
    assert len(queries) >= 6
    for panel, target in queries:
        expr = dash.substitute(target["expr"], {}, rate_interval="30s")

        def labels(e=expr, key="dbnode"):
            return {series["metric"].get(key) for series in prometheus.query(e)}
        if panel["title"] == "Writer":
            wait_until("the dashboard to name the writer", lambda e=expr: labels(e, "server") == {galera.writer(stack)},
                       timeout=60)
        elif "{{dbnode}}" in target["legendFormat"]:
            wait_until(f"{panel['title']} to answer for {sorted(names)}", lambda e=expr: labels(e) == names, timeout=60)
        else:
            wait_until(f"{panel['title']} [{target['refId']}] to answer", lambda e=expr: prometheus.query(e),
                       timeout=60)
    states = prometheus.query(dash.substitute(galera_row_queries()[0][1]["expr"], {}))
    assert {series["metric"]["dbnode"]: series["value"][1] for series in states} == dict.fromkeys(names, "4")


def test_make_status_shows_each_node_and_the_writer(stack, capsys):
    wait_healthy(stack)
    assert control.status(stack) == 0
    out = capsys.readouterr().out
    writer = galera.writer(stack)
    assert f"Galera cluster: writer {writer}" in out
    for node in stack.db_nodes:
        assert f"  {node.name} " in out and "Synced, Primary component of 3" in out


def test_a_killed_node_rejoins_by_ist_not_by_a_full_copy(stack, rows):
    wait_healthy(stack)
    victim = not_the_writer(stack)
    log = stack.logfile(victim.name)
    offset = log_size(log)
    rows(1, 50)
    old = int(stack.pidfile(victim.name).read_text())
    os.kill(old, signal.SIGKILL)
    rows(2, 200)  # the survivors commit meanwhile: the victim has to catch up on these
    wait_until(f"Monit to restart {victim.name}", lambda: int(stack.pidfile(victim.name).read_text()) != old,
               timeout=30)
    wait_healthy(stack)
    since = log_since(log, offset)
    assert "galera-start: mariadbd --wsrep_start_position=" in since, "the position was not recovered first"
    assert IST in since and "IST received" in since, since[-3000:]
    assert SST not in since, "the killed node received a full copy (SST)"
    assert len(set(counts(stack).values())) == 1, counts(stack)


def test_a_node_woken_from_a_hang_stays_out_until_it_has_rejoined(stack):
    """The trap: a node resumed after SIGSTOP says Synced for seconds while it cannot commit. Its
    probe must not call it ready then, and the writer must not move back to it."""
    wait_healthy(stack)
    writer = galera.writer(stack)
    victim = not_the_writer(stack)
    pid = int(stack.pidfile(victim.name).read_text())
    os.kill(pid, signal.SIGSTOP)
    try:
        wait_until(f"HAProxy to mark the hung {victim.name} down",
                   lambda: galera.writer_candidates(stack).get(victim.name) == "DOWN", timeout=20)
        time.sleep(6)  # the others have left it out of the cluster meanwhile
    finally:
        os.kill(pid, signal.SIGCONT)
    seen = []
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        seen.append(probe(victim))
        time.sleep(0.1)
    assert seen and all(code == 503 for code, _ in seen), seen
    wait_until(f"{victim.name} to rejoin and its probe to say ready", lambda: probe(victim)[0] == 200, timeout=60)
    wait_healthy(stack)
    assert galera.writer(stack) == writer, "the writer moved although it never failed"
    assert int(stack.pidfile(victim.name).read_text()) == pid, "Monit restarted the node instead of letting it rejoin"


def connected(node) -> int:
    """The node's probe on /connected: 503 once it has left its group for good (wsrep_connected OFF)."""
    try:
        return requests.get(f"http://127.0.0.1:{node.galera['check']}/connected", timeout=2).status_code
    except requests.RequestException:
        return 0


def test_a_node_that_left_its_group_for_good_is_restarted_and_rejoins(stack, rows):
    """A node can stay up and answer while it is out of the group for good (wsrep_connected OFF, as
    after an IST that missed a write set). gmcast.isolate=2 ends its group communication the same way.
    After 10 s of its probe's /connected answering 503 Monit kills it (a clean shutdown would wait
    for the lost group) and starts it again, and it rejoins by IST."""
    wait_healthy(stack)
    victim = not_the_writer(stack)
    log = stack.logfile(victim.name)
    offset = log_size(log)
    pid = int(stack.pidfile(victim.name).read_text())
    root_sql(victim, "SET GLOBAL wsrep_provider_options = 'gmcast.isolate=2'")
    wait_until(f"{victim.name} to say it is out of its group", lambda: connected(victim) == 503, timeout=10)
    assert root_sql(victim, "SELECT 1") == "1", "the node should still answer, alone"
    rows(3, 20)  # the others go on; the victim has to catch up on these
    wait_until(f"Monit to restart {victim.name}", lambda: int(stack.pidfile(victim.name).read_text()) != pid,
               timeout=40)
    wait_healthy(stack)
    assert connected(victim) == 200
    assert f"'{victim.name}' exec:" in (stack.run / "monit" / "monit.log").read_text()
    since = log_since(log, offset)
    assert IST in since and SST not in since, since[-3000:]
    assert len(set(counts(stack).values())) == 1, counts(stack)


def test_a_full_stop_and_start_bootstraps_the_node_that_stopped_last(stack, rows):
    wait_healthy(stack)
    rows(3, 20)
    expected = counts(stack)
    for name in ("db1", "db3", "db2"):  # db2 stops last: the one safe to bootstrap from
        stop_node(stack, name)
    assert galera.saved_state(node_named(stack, "db2")).safe_to_bootstrap
    assert not galera.saved_state(node_named(stack, "db1")).safe_to_bootstrap
    control.down(stack)
    offsets = {node.name: log_size(stack.logfile(node.name)) for node in stack.db_nodes}
    out = up(stack)
    assert "bootstrap from db2: safe_to_bootstrap: 1" in out
    wait_healthy(stack)
    for node in stack.db_nodes:
        since = log_since(stack.logfile(node.name), offsets[node.name])
        assert SST not in since, f"{node.name} received a full copy after a clean stop"
    bootstrapped = log_since(stack.logfile("db2"), offsets["db2"])
    assert "--wsrep-new-cluster" in bootstrapped
    assert counts(stack) == expected


def test_after_a_crash_of_every_node_the_most_advanced_one_bootstraps(stack, rows):
    wait_healthy(stack)
    for node in stack.db_nodes:  # no restarts by Monit: this is a crash of everything
        control.monit(stack, "unmonitor", node.name)
    behind = not_the_writer(stack)
    os.kill(int(stack.pidfile(behind.name).read_text()), signal.SIGKILL)
    others = [node for node in stack.db_nodes if node.name != behind.name]
    wait_until("the two others to go on without it",
               lambda: all(galera.status(n).get("wsrep_cluster_size") == "2" for n in others), timeout=30)
    rows(4, 100)  # committed on two nodes only: the third is behind
    expected = counts_of(stack, others)
    for node in others:
        os.kill(int(stack.pidfile(node.name).read_text()), signal.SIGKILL)
    control.down(stack)
    for node in stack.db_nodes:
        assert galera.saved_state(node).seqno == -1 and not galera.saved_state(node).safe_to_bootstrap
    offset = log_size(stack.logfile(behind.name))
    out = up(stack)
    chosen = out.split("bootstrap from ", 1)[1].split(":", 1)[0]
    assert "the most advanced after a crash" in out and chosen != behind.name, out
    wait_healthy(stack)
    assert set(counts(stack).values()) == {expected}, counts(stack)
    since = log_since(stack.logfile(behind.name), offset)
    assert IST in since and SST not in since, f"{behind.name} caught up with a full copy"


def counts_of(stack, nodes) -> int:
    (count,) = {int(root_sql(node, "SELECT COUNT(*) FROM piggybank.cluster_rows")) for node in nodes}
    return count


def test_parallel_new_connections_all_go_to_the_writer(stack):
    """With the writer moved off the first node in line, a burst of parallel new connections (the app
    servers' pools refilling after a failover) must all stick to it: none to the first in line."""
    from concurrent.futures import ThreadPoolExecutor

    import pymysql

    from stack import haproxy
    from stack.secrets import read

    wait_healthy(stack)
    first = stack.db_nodes[0].name
    password = read(stack.secrets_file)["PIGGY_DB_PASSWORD"]

    def node_of_a_new_connection(_i) -> str:
        connection = pymysql.connect(host="127.0.0.1", port=stack.ports["db"], user="piggybank", password=password,
                                     ssl_disabled=True, connect_timeout=5)
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT @@wsrep_node_name")
                name = cursor.fetchone()[0]
            time.sleep(0.5)  # keep it open while the others connect
            return name
        finally:
            connection.close()

    if galera.writer(stack) == first:  # move the writer: take the first node out, connect once, put it back
        haproxy.command(stack, f"disable server galera_writer/{first}")
        wait_until("the writer to move", lambda: node_of_a_new_connection(0) != first, timeout=20)
        haproxy.command(stack, f"enable server galera_writer/{first}")
        wait_healthy(stack)
    writer = galera.writer(stack)
    assert writer != first
    with ThreadPoolExecutor(40) as pool:
        nodes = list(pool.map(node_of_a_new_connection, range(80)))
    assert set(nodes) == {writer}, {name: nodes.count(name) for name in set(nodes)}
