"""The Galera cluster of `PIGGY_DB_NODES=3`: a safe cold start, the order of starting and stopping
the nodes, and what each node and HAProxy's writer say (make up, make down, make status, tests).

Cold start (no node running): the node to bootstrap a new primary component from is
  1. the one whose grastate.dat says `safe_to_bootstrap: 1` (the last to stop cleanly), else
  2. after a crash of all of them, the most advanced: the highest seqno that InnoDB recovers
     (galera_recovery), marked safe to bootstrap first, as Galera's documentation says, else
  3. with no data anywhere yet, db1 with a new data directory.
Never a blind --wsrep-new-cluster: bootstrapping the wrong node forks the history, and a node that
refuses to bootstrap resets its seqno to -1 (its next start needs a full SST). The launcher writes
the chosen node's bootstrap request and asks Monit to start it (mariadb/galera-start.sh honours the
request once); then the others, which join by IST, or by SST if their data directory is empty.
"""

import contextlib
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from stack import haproxy
from stack.settings import DbNode, Stack

GRASTATE = "grastate.dat"
LOCAL_STATES = {"1": "Joining", "2": "Donor/Desynced", "3": "Joined", "4": "Synced"}


@dataclass(frozen=True)
class SavedState:
    """A node's grastate.dat: its cluster's history (uuid), position (seqno) and bootstrap flag."""
    uuid: str
    seqno: int
    safe_to_bootstrap: bool


def saved_state(node: DbNode) -> SavedState | None:
    path = node.data / GRASTATE
    if not path.exists():
        return None
    fields = dict(re.findall(r"(?m)^(\w+):\s*(\S+)", path.read_text()))
    return SavedState(fields.get("uuid", ""), int(fields.get("seqno", "-1")), fields.get("safe_to_bootstrap") == "1")


def has_data(node: DbNode) -> bool:
    return (node.data / "mysql").is_dir()


def recovered_seqno(node: DbNode, config: Path) -> int:
    """The last committed position InnoDB recovers (galera_recovery runs `mariadbd --wsrep-recover`;
    only while the node is stopped)."""
    done = subprocess.run(["galera_recovery", f"--defaults-file={config}"], capture_output=True, text=True)
    found = re.search(r"--wsrep_start_position=\S+:(-?\d+)", done.stdout)
    if done.returncode != 0 or not found:
        raise RuntimeError(f"{node.name}: galera_recovery found no position: {done.stderr.strip()[-500:]}")
    return int(found.group(1))


def choose_bootstrap(states: dict[str, SavedState | None], seqno: Callable[[str], int]) -> tuple[str, str]:
    """The node (by name) that starts the new primary component, and why; `states` holds the saved
    state of every node that has data (None: it has data but no grastate.dat), `seqno(name)` recovers
    a position from InnoDB. Pure logic: tests/unit/test_galera.py."""
    if not states:
        raise ValueError("no node has data: make a new cluster instead")
    safe = sorted(name for name, state in states.items() if state and state.safe_to_bootstrap)
    if safe:
        state = states[safe[0]]
        return safe[0], f"safe_to_bootstrap: 1 in its {GRASTATE} (the last node to stop), seqno {state.seqno}"
    positions = {name: state.seqno if state and state.seqno >= 0 else seqno(name) for name, state in states.items()}
    histories = {state.uuid for state in states.values() if state and state.uuid.strip("0-")}
    if len(histories) > 1:
        raise RuntimeError(f"the nodes' data come from different clusters ({sorted(histories)}): "
                           "see docs/runbook.md#bootstrap-after-a-full-stop")
    best = max(positions, key=lambda name: (positions[name], -int(re.sub(r"\D", "", name) or 0)))
    others = ", ".join(f"{name} {positions[name]}" for name in sorted(positions) if name != best)
    return best, f"the most advanced after a crash: seqno {positions[best]}" + (
        f" (others: {others})" if others else "")


def mark_safe_to_bootstrap(node: DbNode) -> None:
    """What Galera's documentation has an operator do by hand for the most advanced node."""
    path = node.data / GRASTATE
    text = path.read_text()
    path.write_text(re.sub(r"(?m)^safe_to_bootstrap:.*$", "safe_to_bootstrap: 1", text))


# --- a running node ---------------------------------------------------------------------------------

