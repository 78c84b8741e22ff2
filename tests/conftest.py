"""Fixtures shared by every test.

`stack` starts a complete PiggyBank stack of the tests' own (real MariaDB, both app servers,
nginx, Monit, exporters, Alertmanager, Prometheus) in its own run directory and on its own ports
(PIGGY_TEST_PORT_OFFSET, default 10000: nginx on 18080), so it never collides with `make up`.
It is started once per test session and stopped at the end.
"""

import os
import shutil
import uuid
from decimal import Decimal
from pathlib import Path

import pytest

from tests.api_client import ApiClient


def pytest_collection_modifyitems(items):
    """Everything under tests/system and tests/e2e needs the real stack."""
    for item in items:
        if "/system/" in str(item.fspath) or "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.stack)


def stack_env(db_nodes: int = 1) -> dict[str, str]:
    """The environment of the tests' stack: its own ports and run directory (a Galera cluster's in
    a directory of its own, on the same ports: tests/cluster runs in a pytest session of its own)."""
    offset = os.environ.get("PIGGY_TEST_PORT_OFFSET", "10000")
    run = Path(os.environ.get("PIGGY_TEST_RUN_DIR", f"/tmp/piggybank-test-{offset}"))
    if db_nodes > 1:
        run = run.with_name(f"{run.name}-cluster")
    return {**os.environ, "PIGGY_RUN_DIR": str(run), "PIGGY_PORT_OFFSET": offset, "PIGGY_DB_NODES": str(db_nodes),
            # the tests sign in far more often than people do
            "PIGGY_LOGIN_RATE": "50r/s", "PIGGY_LOGIN_BURST": "100",
            # PiggyBank's board on the Grafana port, wherever Grafana is installed or not; where it is,
            # tests/observability/test_grafana.py runs a Grafana of its own against this stack
            "PIGGY_GRAFANA": "off"}


def start_stack(env: dict[str, str]):
    """A fresh stack (a stack left over by an interrupted run is stopped first); stopped at the end
    unless PIGGY_KEEP_TEST_STACK=1."""
    from stack import control
    from stack.settings import Stack

    test_stack = Stack.from_env(env)
    if test_stack.monitrc.exists():
        control.down(test_stack)
    shutil.rmtree(test_stack.run, ignore_errors=True)
    control.up(test_stack)
    yield test_stack
    if os.environ.get("PIGGY_KEEP_TEST_STACK") != "1":
        control.down(test_stack)


@pytest.fixture(scope="session")
def stack():
    yield from start_stack(stack_env())


@pytest.fixture(scope="session")
def app_config(stack):
    """The configuration an app server of the test stack runs with (secrets included)."""
    from app.config import Config

    saved = dict(os.environ)
    os.environ.update({"PIGGY_SECRETS_FILE": str(stack.secrets_file), "PIGGY_DB_PORT": str(stack.ports["db"])})
    try:
        return Config.from_env()
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="session")
def db_engine(app_config):
    """A direct SQLAlchemy engine on the test stack's database (for setup and for auditing)."""
    from app.db import make_engine

    engine = make_engine(app_config, pre_ping=True)  # other tests restart the database
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def api(stack) -> ApiClient:
    """A client of the public API through nginx (TLS) on the test stack."""
    return ApiClient(stack.url(""))


@pytest.fixture
def new_customer(db_engine, api):
    """Makes a fresh customer with its own account, so a test's money and limits are its own."""
    from app.bank import users

    def make(balance: str = "1000.00", limit: str = "100000.00", first: str = "Test"):
        email = f"{first.lower()}-{uuid.uuid4().hex[:10]}@example.com"
        password = uuid.uuid4().hex
        with db_engine.connect() as conn:
            made = users.create_customer(conn, first, "Customer", email, password, balance=Decimal(balance),
                                         monthly_limit=Decimal(limit), rounds=4)
        return {**made, "email": email, "password": password, "name": f"{first} Customer"}

    return make


@pytest.fixture
def ledger_audit(db_engine):
    """Returns the broken ledger invariants (empty list when the books are right)."""
    from app.bank import audit

    def check() -> list[str]:
        with db_engine.connect() as conn:
            return audit.violations(conn)

    return check
