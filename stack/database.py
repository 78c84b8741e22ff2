"""The private MariaDB: its data directory, and the users the stack needs (least privilege).

root authenticates only over the unix socket as the OS root user; the app's user has its own
database only; the exporter's user has just what mysqld-exporter reads.
"""

import subprocess

from stack.settings import DbNode, Stack

APP_DATABASE = "piggybank"
# How a new data directory is made (natively here, and by the db container's entrypoint).
INSTALL_DB_OPTIONS = ("--skip-test-db", "--auth-root-authentication-method=socket")
# Where the stack's clients connect from: natively loopback; in containers any address of the compose network.
NATIVE_CLIENT_HOSTS = ("127.0.0.1", "localhost")


def initialise_datadir(node: DbNode) -> bool:
    """Create a node's data directory once; True if it was created now. (The other nodes of a
    Galera cluster start empty and receive a copy of it.)"""
    if (node.data / "mysql").exists():
        return False
    node.dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={node.data}", "--user=root",
                    *INSTALL_DB_OPTIONS], check=True, capture_output=True)
    return True


def answers(node: DbNode) -> bool:
    return subprocess.run(["mariadb-admin", "--no-defaults", "-S", str(node.socket), "-uroot", "ping"],
                          capture_output=True).returncode == 0


def writer_node(stack: Stack) -> DbNode:
    """The node that takes the bank's writes: the single MariaDB, or HAProxy's writer of a cluster
    (else the first node that answers)."""
    from stack import galera

    writer = galera.writer(stack) if stack.clustered else None
    return next((n for n in stack.db_nodes if n.name == writer), None) or next(
        (n for n in stack.db_nodes if answers(n)), stack.db_nodes[0])


def root_sql(stack: Stack, sql: str) -> str:
    """As root over the socket of the node that takes the writes (a cluster replicates users and
    grants; its status counters are that node's own)."""
    node = writer_node(stack)
    done = subprocess.run(["mariadb", "--no-defaults", "-S", str(node.socket), "-uroot", "-N", "-B", "-e", sql],
                          check=True, capture_output=True, text=True)
    return done.stdout


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def user_statements(secrets: dict[str, str], hosts: tuple[str, ...] = NATIVE_CLIENT_HOSTS) -> list[str]:
    """Idempotent SQL that creates the database and users and (re)sets their passwords from the secrets.

    Natively `ensure_users` runs it as root over the socket; the db container has MariaDB run it at
    every start (--init-file), with the clients' hosts of the compose network.
    """
    app_pw, exporter_pw = _quote(secrets["PIGGY_DB_PASSWORD"]), _quote(secrets["PIGGY_EXPORTER_DB_PASSWORD"])
    statements = [f"CREATE DATABASE IF NOT EXISTS {APP_DATABASE} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"]
    for host in hosts:
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
    return statements


def ensure_users(stack: Stack, secrets: dict[str, str]) -> None:
    """Idempotent: creates the database and users, and (re)sets their passwords from the secrets."""
    root_sql(stack, ";\n".join(user_statements(secrets)) + ";")
