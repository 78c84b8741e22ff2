"""Where the stack lives, how many app servers and database nodes it runs and which ports it uses,
from the environment.

Every port has a default and its own variable; PIGGY_PORT_OFFSET shifts all defaults at once
(the tests use it to run a second stack beside a running `make up`). PIGGY_APP_SERVERS (default 2)
is how many app servers run: appserver1 listens on PIGGY_APP_PORT (8001), each next one on the
next port (appserver2 on 8002, ...). PIGGY_DB_NODES (default 1) is how many database nodes run: 1
is a single MariaDB on PIGGY_DB_PORT, as the original; 3 (or 5, 7, 9) a Galera cluster whose nodes
db1 ... dbN each take the next port of every per-node base (db1 on PIGGY_DB_NODE_PORT + 1, ...),
while PIGGY_DB_PORT becomes HAProxy's writer address.
"""

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

DEFAULT_PORTS = {
    "https": 8080, "haproxy": 8000, "haproxy_stats": 8404, "app": 8001, "db": 3307, "prometheus": 9090,
    "alertmanager": 9093, "alert_sink": 9095, "mysqld_exporter": 9104, "blackbox": 9115, "monit": 2812,
    "grafana": 5000,
    # Galera: node N listens on base + N (all well below the ephemeral range at every offset in use)
    "db_node": 3310, "galera_check": 3320, "galera": 4570, "galera_ist": 4580, "galera_sst": 4590,
    "mysqld_exporter_node": 9170,
}
DEFAULT_APP_SERVERS = 2  # as the original
MAX_APP_SERVERS = 20
DB_NODE_COUNTS = (1, 3, 5, 7, 9)  # a cluster keeps quorum only with an odd number of nodes


def grafana_off(env) -> bool:
    return env.get("PIGGY_GRAFANA", "").strip().lower() in ("off", "0", "false", "no")


def grafana_binary(env=None) -> str | None:
    """The Grafana server to run natively, unless there is none or PIGGY_GRAFANA=off."""
    env = os.environ if env is None else env
    if grafana_off(env):
        return None
    return shutil.which("grafana") or shutil.which("grafana-server")


@dataclass(frozen=True)
class AppServer:
    name: str
    port: int


def app_server_count(env: dict[str, str]) -> int:
    """PIGGY_APP_SERVERS, checked: a clear error rather than a stack that half starts."""
    raw = env.get("PIGGY_APP_SERVERS", str(DEFAULT_APP_SERVERS))
    if not raw.strip().isdigit() or not 1 <= int(raw) <= MAX_APP_SERVERS:
        raise ValueError(f"PIGGY_APP_SERVERS={raw!r}: a whole number from 1 to {MAX_APP_SERVERS}")
    return int(raw)


def app_ports(first: int, count: int) -> dict[str, int]:
    """The one port scheme of the app servers: appserver<i> on first + i - 1, as "app<i>"."""
    return {f"app{i}": first + i - 1 for i in range(1, count + 1)}


def db_node_count(env: dict[str, str]) -> int:
    """PIGGY_DB_NODES, checked: a clear error rather than a cluster that can never keep quorum."""
    raw = env.get("PIGGY_DB_NODES", "1").strip()
    if not raw.isdigit() or int(raw) not in DB_NODE_COUNTS:
        raise ValueError(f"PIGGY_DB_NODES={raw!r}: one of {', '.join(map(str, DB_NODE_COUNTS))} "
                         "(1 is a single MariaDB; a Galera cluster needs an odd number of nodes to keep quorum)")
    return int(raw)


@dataclass(frozen=True)
class DbNode:
    """One database server: the single MariaDB ("mariadb"), or Galera node db<index> of a cluster."""
    name: str                # its Monit service
    index: int
    port: int                # MariaDB's client port
    dir: Path                # its data directory, socket and bootstrap request live here
    exporter: str            # the Monit service of its mysqld-exporter
    exporter_port: int
    galera: dict[str, int] | None = None  # gmcast, ist, sst and check ports; None for the single MariaDB

    @property
    def data(self) -> Path:
        return self.dir / "data"

    @property
    def socket(self) -> Path:
        return self.dir / "mysqld.sock"

    @property
    def bootstrap_request(self) -> Path:
        """Written by the launcher, consumed by mariadb/galera-start.sh: start a new primary component."""
        return self.dir / "bootstrap-requested"


