"""The private MariaDB: its data directory, and the users the stack needs (least privilege).

root authenticates only over the unix socket as the OS root user; the app's user has its own
database only; the exporter's user has just what mysqld-exporter reads.
"""

import subprocess

from stack.settings import Stack

APP_DATABASE = "piggybank"


def initialise_datadir(stack: Stack) -> bool:
    """Create the data directory once; True if it was created now."""
    data = stack.db_dir / "data"
    if (data / "mysql").exists():
        return False
    stack.db_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={data}", "--user=root",
                    "--skip-test-db", "--auth-root-authentication-method=socket"],
                   check=True, capture_output=True)
    return True


def root_sql(stack: Stack, sql: str) -> str:
    done = subprocess.run(["mariadb", "--no-defaults", "-S", str(stack.db_socket), "-uroot", "-N", "-B", "-e", sql],
                          check=True, capture_output=True, text=True)
    return done.stdout


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def ensure_users(stack: Stack, secrets: dict[str, str]) -> None:
    """Idempotent: creates the database and users, and (re)sets their passwords from the secrets."""
    app_pw, exporter_pw = _quote(secrets["PIGGY_DB_PASSWORD"]), _quote(secrets["PIGGY_EXPORTER_DB_PASSWORD"])
    statements = [f"CREATE DATABASE IF NOT EXISTS {APP_DATABASE} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"]
    for host in ("127.0.0.1", "localhost"):
        statements += [
            f"CREATE USER IF NOT EXISTS 'piggybank'@'{host}' IDENTIFIED BY {app_pw}",
            f"ALTER USER 'piggybank'@'{host}' IDENTIFIED BY {app_pw}",
            f"GRANT ALL PRIVILEGES ON {APP_DATABASE}.* TO 'piggybank'@'{host}'",
            f"CREATE USER IF NOT EXISTS 'exporter'@'{host}' IDENTIFIED BY {exporter_pw} WITH MAX_USER_CONNECTIONS 3",
            f"ALTER USER 'exporter'@'{host}' IDENTIFIED BY {exporter_pw}",
            f"GRANT PROCESS, REPLICATION CLIENT, SLAVE MONITOR ON *.* TO 'exporter'@'{host}'",
            # SELECT only where the exporter reads, not on the bank's tables (password hashes live there).
            f"GRANT SELECT ON performance_schema.* TO 'exporter'@'{host}'",
        ]
    root_sql(stack, ";\n".join(statements) + ";")
