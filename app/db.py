"""Database access and its retry rules, in one place.

Every use case is a function of a connection, and `run(use_case)` is the one way to call it: in a
unit of work, a connection with an open transaction that commits only when told to
(`conn.commit()`); leaving without that rolls back. A request takes one connection for all its
work, the check of its token included.

`run` classifies what goes wrong:

* The database went away, or the outcome of a commit is unknown (MySQL errors 2013, 2006, 2003,
  1047, 1180, 1927, 1053, or a connection the dialect finds dead): the connection is discarded and
  the whole use case runs again on a fresh one, with backoff, until the retry budget
  (PIGGY_DB_RETRY_BUDGET_SECONDS) is spent; then the error goes up and the client gets a 503. So
  an outage shorter than the budget is only latency. Running a use case again is safe because
  every write is idempotent by key or by state: a transfer created again replays its
  Idempotency-Key, a confirmation again finds the transfer booked, a logout again inserts nothing.
  A commit whose answer was lost may have been applied; the re-run sees that and answers it.
* The database rolled the transaction back (deadlock victim 1213, lock wait timeout 1205):
  nothing happened, so it is run again: three attempts at least, more while the retry budget
  lasts. In a Galera failover both come in bursts: the new writer applies the old one's last write
  sets and aborts the local transactions they conflict with (reported as 1213), and row locks are
  held through the ~3 s commit stall while the cluster leaves the lost node out (1205).

A read whose statements need no common snapshot (one statement, like the signed-in check that
also loads the profile) can run in autocommit (`run(use_case, autocommit=True)`): each statement is
its own transaction, so nothing is left to end, and the ROLLBACK that closes every other unit of
work (a round trip) is skipped. It takes its connection from a second pool whose connections are in
autocommit from the start, as switching a connection to autocommit and back costs two round trips.

This replaces the pool's pre-ping (a round trip on every checkout): a connection that died while
it sat in the pool (the database restarted) fails on its first statement, and the first retry
after a lost connection does not wait; every other connection made before the failure is then
replaced as it is checked out, so one request pays for the restart, not one per connection.

The connection a use case gets is this module's `Connection`: SQLAlchemy's pool and statement
compiler, PyMySQL's cursor, and the part of SQLAlchemy's Connection interface the bank's modules
use (`execute(text(...), params)`, `commit`, `rollback`), so those modules run unchanged on the
SQLAlchemy connections of the tests and the load tools.
"""

import functools
import itertools
import random
import time
from collections import namedtuple
from typing import NamedTuple

import pymysql
from flask import current_app
from sqlalchemy import create_engine, event, text
from sqlalchemy.dialects.mysql.pymysql import MySQLDialect_pymysql
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError, MultipleResultsFound, NoResultFound
from sqlalchemy.sql.elements import TextClause

_DATABASE_KEY = "piggybank_database"
ROLLED_BACK = {1213, 1205}  # deadlock victim, lock wait timeout: the database undid the transaction
# The database is gone or unreachable, or a commit's outcome is unknown: lost connection (2013),
# gone away (2006), can't connect (2003), node not ready (1047, Galera), error during commit (1180),
# connection killed (1927), server shutting down (1053).
UNAVAILABLE = {2013, 2006, 2003, 1047, 1180, 1927, 1053}
ROLLED_BACK_ATTEMPTS = 3
RECYCLE_SECONDS = 3600  # a connection is replaced after an hour, in the pool and in Database.idle


def error_code(error: BaseException) -> int | None:
    args = getattr(getattr(error, "orig", None), "args", None)
    return args[0] if args and isinstance(args[0], int) else None


def is_unavailable(error: BaseException) -> bool:
    """True when a DB error is about reaching the database rather than about the statement."""
    return isinstance(error, DBAPIError) and (bool(error.connection_invalidated)
                                              or error_code(error) in UNAVAILABLE)


