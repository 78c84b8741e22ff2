"""Schema migrations and seed data, applied once under a database lock.

Both app servers, the launcher and the container's one-shot migrate service may call `migrate`;
MariaDB's GET_LOCK serialises them and `schema_migrations` makes a second run a no-op (the 2017
original crashed one app server on every start because both created and seeded at once).
"""

import logging
from pathlib import Path

from sqlalchemy import text

from . import seed

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).with_name("migrations")
LOCK_NAME = "piggybank_migrate"


def _statements(sql: str) -> list[str]:
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def migrate(engine, hash_password) -> list[str]:
    """Apply pending migrations and the seed; returns the versions applied by this call."""
    applied_now = []
    with engine.connect() as conn:
        if conn.execute(text("SELECT GET_LOCK(:name, 60)"), {"name": LOCK_NAME}).scalar() != 1:
            raise RuntimeError("timed out waiting for the migration lock")
        try:
            conn.execute(text(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version VARCHAR(64) PRIMARY KEY,"
                " applied_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6)) ENGINE=InnoDB"))
            conn.commit()
            done = set(conn.execute(text("SELECT version FROM schema_migrations")).scalars())
            for path in sorted(MIGRATIONS.glob("*.sql")):
                if path.stem in done:
                    continue
                for statement in _statements(path.read_text()):
                    conn.execute(text(statement))
                conn.execute(text("INSERT INTO schema_migrations (version) VALUES (:v)"), {"v": path.stem})
                conn.commit()
                applied_now.append(path.stem)
                log.info("applied migration %s", path.stem)
            if "seed" not in done:
                seed.seed(conn, hash_password)
                conn.execute(text("INSERT INTO schema_migrations (version) VALUES ('seed')"))
                conn.commit()
                applied_now.append("seed")
                log.info("seeded the original PiggyBank data")
        finally:
            conn.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": LOCK_NAME})
            conn.commit()
    return applied_now
