"""The tests of the Galera cluster (PIGGY_DB_NODES=3) run against a stack of their own: the same
ports as the tests' single-node stack, its own run directory, in a pytest session of their own
(`make test` runs `pytest tests/cluster` after the rest). Every fixture of tests/conftest.py that
needs a stack (db_engine, new_customer, ledger_audit, ...) gets this one."""

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import stack_env, start_stack


@pytest.fixture(scope="session")
def stack():
    from stack import control
    from stack.settings import Stack

    single = Stack.from_env(stack_env())
    if control.monit_running(single):  # kept by PIGGY_KEEP_TEST_STACK: it holds the same ports
        control.down(single)
    yield from start_stack(stack_env(db_nodes=3))


def pytest_collection_modifyitems(items):
    for item in items:
        if "/cluster/" in str(item.fspath):
            item.add_marker(pytest.mark.stack)


def root_sql(node, sql: str, timeout: float = 5.0) -> str:
    """As root over one node's own socket (not through HAProxy)."""
    done = subprocess.run(["mariadb", "--no-defaults", "-S", str(node.socket), "-uroot", "-N", "-B",
                           "--connect-timeout=2", "-e", sql], capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{node.name}: {done.stderr}"
    return done.stdout.strip()


def log_since(path: Path, offset: int) -> str:
    with path.open("rb") as log:
        log.seek(offset)
        return log.read().decode(errors="replace")


def log_size(path: Path) -> int:
    return os.path.getsize(path) if path.exists() else 0