@dataclass(frozen=True)
class Stack:
    run: Path
    ports: dict[str, int]  # DEFAULT_PORTS' names, and "app1" ... "app<N>" for the app servers
    root: Path = ROOT
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Stack":
        env = dict(os.environ if env is None else env)
        offset = int(env.get("PIGGY_PORT_OFFSET", "0"))
        ports = {name: int(env.get(f"PIGGY_{name.upper()}_PORT", default + offset))
                 for name, default in DEFAULT_PORTS.items()}
        db_node_count(env)
        ports.update(app_ports(ports["app"], app_server_count(env)))
        named = {name: port for name, port in ports.items() if name != "app"}  # "app" is app1's port
        clashes = {name: port for name, port in named.items() if list(named.values()).count(port) > 1}
        if clashes:
            raise ValueError(f"ports used twice: {clashes} (PIGGY_APP_SERVERS and PIGGY_APP_PORT "
                             "put the app servers on consecutive ports)")
        run = Path(env.get("PIGGY_RUN_DIR", ROOT / "run")).resolve()
        return cls(run=run, ports=ports, env=env)

    @property
    def app_servers(self) -> list[AppServer]:
        count = sum(1 for name in self.ports if name.startswith("app") and name[3:].isdigit())
        return [AppServer(f"appserver{i}", self.ports[f"app{i}"]) for i in range(1, count + 1)]

    @property
    def db_nodes(self) -> list[DbNode]:
        count = db_node_count(self.env)
        if count == 1:
            return [DbNode("mariadb", 1, self.ports["db"], self.db_dir, "mysqld-exporter",
                           self.ports["mysqld_exporter"])]
        p = self.ports
        return [DbNode(f"db{i}", i, p["db_node"] + i, self.run / f"db{i}", f"mysqld-exporter-db{i}",
                       p["mysqld_exporter_node"] + i,
                       {"gmcast": p["galera"] + i, "ist": p["galera_ist"] + i, "sst": p["galera_sst"] + i,
                        "check": p["galera_check"] + i})
                for i in range(1, count + 1)]

    @property
    def clustered(self) -> bool:
        """A Galera cluster behind HAProxy's writer address, rather than one MariaDB."""
        return db_node_count(self.env) > 1

    def listening_ports(self) -> list[int]:
        """Every port the stack listens on (the per-node ones of a cluster included)."""
        nodes = [port for node in self.db_nodes if node.galera
                 for port in (node.port, node.exporter_port, node.galera["gmcast"], node.galera["check"])]
        return sorted({*self.ports.values(), *nodes})

    @property
    def python(self) -> Path:
        return self.root / ".venv" / "bin" / "python"

    # run-directory layout
    @property
    def conf(self) -> Path:
        return self.run / "conf"

    @property
    def logs(self) -> Path:
        return self.run / "logs"

    @property
    def pids(self) -> Path:
        return self.run / "pids"

    @property
    def db_dir(self) -> Path:
        return self.run / "db"

    @property
    def db_socket(self) -> Path:
        return self.db_dir / "mysqld.sock"

    @property
    def secrets_file(self) -> Path:
        return self.run / "secrets.env"

    @property
    def tls(self) -> Path:
        return self.run / "tls"

    @property
    def haproxy_socket(self) -> Path:
        return self.run / "haproxy" / "admin.sock"

    @property
    def monitrc(self) -> Path:
        return self.conf / "monitrc"

    def pidfile(self, service: str) -> Path:
        return self.pids / f"{service}.pid"

    def logfile(self, service: str) -> Path:
        return self.logs / f"{service}.log"

    def url(self, path: str = "/") -> str:
        return f"https://localhost:{self.ports['https']}{path}"
