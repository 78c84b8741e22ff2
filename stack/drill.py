"""The original README's manual restart drill as a program: kill -9 a supervised process and time
until Monit has it answering again (new pid, healthy)."""

import os
import signal
import statistics
import time

from stack import database, galera
from stack.control import http_ok
from stack.settings import Stack


def healthy(stack: Stack, service: str) -> bool:
    ports = stack.ports
    node = next((n for n in stack.db_nodes if n.name == service), None)
    if node is not None:  # the single MariaDB answers; a Galera node is back in the cluster
        return galera.synced(node) if node.galera else database.answers(node)
    if service == "nginx":
        return http_ok(f"https://127.0.0.1:{ports['https']}/healthz", timeout=1)
    if service == "haproxy":
        return http_ok(f"http://127.0.0.1:{ports['haproxy_stats']}/healthz", timeout=1)
    port = next(s.port for s in stack.app_servers if s.name == service)
    return http_ok(f"http://127.0.0.1:{port}/api/healthcheck", timeout=1)


def current_pid(stack: Stack, service: str) -> int | None:
    try:
        return int(stack.pidfile(service).read_text().strip())
    except (OSError, ValueError):
        return None


def kill_and_time(stack: Stack, service: str, timeout: float = 60.0) -> float:
    """Seconds from kill -9 until a new process of the service answers healthy."""
    old = current_pid(stack, service)
    if old is None or not healthy(stack, service):
        raise RuntimeError(f"{service} is not running and healthy before the drill")
    os.kill(old, signal.SIGKILL)
    killed = time.monotonic()
    while time.monotonic() - killed < timeout:
        pid = current_pid(stack, service)
        if pid and pid != old and healthy(stack, service):
            return time.monotonic() - killed
        time.sleep(0.02)
    raise TimeoutError(f"{service} was not healthy again within {timeout:.0f} s")


def services(stack: Stack) -> list[str]:
    """What the drill can kill."""
    return [server.name for server in stack.app_servers] + [node.name for node in stack.db_nodes] + ["nginx"]


def main(stack: Stack, service: str, times: int) -> int:
    if service not in services(stack):
        raise SystemExit(f"no service {service!r} here: one of {', '.join(services(stack))}")
    results = []
    for attempt in range(1, times + 1):
        seconds = kill_and_time(stack, service)
        results.append(seconds)
        print(f"kill -9 {service} #{attempt}: healthy again after {seconds:.2f} s", flush=True)
        time.sleep(2)
    if len(results) > 1:
        print(f"{service}: min {min(results):.2f} s, median {statistics.median(results):.2f} s, "
              f"max {max(results):.2f} s over {len(results)} kills")
    return 0
