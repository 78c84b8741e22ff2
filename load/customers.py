"""Generated load-test customers and direct database access for the load tools.

The journeys use the three seed customers and, besides them, generated customers with a large
balance and a high monthly limit, so a long run is not dominated by limit rejections. Their
e-mail addresses are fixed (load-007@load.piggybank.test) and their passwords are derived from the
stack's JWT secret, so nothing needs to be stored and `ensure()` is safe to run again and again.
"""

import hashlib
import hmac
import os
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.engine import Engine

from stack.settings import Stack

DOMAIN = "load.piggybank.test"
BALANCE = Decimal("1000000.00")
MONTHLY_LIMIT = Decimal("100000000.00")


@dataclass(frozen=True)
class Customer:
    email: str
    password: str
    iban: str
    name: str


def stack_secrets(stack: Stack) -> dict[str, str]:
    from app.config import read_env_file

    return read_env_file(stack.secrets_file)


def engine(stack: Stack, pool_size: int = 2) -> Engine:
    """A small SQLAlchemy engine on the stack's database, as the app server's user."""
    from app.config import Config
    from app.db import make_engine

    secrets = stack_secrets(stack)
    config = {**Config.from_env(), "DB_HOST": "127.0.0.1", "DB_PORT": stack.ports["db"],
              "DB_PASSWORD": secrets["PIGGY_DB_PASSWORD"], "DB_POOL_SIZE": pool_size, "DB_CONNECT_TIMEOUT": 3.0,
              "DB_POOL_TIMEOUT": 10.0}
    return make_engine(config, pre_ping=True)


def app_config(stack: Stack) -> dict:
    """The settings of an app run in this process on the stack's database (the in-process tools:
    load/metrics_cost.py, load/cpu_per_request.py)."""
    from app.config import Config

    os.environ.setdefault("PIGGY_SECRETS_FILE", str(stack.secrets_file))
    os.environ.setdefault("PIGGY_DB_PORT", str(stack.ports["db"]))
    return Config.from_env()


def _password(secret: str, email: str) -> str:
    return hmac.new(secret.encode(), f"load-customer:{email}".encode(), hashlib.sha256).hexdigest()[:24]


def email_of(index: int) -> str:
    return f"load-{index:03d}@{DOMAIN}"


def ensure(stack: Stack, count: int) -> list[Customer]:
    """The first `count` generated customers, created if missing, with their passwords (re)set."""
    from app.bank import users
    from app.bank.passwords import hash_password

    if count <= 0:
        return []
    secret = stack_secrets(stack)["PIGGY_JWT_SECRET"]
    db = engine(stack)
    made = []
    try:
        with db.connect() as conn:
            existing = {r.email: r for r in conn.execute(text(
                "SELECT u.id, u.email, a.iban FROM users u JOIN accounts a ON a.user_id = u.id"
                " WHERE u.email LIKE :pattern"), {"pattern": f"%@{DOMAIN}"})}
            for index in range(1, count + 1):
                email, first = email_of(index), "Load"
                last = f"Customer {index:03d}"
                password = _password(secret, email)
                if email in existing:
                    conn.execute(text("UPDATE users SET password_hash = :h, failed_logins = 0, locked_until = NULL,"
                                      " monthly_limit = :m WHERE id = :id"),
                                 {"h": hash_password(password, 4), "m": MONTHLY_LIMIT, "id": existing[email].id})
                    conn.commit()
                    iban = existing[email].iban
                else:
                    iban = users.create_customer(conn, first, last, email, password, balance=BALANCE,
                                                 monthly_limit=MONTHLY_LIMIT, rounds=4)["iban"]
                made.append(Customer(email, password, iban, f"{first} {last}"))
    finally:
        db.dispose()
    return made