def status(node: DbNode, timeout: float = 2.0) -> dict[str, str] | None:
    """The node's wsrep status variables (None when it does not answer)."""
    try:
        done = subprocess.run(
            ["mariadb", "--no-defaults", "-S", str(node.socket), "-uroot", "-N", "-B",
             f"--connect-timeout={max(1, int(timeout))}", "-e",
             "SELECT LOWER(VARIABLE_NAME), VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS"
             " WHERE VARIABLE_NAME IN ('wsrep_ready', 'wsrep_cluster_status', 'wsrep_cluster_size',"
             " 'wsrep_local_state', 'wsrep_local_state_comment', 'wsrep_last_committed',"
             " 'wsrep_local_commits', 'wsrep_flow_control_paused', 'wsrep_local_recv_queue',"
             " 'wsrep_evs_state')"], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    if done.returncode != 0:
        return None
    return dict(line.split("\t", 1) for line in done.stdout.splitlines() if "\t" in line)


def synced(node: DbNode) -> bool:
    """Synced and in the primary component: the node takes its part in every commit."""
    seen = status(node)
    return bool(seen) and seen.get("wsrep_local_state") == "4" and seen.get("wsrep_cluster_status") == "Primary"


def describe(node: DbNode) -> str:
    seen = status(node)
    if seen is None:
        return "not answering"
    return (f"{seen.get('wsrep_local_state_comment', '?')}, {seen.get('wsrep_cluster_status', '?')} component of "
            f"{seen.get('wsrep_cluster_size', '?')}, last committed {seen.get('wsrep_last_committed', '?')}, "
            f"local commits {seen.get('wsrep_local_commits', '?')}")


WRITER_SECTION = "galera_writer"  # the listen section of haproxy/galera-writer.cfg.j2


def writer(stack: Stack) -> str | None:
    """The node HAProxy sends the database's connections to: the one entry of its stick table
    (None before the first connection, or when HAProxy cannot be asked)."""
    try:
        found = re.search(r"server_key=(\S+)", haproxy.command(stack, f"show table {WRITER_SECTION}"))
    except OSError:
        return None
    return found.group(1) if found else None


def writer_rows(stack: Stack) -> dict[str, dict[str, str]]:
    """Each node's row of `show stat` in HAProxy's writer section ({} when HAProxy cannot be asked)."""
    try:
        rows = haproxy.stats(stack)
    except OSError:
        return {}
    return {row["svname"]: row for row in rows
            if row["pxname"] == WRITER_SECTION and row["svname"] not in ("FRONTEND", "BACKEND")}


def writer_candidates(stack: Stack) -> dict[str, str]:
    """Each node's state in HAProxy's writer section: UP, DOWN, or a transition such as "UP 1/2"."""
    return {name: row["status"] for name, row in writer_rows(stack).items()}


def print_status(stack: Stack) -> bool:
    """`make status` for the cluster: each node's state and HAProxy's view of it, and the writer.
    True when every node is Synced in one primary component and HAProxy has a writer UP."""
    candidates, current = writer_candidates(stack), writer(stack)
    print(f"Galera cluster: writer {current or 'none yet'} (HAProxy {stack.ports['db']} -> "
          + ", ".join(f"{name} {state}" for name, state in candidates.items()) + ")")
    healthy = candidates.get(current or "") == "UP"
    for node in stack.db_nodes:
        healthy &= synced(node)
        print(f"  {node.name:<4} {'writer' if node.name == current else '':<6} 127.0.0.1:{node.port}  {describe(node)}")
    return healthy


# --- make up / make down ----------------------------------------------------------------------------

def process_alive(stack: Stack, node: DbNode) -> bool:
    """Its process exists (answering or not: a joiner receiving an SST does not listen)."""
    try:
        pid = int(stack.pidfile(node.name).read_text().strip())
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except (OSError, ValueError):
        return False


def prepare_cold_start(stack: Stack, initialise: Callable[[DbNode], bool]) -> tuple[str, str] | None:
    """Before Monit starts the nodes: if none is running, choose the node to bootstrap from, mark it
    and write its bootstrap request (mariadb/galera-start.sh honours it once). Returns that node and
    why, None when the cluster is (partly) running and the others only have to rejoin it.
    `initialise` makes a new data directory (stack.database)."""
    nodes = stack.db_nodes
    if any(process_alive(stack, node) or status(node) is not None for node in nodes):
        return None
    with_data = {node.name: saved_state(node) for node in nodes if has_data(node)}
    if with_data:
        configs = {node.name: stack.conf / f"{node.name}.cnf" for node in nodes}
        name, why = choose_bootstrap(with_data, lambda n: recovered_seqno(by_name(stack, n), configs[n]))
    else:
        name, why = nodes[0].name, "a new cluster (no node has data yet)"
        initialise(nodes[0])
    first = by_name(stack, name)
    state = saved_state(first)
    if state and not state.safe_to_bootstrap:
        mark_safe_to_bootstrap(first)
    for node in nodes:
        node.data.mkdir(parents=True, exist_ok=True)  # an empty node joins by SST
        node.bootstrap_request.unlink(missing_ok=True)
    first.bootstrap_request.write_text(why + "\n")
    return name, why


def by_name(stack: Stack, name: str) -> DbNode:
    return next(node for node in stack.db_nodes if node.name == name)


class PrimaryLost(Exception):
    """The node `make up` bootstrapped has been out of any primary component for LOST_AFTER seconds
    while the others joined, and no node is Primary: the cluster will not form by itself."""


# A short partition heals by itself within ~1 s (measured: a 6 s SIGSTOP of the donor of the first
# SST); the stuck case below never does. Well before Monit kills a node whose group connection closed.
LOST_AFTER = 5.0


def wait_until_synced(stack: Stack, monit: Callable[..., object], wait_for: Callable[..., float],
                      bootstrap: str | None) -> None:
    """Ask Monit to start (or keep) every node, and wait until each is Synced in one primary
    component: the `bootstrap` node first, then the others (IST, or SST for an empty node; two
    empty ones take turns, as a donor serves one at a time). `wait_for` prints the progress line.
    Raises PrimaryLost when the bootstrap node loses its primary component meanwhile.

    Measured: the donor of the first SST, starved (SIGSTOP 12 s; a loaded 2-core machine in CI did the
    same), is left out by the joiners; its SST breaks, the joiner aborts ("restart required") and
    returns under a new identity, so the old primary component can never be re-formed, and the donor,
    given one by pc.bootstrap=YES, stays DONOR/DESYNCED for good. Only a new start helps (start_again)."""
    nodes = stack.db_nodes
    for node in nodes:
        monit("start", node.name)
    first = [node for node in nodes if node.name == bootstrap]
    lost_since: float | None = None  # when the bootstrap node was first seen out of its primary component
    asked_at = 0.0  # the nodes are asked once a second, not on every poll: a joining node needs the CPU

    def joined(node: DbNode) -> bool:
        nonlocal lost_since, asked_at
        if synced(node):
            return True
        now = time.monotonic()
        if not first or now - asked_at < 1.0:
            return False
        asked_at = now
        if not not_primary(stack, first[0]):
            lost_since = None
        elif lost_since is None:
            lost_since = now
        elif now - lost_since > LOST_AFTER:
            raise PrimaryLost(f"{first[0].name}, bootstrapped, left its primary component while {node.name}"
                              " joined, and no node is Primary")
        return False

    for node in first + [node for node in nodes if node not in first]:
        how = ("new primary component" if node in first else "running" if synced(node)
               else "joining by IST" if has_data(node) else "joining by SST: a full copy")
        wait_for(node.name, f"127.0.0.1:{node.port}  ({how})", lambda n=node: joined(n), 180)


def not_primary(stack: Stack, bootstrap: DbNode) -> bool:
    """The bootstrap node answers outside any primary component, and so does every other node that
    answers (a hung or restarting node does not answer: no verdict then)."""
    seen = {node.name: status(node, timeout=1.0) for node in stack.db_nodes}
    return seen[bootstrap.name] is not None and all(
        state.get("wsrep_cluster_status") != "Primary" for state in seen.values() if state)


def start_again(stack: Stack, monit: Callable[..., object], initialise: Callable[[DbNode], bool]) -> tuple[str, str]:
    """After PrimaryLost, during `make up` (nothing has written yet): kill every node, drop the data
    of those that never completed a join (an aborted SST leaves no history, only debris), and choose
    the node to bootstrap again as at any cold start (prepare_cold_start)."""
    for node in stack.db_nodes:
        monit("unmonitor", node.name)
        with contextlib.suppress(OSError, ValueError):
            os.kill(int(stack.pidfile(node.name).read_text().strip()), signal.SIGKILL)
    deadline = time.monotonic() + 30
    while any(process_alive(stack, node) for node in stack.db_nodes):
        if time.monotonic() > deadline:
            raise SystemExit("the database nodes did not exit after SIGKILL")
        time.sleep(0.1)
    for node in stack.db_nodes:
        state = saved_state(node)
        if not has_data(node) or not (state and state.uuid.strip("0-")):
            shutil.rmtree(node.data, ignore_errors=True)
    decided = prepare_cold_start(stack, initialise)
    if decided is None:
        raise SystemExit("a database node is still running after SIGKILL")
    return decided


def stop_order(stack: Stack) -> list[str]:
    """The database's Monit services in the order `make down` stops them: a cluster's nodes one at a
    time, db1 last, so that db1 is the one with safe_to_bootstrap: 1 and `make up` starts from it."""
    nodes = list(reversed(stack.db_nodes))
    return [*(n.exporter for n in nodes), *(f"{n.name}-check" for n in nodes if n.galera), *(n.name for n in nodes)]