def make_engine(config, pre_ping: bool = False, autocommit: bool = False) -> Engine:
    """The pooled engine. `pre_ping` is for code that uses it outside `run` (the tests' and the load
    tools' own engines): the pool then checks each connection with a ping as it hands it out.
    `autocommit`: its connections commit every statement, and closing one sends no ROLLBACK."""
    url = (f"mysql+pymysql://{config['DB_USER']}:{config['DB_PASSWORD']}"
           f"@{config['DB_HOST']}:{config['DB_PORT']}/{config['DB_NAME']}?charset=utf8mb4")
    engine = create_engine(
        url,
        pool_size=config["DB_POOL_SIZE"],
        max_overflow=0,
        pool_timeout=config["DB_POOL_TIMEOUT"],
        # The app goes without: run() replaces a dead connection when its first statement fails.
        pool_pre_ping=pre_ping,
        # No rollback when a connection goes back: the unit of work has committed or rolled back
        # already (SQLAlchemy rolls back an open transaction when the connection is closed).
        pool_reset_on_return=None,
        pool_recycle=RECYCLE_SECONDS,
        **({"isolation_level": "AUTOCOMMIT", "skip_autocommit_rollback": True} if autocommit else {}),
        # ssl_disabled: PyMySQL otherwise prepares TLS ("preferred") for every new connection, which
        # loads the system's CA bundle: ~40 ms of CPU each, on the event loop. While the database is
        # down every request tries a new connection, so that alone kept an app server too busy to
        # answer HAProxy's liveness checks. The database is on loopback (or the compose network), and
        # "preferred" TLS verified no certificate anyway.
        connect_args={"connect_timeout": config["DB_CONNECT_TIMEOUT"],
                      "read_timeout": config["DB_READ_TIMEOUT"], "write_timeout": config["DB_WRITE_TIMEOUT"],
                      # The database is on loopback (or the compose network). PyMySQL 1.2 otherwise
                      # tries TLS and builds an SSL context, CA bundle and all, for every new connection.
                      "ssl_disabled": True},
    )

    @event.listens_for(engine, "connect")
    def _utc_session(dbapi_connection, record):
        record.info["connected_at"] = time.monotonic()
        with dbapi_connection.cursor() as cursor:
            # A lock wait ends as error 1205 (rolled back, run again) before the read timeout would
            # cut the connection with the outcome unknown.
            cursor.execute("SET time_zone = '+00:00', SESSION innodb_lock_wait_timeout = 3")

    return engine


# Statements are compiled by SQLAlchemy once per text: `:name` becomes PyMySQL's placeholder and a
# literal `%` is escaped. Texts differ only by the code's own fragments, never by values.
_DIALECT = MySQLDialect_pymysql()
_PREPARABLE_DIALECT = MySQLDialect_pymysql(paramstyle="qmark")  # PREPARE's placeholders
# PREPARE refused: not a statement it takes (1295), the server's limit of prepared statements (1461).
_NOT_PREPARED = {1295, 1461}


class Statement(NamedTuple):
    """A text compiled for both ways of sending it: as text with PyMySQL's placeholders, and as a
    server-side prepared statement (`prepare` once per connection, then `execute` with the values)."""
    sql: str
    names: tuple[str, ...]
    prepare: str
    execute: str
    id: str


_statement_ids = itertools.count(1)


@functools.lru_cache(maxsize=1024)
def _compiled(sql: str) -> Statement:
    compiled = text(sql).compile(dialect=_DIALECT)
    names = tuple(compiled.positiontup or ())
    statement_id = f"piggybank_{next(_statement_ids)}"
    values = f" USING {', '.join(['%s'] * len(names))}" if names else ""
    return Statement(compiled.string, names, text(sql).compile(dialect=_PREPARABLE_DIALECT).string,
                     f"EXECUTE {statement_id}{values}", statement_id)


@functools.lru_cache(maxsize=1024)
def _row_type(names: tuple[str, ...]):
    return namedtuple("Row", names, rename=True)


