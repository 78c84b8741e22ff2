"""Settings of one application server, all from the environment (each with a default).

Secrets come from the environment or from the secrets file the launcher generates at first start
(PIGGY_SECRETS_FILE, KEY=VALUE lines); the environment wins. None is ever in the repository.
"""

import os
import socket
from datetime import timedelta
from pathlib import Path


def read_env_file(path: str | os.PathLike) -> dict[str, str]:
    """KEY=VALUE lines; blank lines and # comments are skipped."""
    values = {}
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
    return values


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    secrets_file = env.get("PIGGY_SECRETS_FILE")
    if secrets_file and Path(secrets_file).exists():
        return {**read_env_file(secrets_file), **env}
    return env


def _flag(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    """Flask configuration; `Config.from_env()` reads it, tests pass a mapping to create_app instead."""

    TESTING = False

    @classmethod
    def from_env(cls) -> dict:
        env = _environment()
        return {
            # a container replica has no name of its own: its hostname (the container's id) names it
            "INSTANCE": env.get("PIGGY_INSTANCE") or socket.gethostname(),
            "VERSION": env.get("PIGGY_VERSION", "1.0.0"),
            "DB_HOST": env.get("PIGGY_DB_HOST", "127.0.0.1"),
            "DB_PORT": int(env.get("PIGGY_DB_PORT", "3307")),
            "DB_NAME": env.get("PIGGY_DB_NAME", "piggybank"),
            "DB_USER": env.get("PIGGY_DB_USER", "piggybank"),
            "DB_PASSWORD": env.get("PIGGY_DB_PASSWORD", ""),
            "DB_POOL_SIZE": int(env.get("PIGGY_DB_POOL_SIZE", "10")),
            "DB_CONNECT_TIMEOUT": float(env.get("PIGGY_DB_CONNECT_TIMEOUT", "1")),
            "DB_POOL_TIMEOUT": float(env.get("PIGGY_DB_POOL_TIMEOUT", "2")),
            # The timeouts along the path to the database, chosen together (docs/architecture.md):
            # - retry budget: how long a request keeps retrying while the database is unavailable
            #   (app/db.py). Long enough to hide a restart of the single MariaDB (0.2-0.7 s after
            #   kill -9) and a Galera writer failover (~3-3.5 s: HAProxy marks the writer down, the
            #   others leave it out of the cluster); after it, a fast 503.
            # - read/write timeout: a statement that gets no answer (a hung server) is given up after
            #   4 s, longer than a commit waits while a lost node is left out of the cluster (~3.3 s),
            #   so that commit is not cut; the retry then goes to a fresh connection.
            # The worst answer (budget + one last attempt's timeout) stays below HAProxy's 12 s.
            "DB_RETRY_BUDGET_SECONDS": float(env.get("PIGGY_DB_RETRY_BUDGET_SECONDS", "5")),
            "DB_READ_TIMEOUT": float(env.get("PIGGY_DB_READ_TIMEOUT_SECONDS", "4")),
            "DB_WRITE_TIMEOUT": float(env.get("PIGGY_DB_WRITE_TIMEOUT_SECONDS", "4")),
            "JWT_SECRET_KEY": env.get("PIGGY_JWT_SECRET", ""),
            "JWT_ACCESS_TOKEN_EXPIRES": timedelta(seconds=int(env.get("PIGGY_TOKEN_LIFETIME_SECONDS", "900"))),
            "TAN_SECRET": env.get("PIGGY_TAN_SECRET", env.get("PIGGY_JWT_SECRET", "")),
            "DEMO_MODE": _flag(env.get("PIGGY_DEMO_MODE", "true")),
            "LOGIN_MAX_FAILURES": int(env.get("PIGGY_LOGIN_MAX_FAILURES", "5")),
            "LOGIN_LOCK_SECONDS": int(env.get("PIGGY_LOGIN_LOCK_SECONDS", "60")),
            "TRANSFER_MAX_AMOUNT": env.get("PIGGY_TRANSFER_MAX_AMOUNT", "100000.00"),
            "TAN_LIFETIME_SECONDS": int(env.get("PIGGY_TAN_LIFETIME_SECONDS", "300")),
            "TAN_MAX_ATTEMPTS": int(env.get("PIGGY_TAN_MAX_ATTEMPTS", "3")),
            "NOTIFY_POLL_SECONDS": float(env.get("PIGGY_NOTIFY_POLL_SECONDS", "0.25")),
            "WS_PING_SECONDS": int(env.get("PIGGY_WS_PING_SECONDS", "20")),
            "BCRYPT_ROUNDS": int(env.get("PIGGY_BCRYPT_ROUNDS", "12")),
            "DB_SLOW_MS": float(env.get("PIGGY_DB_SLOW_MS", "250")),
            "METRICS_ENABLED": _flag(env.get("PIGGY_METRICS", "true")),
        }
