"""Database access in one place: the pooled engine, a unit of work per use case, the health ping.

A unit of work is a connection with an open transaction: it commits only when told to
(`conn.commit()`), and leaving the `with` block without that rolls back.
The pool pings each connection before handing it out, so after a database restart stale
connections are replaced without restarting the app server.
"""

import random
import time
from contextlib import contextmanager

from flask import current_app
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

_ENGINE_KEY = "piggybank_engine"
RETRYABLE = {1213, 1205}  # deadlock victim, lock wait timeout


def is_unavailable(error: BaseException) -> bool:
    """True when a DB error is about reaching the database rather than about the statement."""
    if isinstance(error, DBAPIError):
        return bool(error.connection_invalidated) or getattr(error.orig, "args", [0])[0] in {
            2003, 2006, 2013, 2014, 1927, 1053}
    return False


def make_engine(config) -> Engine:
    url = (f"mysql+pymysql://{config['DB_USER']}:{config['DB_PASSWORD']}"
           f"@{config['DB_HOST']}:{config['DB_PORT']}/{config['DB_NAME']}?charset=utf8mb4")
    engine = create_engine(
        url,
        pool_size=config["DB_POOL_SIZE"],
        max_overflow=0,
        pool_timeout=config["DB_POOL_TIMEOUT"],
        pool_pre_ping=True,
        pool_recycle=3600,
        # ssl_disabled: PyMySQL otherwise prepares TLS ("preferred") for every new connection, which
        # loads the system's CA bundle: ~40 ms of CPU each, on the event loop. While the database is
        # down every request tries a new connection, so that alone kept an app server too busy to
        # answer HAProxy's liveness checks. The database is on loopback (or the compose network), and
        # "preferred" TLS verified no certificate anyway.
        connect_args={"connect_timeout": config["DB_CONNECT_TIMEOUT"],
                      "read_timeout": 30, "write_timeout": 30, "ssl_disabled": True},
    )

    @event.listens_for(engine, "connect")
    def _utc_session(dbapi_connection, _record):
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET time_zone = '+00:00', SESSION innodb_lock_wait_timeout = 10")

    return engine


def get_engine() -> Engine:
    return current_app.extensions[_ENGINE_KEY]


def engine_for(app) -> Engine:
    return app.extensions[_ENGINE_KEY]


@contextmanager
def unit_of_work():
    """A connection in a transaction; commit explicitly, otherwise it rolls back on exit."""
    from app.metrics import DB_POOL_WAITING

    with DB_POOL_WAITING.track_inprogress():  # waiting for the pool (and, if need be, a new connection)
        conn = get_engine().connect()
    with conn:
        yield conn


def run(use_case, attempts: int = 3):
    """Run `use_case(conn)` in a unit of work, again from the start if the database chose it as
    a deadlock victim (InnoDB has then rolled the whole transaction back, so nothing happened)."""
    for attempt in range(1, attempts + 1):
        try:
            with unit_of_work() as conn:
                return use_case(conn)
        except DBAPIError as error:
            if attempt == attempts or getattr(error.orig, "args", [0])[0] not in RETRYABLE:
                raise
            time.sleep(random.uniform(0.005, 0.05) * attempt)
    raise AssertionError("unreachable")


def ping() -> float:
    """Round trip of `SELECT 1` in milliseconds; raises when the database can't be reached."""
    started = time.perf_counter()
    with get_engine().connect() as conn:
        conn.execute(text("SELECT 1"))
    return (time.perf_counter() - started) * 1000


def pool_status() -> dict:
    pool = get_engine().pool
    return {"size": pool.size(), "in_use": pool.checkedout()}


def init_app(app) -> None:
    app.extensions[_ENGINE_KEY] = make_engine(app.config)