class Result:
    """A statement's answer, with the part of SQLAlchemy's Result the bank's modules use (rows by
    attribute and by position; scalar, scalar_one, one, first, all; rowcount), so they run on this
    connection and on SQLAlchemy's (the tests' and the load tools' engines)."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: list, rowcount: int):
        self._rows, self.rowcount = rows, rowcount

    def __iter__(self):
        return iter(self._rows)

    def all(self) -> list:
        return list(self._rows)

    def first(self):
        return self._rows[0] if self._rows else None

    def one(self):
        if not self._rows:
            raise NoResultFound("No row was found")
        if len(self._rows) > 1:
            raise MultipleResultsFound("More than one row was found")
        return self._rows[0]

    def scalar(self):
        return self._rows[0][0] if self._rows else None

    def scalar_one(self):
        return self.one()[0]


class Connection:
    """A unit of work's connection: the pool's PyMySQL connection, its statements sent straight to
    PyMySQL's cursor. Written by hand because SQLAlchemy's Connection.execute spends ~130 µs of CPU
    per statement around PyMySQL's ~140 (execution context, result metadata, events; measured
    in-process, docs/benchmarks.md "Fifth pass"): a tenth of `GET /api/user`, a quarter of a
    transfer. SQLAlchemy still pools the connections and compiles the statements, and what goes
    wrong is raised as SQLAlchemy's errors (DBAPIError and its kinds, `connection_invalidated` when
    the connection is lost), as `run` and the error handlers expect.

    A transaction begins with the first statement (the connection is not in autocommit); COMMIT
    and ROLLBACK are sent only when one is open, and closing the connection rolls an open one back.
    Each text is prepared on the server once per connection and executed after (`_sendable`); the
    pool clears a connection's `info`, and with it what was prepared, when it replaces the connection."""

    __slots__ = ("_database", "_fairy", "_dbapi", "_autocommit", "_in_transaction", "_busy")

    def __init__(self, database: "Database", fairy, autocommit: bool):
        self._database, self._fairy, self._autocommit = database, fairy, autocommit
        self._dbapi = fairy.dbapi_connection
        self._in_transaction = False
        self._busy = False  # a call to the driver is under way; if it never returned, the connection is spoilt

    def execute(self, statement: TextClause | str, params: dict | None = None) -> Result:
        compiled = _compiled(statement.text if isinstance(statement, TextClause) else statement)
        args = tuple(params[name] for name in compiled.names) if compiled.names else ()
        # Even a statement that fails begins a transaction (a duplicate key's INSERT holds a lock).
        self._busy, self._in_transaction = True, not self._autocommit
        try:
            with self._dbapi.cursor() as cursor:
                cursor.execute(*self._sendable(cursor, compiled, args))
                fetched, description, rowcount = cursor.fetchall(), cursor.description, cursor.rowcount
        except pymysql.err.Error as error:
            raise self._failed(error, compiled.sql, args) from error
        self._busy = False
        if description is None:
            return Result([], rowcount)
        row = _row_type(tuple(column[0] for column in description))
        return Result([row._make(values) for values in fetched], rowcount)

    def _sendable(self, cursor, compiled: Statement, args: tuple) -> tuple[str, tuple]:
        """The statement as EXECUTE of a server-side prepared statement, prepared on this connection
        the first time it is sent here: MariaDB then skips parsing it (~60 µs of its CPU for the
        caller's query, measured; docs/benchmarks.md "Sixth pass"). As text where a value is a
        list (`IN :ids`, which EXECUTE can't take) or the server refuses to prepare it."""
        prepared = self._fairy.info.setdefault("prepared", {})
        if compiled.id not in prepared:
            if any(isinstance(value, (tuple, list)) for value in args):
                return compiled.sql, args
            try:
                cursor.execute(f"PREPARE {compiled.id} FROM %s", (compiled.prepare,))
                prepared[compiled.id] = True
            except pymysql.err.Error as error:
                if error.args[0] not in _NOT_PREPARED:
                    raise
                prepared[compiled.id] = False
        return (compiled.execute, args) if prepared[compiled.id] else (compiled.sql, args)

    def commit(self) -> None:
        if self._in_transaction:
            self._end(self._dbapi.commit)

    def rollback(self) -> None:
        if self._in_transaction:
            self._end(self._dbapi.rollback)

    def close(self) -> None:
        """Back to the pool: an open transaction rolled back, a spoilt connection discarded."""
        try:
            if self._busy:
                self._fairy.invalidate()
            else:
                self.rollback()
        finally:
            self._database.release(self._fairy, self._autocommit)

    def _end(self, call) -> None:
        self._busy = True
        try:
            call()
        except pymysql.err.Error as error:
            raise self._failed(error, None, None) from error
        self._busy = False
        self._in_transaction = False

    def _failed(self, error: pymysql.err.Error, sql: str | None, args) -> DBAPIError:
        self._busy = False
        lost = self._database.dialect.is_disconnect(error, self._dbapi, None)
        if lost:  # this connection is gone, and so, most likely, is every other made before now
            self._in_transaction = False  # nothing to roll back: the database did, as the connection went
            self._fairy.invalidate(error)
            self._database.lost_at = time.monotonic()
        return DBAPIError.instance(sql, args, error, pymysql.err.Error, connection_invalidated=lost,
                                   dialect=self._database.dialect)


