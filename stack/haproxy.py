"""HAProxy's runtime API (the admin socket of haproxy/haproxy.cfg.j2): which app servers are in
rotation, and taking one out and back for a rolling restart.

The runtime API is a line protocol on a unix socket (HAProxy's management.txt: "show stat",
"set server"). Two commands are all the stack needs, fewer lines than a client library's setup.
"""

import csv
import io
import socket

from stack.settings import Stack

BACKEND = "appservers"  # the backend of haproxy/haproxy.cfg.j2 that balances the app servers
FALLBACK = "fallback-"  # the prefix of each app server's patiently checked backup in that backend


def command(stack: Stack, line: str, timeout: float = 2.0) -> str:
    """One command on the admin socket; returns HAProxy's answer (OSError when it isn't running)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(timeout)
        conn.connect(str(stack.haproxy_socket))
        conn.sendall(line.encode() + b"\n")
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode()


def stats(stack: Stack) -> list[dict[str, str]]:
    """`show stat` as rows (pxname, svname, status, check_status, wretr, wredis, qcur, ...)."""
    text = command(stack, "show stat").lstrip("# ")
    return [row for row in csv.DictReader(io.StringIO(text)) if row.get("pxname")]


def servers(stack: Stack, fallback: bool = False) -> dict[str, dict[str, str]]:
    """The app servers' rows of the backend by server name: the ones in rotation, or (fallback) their
    patiently checked backups, by the app server's name."""
    rows = {}
    for row in stats(stack):
        if row["pxname"] != BACKEND or row["svname"] in ("FRONTEND", "BACKEND"):
            continue
        if (row["bck"] == "1") == fallback:
            rows[row["svname"].removeprefix(FALLBACK)] = row
    return rows


def states(stack: Stack) -> dict[str, str]:
    """Each app server's state: UP, DOWN, MAINT, DRAIN, or a transition such as "UP 1/2"."""
    return {name: row["status"] for name, row in servers(stack).items()}


def in_rotation(stack: Stack) -> set[str]:
    return {name for name, state in states(stack).items() if state == "UP"}


def set_state(stack: Stack, server: str, state: str) -> None:
    """ready, drain (no new requests, those in flight finish) or maint (out of rotation), for the app
    server and its backup alike."""
    for name in (server, FALLBACK + server):
        answer = command(stack, f"set server {BACKEND}/{name} state {state}").strip()
        if answer:
            raise RuntimeError(f"HAProxy refused to set {name} {state}: {answer}")
