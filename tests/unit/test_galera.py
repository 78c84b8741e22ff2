"""Which node a cold start bootstraps the cluster from (stack/galera.py), and the parts of a node's
saved state it reads: pure logic, no MariaDB."""

import pytest

from stack import galera
from stack.galera import SavedState
from stack.settings import Stack

UUID = "70247be5-ed6e-11f1-b1aa-82b4afb60af2"


def never(name: str) -> int:
    raise AssertionError(f"InnoDB recovery asked for {name}, though grastate.dat had the answer")


def test_the_node_that_stopped_last_bootstraps():
    states = {"db1": SavedState(UUID, 11, False), "db2": SavedState(UUID, 13, True), "db3": SavedState(UUID, 12, False)}
    assert galera.choose_bootstrap(states, never)[0] == "db2"


def test_safe_to_bootstrap_wins_over_a_higher_seqno_elsewhere():
    # a clean stop of db1 last, then db3's grastate edited or stale: the flag is what Galera trusts
    states = {"db1": SavedState(UUID, 20, True), "db3": SavedState(UUID, 25, False)}
    name, why = galera.choose_bootstrap(states, never)
    assert name == "db1" and "safe_to_bootstrap: 1" in why


def test_after_a_crash_of_all_the_highest_recovered_seqno_bootstraps():
    states = {name: SavedState(UUID, -1, False) for name in ("db1", "db2", "db3")}
    recovered = {"db1": 40, "db2": 42, "db3": 41}
    asked = []
    name, why = galera.choose_bootstrap(states, lambda n: asked.append(n) or recovered[n])
    assert name == "db2" and sorted(asked) == ["db1", "db2", "db3"]
    assert "seqno 42" in why and "db1 40" in why and "db3 41" in why


def test_a_clean_seqno_is_used_as_it_is_and_only_crashed_nodes_are_recovered():
    states = {"db1": SavedState(UUID, 50, False), "db2": SavedState(UUID, -1, False)}
    asked = []
    assert galera.choose_bootstrap(states, lambda n: asked.append(n) or 49)[0] == "db1"
    assert asked == ["db2"]


def test_a_tie_goes_to_the_lowest_node_number():
    states = {name: SavedState(UUID, 7, False) for name in ("db3", "db1", "db2")}
    assert galera.choose_bootstrap(states, never)[0] == "db1"


def test_nodes_from_different_clusters_are_refused():
    other = "11111111-2222-3333-4444-555555555555"
    states = {"db1": SavedState(UUID, 5, False), "db2": SavedState(other, 9, False)}
    with pytest.raises(RuntimeError, match="different clusters"):
        galera.choose_bootstrap(states, never)


def test_no_node_with_data_is_a_new_cluster_not_a_choice():
    with pytest.raises(ValueError):
        galera.choose_bootstrap({}, never)


@pytest.fixture
def cluster(tmp_path) -> Stack:
    return Stack.from_env({"PIGGY_RUN_DIR": str(tmp_path), "PIGGY_DB_NODES": "3", "PIGGY_PORT_OFFSET": "0"})


def test_grastate_is_read_and_marked_safe_as_galeras_documentation_says(cluster):
    node = cluster.db_nodes[1]
    node.data.mkdir(parents=True)
    (node.data / "grastate.dat").write_text(
        f"# GALERA saved state\nversion: 2.1\nuuid:    {UUID}\nseqno:   -1\nsafe_to_bootstrap: 0\n")
    assert galera.saved_state(node) == SavedState(UUID, -1, False)
    galera.mark_safe_to_bootstrap(node)
    assert galera.saved_state(node) == SavedState(UUID, -1, True)
    assert galera.saved_state(cluster.db_nodes[0]) is None


def test_the_nodes_stop_one_after_the_other_db1_last(cluster):
    order = galera.stop_order(cluster)
    assert order[-3:] == ["db3", "db2", "db1"]
    assert order.index("db1-check") < order.index("db3") and order.index("mysqld-exporter-db1") < order.index("db3")


