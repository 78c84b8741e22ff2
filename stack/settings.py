"""Where the stack lives and which ports it uses, from the environment.

Every port has a default and its own variable; PIGGY_PORT_OFFSET shifts all defaults at once
(the tests use it to run a second stack beside a running `make up`).
"""

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

DEFAULT_PORTS = {
    "https": 8080, "app1": 8001, "app2": 8002, "db": 3307, "prometheus": 9090, "alertmanager": 9093,
    "alert_sink": 9095, "mysqld_exporter": 9104, "blackbox": 9115, "monit": 2812, "grafana": 5000,
}


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


@dataclass(frozen=True)
class Stack:
    run: Path
    ports: dict[str, int]
    root: Path = ROOT
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Stack":
        env = dict(os.environ if env is None else env)
        offset = int(env.get("PIGGY_PORT_OFFSET", "0"))
        ports = {name: int(env.get(f"PIGGY_{name.upper()}_PORT", default + offset))
                 for name, default in DEFAULT_PORTS.items()}
        run = Path(env.get("PIGGY_RUN_DIR", ROOT / "run")).resolve()
        return cls(run=run, ports=ports, env=env)

    @property
    def app_servers(self) -> list[AppServer]:
        return [AppServer("appserver1", self.ports["app1"]), AppServer("appserver2", self.ports["app2"])]

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
    def monitrc(self) -> Path:
        return self.conf / "monitrc"

    def pidfile(self, service: str) -> Path:
        return self.pids / f"{service}.pid"

    def logfile(self, service: str) -> Path:
        return self.logs / f"{service}.log"

    def url(self, path: str = "/") -> str:
        return f"https://localhost:{self.ports['https']}{path}"