class Database:
    """The app's two pools, units of work and reads in autocommit, and the moment a connection
    was last found lost: a connection made before it is replaced as it is checked out, so after a
    database restart one request pays for it, not one per pooled connection.

    A unit of work's connection goes back to `idle`, not to SQLAlchemy's pool, and the next unit of
    work of that kind takes the newest from there: SQLAlchemy's checkout and return cost 88 K
    instructions (its fairy, record, events and queue under gevent's locks; callgrind, 6 % of a
    GET /api/user), a list's pop and append next to nothing. The pool still makes, bounds, replaces
    and counts the connections: an idle one stays checked out of it, so its size holds, and one
    goes back to it whenever a unit of work is waiting there for a connection."""

    def __init__(self, config):
        self.transactions = make_engine(config)
        self.autocommits = make_engine(config, autocommit=True)
        self.dialect = self.transactions.dialect
        self.lost_at = 0.0
        self.retry_budget = config["DB_RETRY_BUDGET_SECONDS"]
        # Units of work waiting for a connection (a new one included), read by the metrics when
        # Prometheus scrapes: a plain count, not a Gauge's inc and dec around every checkout (each
        # takes the Gauge's lock).
        self.waiting = 0
        self.idle: dict[bool, list] = {False: [], True: []}  # by autocommit: checked out, unused
        for engine in (self.transactions, self.autocommits):
            event.listen(engine.pool, "checkout", self._refuse_if_older_than_the_loss)

    def _refuse_if_older_than_the_loss(self, _dbapi_connection, record, _proxy) -> None:
        if record.info["connected_at"] < self.lost_at:
            raise DisconnectionError("made before the database was found gone")  # the pool reconnects it

    def connect(self, autocommit: bool) -> Connection:
        idle = self.idle[autocommit]
        while idle:
            fairy = idle.pop()
            connected_at = fairy.info["connected_at"]
            if connected_at >= self.lost_at and time.monotonic() - connected_at < RECYCLE_SECONDS:
                return Connection(self, fairy, autocommit)
            fairy.invalidate()  # the pool makes a new one in its place when it is next asked
            fairy.close()
        pool = (self.autocommits if autocommit else self.transactions).pool
        self.waiting += 1
        try:
            fairy = pool.connect()
        except pymysql.err.Error as error:  # the database can't be reached
            raise DBAPIError.instance(None, None, error, pymysql.err.Error, dialect=self.dialect,
                                      connection_invalidated=self.dialect.is_disconnect(error, None, None)) from error
        finally:
            self.waiting -= 1
        return Connection(self, fairy, autocommit)

    def release(self, fairy, autocommit: bool) -> None:
        """A unit of work's connection, done with: to `idle`, or to its pool when it was
        invalidated or a unit of work is waiting for a connection (of either pool: `waiting` counts both)."""
        if self.waiting or not fairy.is_valid:
            fairy.close()
        else:
            self.idle[autocommit].append(fairy)

    def in_use(self) -> int:
        """Connections units of work hold now."""
        return sum(engine.pool.checkedout() for engine in (self.transactions, self.autocommits)) - sum(
            len(idle) for idle in self.idle.values())

    def dispose(self) -> None:
        """Every connection closed (the tests' apps, when they are done)."""
        for idle in self.idle.values():
            while idle:
                idle.pop().close()
        for engine in (self.transactions, self.autocommits):
            engine.dispose()


def database_of(app) -> Database:
    return app.extensions[_DATABASE_KEY]


def get_engine() -> Engine:
    return database_of(current_app).transactions


def engines_for(app) -> tuple[Engine, Engine]:
    """The app's two pools: units of work, and reads in autocommit."""
    database = database_of(app)
    return database.transactions, database.autocommits


def _backoff(attempt: int) -> float:
    """Seconds before attempt `attempt + 1`: 20 ms doubling to at most 250 ms, with jitter."""
    return min(0.02 * 2 ** (attempt - 1), 0.25) * random.uniform(0.5, 1.0)


def run(use_case, budget: float | None = None, autocommit: bool = False):
    """`use_case(conn)` in a unit of work, run again under the rules above; returns what it returns.

    `budget`: seconds to keep retrying while the database is unavailable (default: the
    DB_RETRY_BUDGET_SECONDS setting); 0 still replaces a connection found dead once.
    `autocommit`: a read whose statements need no common snapshot, without a transaction (above)."""
    database = database_of(current_app)
    deadline = time.monotonic() + (database.retry_budget if budget is None else budget)
    attempt = 0
    while True:
        attempt += 1
        try:
            conn = database.connect(autocommit)
            try:
                return use_case(conn)
            finally:
                conn.close()
        except DBAPIError as error:
            code = error_code(error)
            if code in ROLLED_BACK and (attempt < ROLLED_BACK_ATTEMPTS or time.monotonic() < deadline):
                time.sleep(random.uniform(0.005, 0.05) * min(attempt, 5))
                continue
            if not is_unavailable(error):
                raise
            if attempt == 1 and error.connection_invalidated:
                continue  # most likely a pooled connection the database dropped: replace it at once
            delay = _backoff(attempt)
            if time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)  # gevent's, after monkey-patching: other requests go on


def ping() -> float:
    """Round trip of `SELECT 1` in milliseconds (a dead pooled connection is replaced once, with
    no further retries: the healthcheck must answer at once); raises when the database can't be reached."""
    started = time.perf_counter()
    run(lambda conn: conn.execute(text("SELECT 1")), budget=0, autocommit=True)
    return (time.perf_counter() - started) * 1000


def init_app(app) -> None:
    app.extensions[_DATABASE_KEY] = Database(app.config)