def test_one_database_node_is_the_single_mariadb(tmp_path):
    stack = Stack.from_env({"PIGGY_RUN_DIR": str(tmp_path)})
    (node,) = stack.db_nodes
    assert node.name == "mariadb" and node.galera is None and not stack.clustered
    assert galera.stop_order(stack) == ["mysqld-exporter", "mariadb"]


@pytest.mark.parametrize("count", ["2", "4", "0", "three", "11"])
def test_a_node_count_that_cannot_keep_quorum_is_refused(count):
    with pytest.raises(ValueError, match="odd number"):
        Stack.from_env({"PIGGY_DB_NODES": count})


def test_every_port_of_every_node_stays_below_the_ephemeral_range_at_every_team_offset():
    for offset in (0, 10000, 11100, 12200, 13300, 14400, 15500, 16600, 17700, 21100, 22200, 23300):
        stack = Stack.from_env({"PIGGY_DB_NODES": "9", "PIGGY_PORT_OFFSET": str(offset)})
        ports = [port for node in stack.db_nodes
                 for port in (node.port, node.exporter_port, *node.galera.values())]
        assert max(ports) < 32768, offset
        assert len(ports) == len(set(ports)), f"a port used twice at offset {offset}"


def test_the_one_writer_check_finds_two_writers_and_only_them():
    from tests.cluster.test_jepsen import overlapping_writers

    one_at_a_time = [(0.0, 0.1, "db1"), (0.1, 0.2, "db1"), (3.3, 3.4, "db2"), (3.4, 3.5, "db2")]
    assert overlapping_writers(one_at_a_time) == []
    both = [(0.0, 0.1, "db1"), (0.05, 0.15, "db2"), (0.1, 0.2, "db1")]
    assert len(overlapping_writers(both)) == 2
    inside_a_long_one = [(0.0, 5.0, "db1"), (1.0, 1.1, "db2")]
    assert overlapping_writers(inside_a_long_one) == [((0.0, 5.0, "db1"), (1.0, 1.1, "db2"))]


# db1 writes until it hangs at 1.0; HAProxy marks it down at 2.0 (cutting its 12 connections) and
# sends db2 every connection from then on. db1 wakes at 11.0.
HANGS = {
    "db1": [(0.8, 0.81, 5), (0.9, 0.91, 5), (11.0, 11.01, 5)],
    "db2": [(0.85, 0.95, 0), (4.0, 4.01, 0), (4.1, 4.11, 3), (11.05, 11.06, 60), (11.1, 11.15, 62)],
}


def routing(db1_sessions_after_wake: int) -> list:
    return [(0.9, {"db1": ("UP", 12), "db2": ("UP", 0)}), (2.0, {"db1": ("DOWN", 12), "db2": ("UP", 0)}),
            (5.0, {"db1": ("DOWN", 12), "db2": ("UP", 12)}), (11.05, {"db1": ("DOWN 1/3", 12), "db2": ("UP", 12)}),
            (11.2, {"db1": ("DOWN 2/3", db1_sessions_after_wake), "db2": ("UP", 12)})]


def test_what_a_hung_node_commits_after_haproxy_cut_it_off_is_placed_where_it_hung():
    from tests.cluster.test_jepsen import commit_intervals, overlapping_writers

    # After waking db1 commits one statement that had waited in its socket since before the cut.
    samples = {**HANGS, "db1": [*HANGS["db1"], (11.1, 11.11, 6)]}
    intervals = commit_intervals(samples, routing(db1_sessions_after_wake=12))
    assert (0.91, 0.91, "db1") in intervals
    assert overlapping_writers(intervals) == []


def test_a_woken_node_that_takes_new_connections_and_commits_stays_where_it_wrote():
    from tests.cluster.test_jepsen import commit_intervals, overlapping_writers

    # The same hang, but HAProxy sent db1 a new connection after it woke, and db1 committed.
    samples = {**HANGS, "db1": [*HANGS["db1"], (11.1, 11.11, 30)]}
    intervals = commit_intervals(samples, routing(db1_sessions_after_wake=13))
    assert (11.01, 11.1, "db1") in intervals
    assert overlapping_writers(intervals) != []
