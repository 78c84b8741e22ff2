"""Readiness probe of one Galera node, for HAProxy's writer checks (like Percona's clustercheck).

    python galera_check.py --socket /run/mysqld/mysqld.sock --listen 127.0.0.1:3321

GET /        200 when the node can take the bank's writes now, else 503; the body says why (JSON).
GET /connected  503 when the node answers but has left its group for good (wsrep_connected OFF),
             else 200: Monit kills such a node and starts it again (monit/services/mariadb.j2).
GET /healthz 200 while this probe runs (Monit's check of the probe itself).

A node can leave its group for good while its process lives on and answers: when two nodes join
at once, an IST can miss a write set that a concurrent membership change ordered ("IST didn't
contain all write sets ... node restart required", seen here when Monit restarted two crashed nodes
together); the node then closes its group connection and stays alone, neither Primary nor trying to
rejoin. Only a restart brings it back (by IST). A node that is merely out of quorum, hung, or
receiving a state transfer keeps wsrep_connected ON or does not answer at all: not restarted here.

"Can take writes" is more than the status variables say. Measured on these machines: a node resumed
after SIGSTOP reports Synced, Primary and ready for ~6 s while its commits fail, because it has not
yet noticed that the others left it behind. So besides wsrep_ready=ON, wsrep_cluster_status=Primary
and wsrep_local_state Synced (4), a node must have its group's membership settled
(wsrep_evs_state OPERATIONAL) and answer one causal read (wsrep_sync_wait=1), which needs a round
trip through the group: a node cut off from it cannot answer in time.

But every node's membership is unsettled for the ~3 s in which the cluster leaves a lost node out
(the survivors' commits wait meanwhile, then go on). Failing all of them then would take the writer
out of HAProxy, cut its connections, and leave no node to write to: a 3 s stall would become an
outage. So the strict check is what a node must pass to become ready; a node that passed it within
the last GRACE seconds stays ready through a membership change as long as its status variables
still say Primary and Synced. The resumed node above never passed it since it hung, so it stays out.

A Donor (2) counts as ready when the state transfer is mariabackup's, which keeps the donor writable:
otherwise each rejoining node would fail the writer over to another one.

Stands alone (standard library and PyMySQL), so the db container runs it with Debian's python3 and
python3-pymysql; natively it runs on the project's virtualenv. Written here because no packaged
clustercheck checks more than the status variables. Connects over the unix socket as the OS user
(MariaDB's unix_socket authentication): no password to keep.
"""

import argparse
import json
import os
import pwd
import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pymysql

SYNCED, DONOR = "4", "2"
# Well inside HAProxy's `timeout check` (1 s): a hung server costs a failed check, never a stuck one.
CONNECT_TIMEOUT, READ_TIMEOUT = 0.4, 0.5
# How long a node that passed the strict check stays ready while its group's membership changes
# (leaving a lost node out takes ~3 s: evs.suspect_timeout 2 s plus the new view).
GRACE = 6.0
STATUS = ("wsrep_ready", "wsrep_cluster_status", "wsrep_local_state", "wsrep_local_state_comment",
          "wsrep_evs_state", "wsrep_cluster_size", "wsrep_connected")


class Readiness:
    """The probe's judgement of one node, with the memory the grace above needs."""

    def __init__(self, socket_path: str, user: str):
        self.socket_path, self.user = socket_path, user
        self.strict_ok_at: float | None = None  # when the node last passed the strict check
        self.lock = threading.Lock()

    def check(self) -> tuple[bool, dict]:
        """(ready, what was seen)."""
        started = time.monotonic()
        seen, strict = self.look()
        with self.lock:
            if strict is True:
                self.strict_ok_at = started
            elif strict is False or seen.get("reason"):
                self.strict_ok_at = None
            elif self.strict_ok_at is not None and started - self.strict_ok_at <= GRACE:
                seen["reason"] = None
                seen["grace"] = f"membership changing; passed the strict check {started - self.strict_ok_at:.1f} s ago"
            else:
                seen["reason"] = seen.pop("unsettled")
            ready = strict is True or (strict is None and seen.get("reason") is None)
        seen["check_ms"] = round((time.monotonic() - started) * 1000, 1)
        return ready, seen

    def connected(self) -> tuple[bool, dict]:
        """(False only when the node answers and says it has left its group, what was seen)."""
        try:
            connection = pymysql.connect(unix_socket=self.socket_path, user=self.user, connect_timeout=CONNECT_TIMEOUT,
                                         read_timeout=READ_TIMEOUT, write_timeout=READ_TIMEOUT, ssl_disabled=True)
        except pymysql.MySQLError as error:  # not answering: Monit's pid and port checks judge that
            return True, {"reason": f"no connection: {error.args[-1]}"}
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS"
                               " WHERE VARIABLE_NAME = 'WSREP_CONNECTED'")
                row = cursor.fetchone()
        except pymysql.MySQLError as error:
            return True, {"reason": f"status unreadable: {error.args[-1]}"}
        finally:
            connection.close()
        value = row[0] if row else None
        return not left_its_group(value), {"wsrep_connected": value}

    def look(self) -> tuple[dict, bool | None]:
        """What the node says, and the strict verdict: True (passed), False (failed for good: not
        ready whatever came before), None (unsettled: only its membership is changing)."""
        try:
            # ssl_disabled: a unix socket needs no TLS, and PyMySQL >= 1.2 would build a TLS context (~0.1 s)
            connection = pymysql.connect(unix_socket=self.socket_path, user=self.user, connect_timeout=CONNECT_TIMEOUT,
                                         read_timeout=READ_TIMEOUT, write_timeout=READ_TIMEOUT, ssl_disabled=True)
        except pymysql.MySQLError as error:
            return {"reason": f"no connection: {error.args[-1]}"}, False
        seen: dict = {}
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT LOWER(VARIABLE_NAME), VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS"
                               " WHERE VARIABLE_NAME IN %s", (STATUS,))
                seen = dict(cursor.fetchall())
                cursor.execute("SELECT @@wsrep_sst_method")
                seen["wsrep_sst_method"] = cursor.fetchone()[0]
                reason = not_ready_because(seen)
                if reason:
                    return {**seen, "reason": reason}, False
                if seen.get("wsrep_evs_state") != "OPERATIONAL":
                    return {**seen, "unsettled": f"group membership changing ({seen.get('wsrep_evs_state')})"}, None
                # A causal read: waits until this node has applied everything the group committed
                # before it, which needs the group to answer (repl.causal_read_timeout, my.cnf.j2).
                cursor.execute("SET SESSION wsrep_sync_wait = 1")
                cursor.execute("SELECT 1 FROM DUAL")
                cursor.fetchall()
        except pymysql.MySQLError as error:
            if not seen:
                return {"reason": f"status unreadable: {error.args[-1]}"}, False
            return {**seen, "unsettled": f"causal read failed: {error.args[-1]}"}, None
        finally:
            connection.close()
        return {**seen, "reason": None}, True


def not_ready_because(seen: dict) -> str | None:
    """Why the status variables rule the node out for writes (None: they don't)."""
    if seen.get("wsrep_ready") != "ON":
        return "wsrep_ready is not ON"
    if seen.get("wsrep_cluster_status") != "Primary":
        return f"not in the primary component ({seen.get('wsrep_cluster_status')}): quorum lost or not joined"
    state = seen.get("wsrep_local_state")
    if state != SYNCED and not (state == DONOR and seen.get("wsrep_sst_method") == "mariabackup"):
        return f"state {seen.get('wsrep_local_state_comment')}"
    return None


def left_its_group(wsrep_connected: str | None) -> bool:
    """A node whose group connection is closed (not one still joining or out of quorum)."""
    return wsrep_connected == "OFF"


class Probe(BaseHTTPRequestHandler):
    server_version = "galera-check"

    def do_GET(self):  # noqa: N802 - http.server's name
        if self.path == "/healthz":
            self.answer(200, {"probe": "ok"})
        elif self.path == "/connected":
            connected, seen = self.server.readiness.connected()
            self.answer(200 if connected else 503, {"connected": connected, **seen})
        elif self.path == "/":
            ready, seen = self.server.readiness.check()
            self.answer(200 if ready else 503, {"ready": ready, **seen})
        else:
            self.answer(404, {"error": "GET /, /connected or /healthz"})

    def answer(self, status: int, body: dict) -> None:
        data = (json.dumps(body) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_args):  # HAProxy asks twice a second: no line per check
        pass


class ProbeServer(socketserver.ThreadingMixIn, HTTPServer):
    daemon_threads = True  # a check stuck on a hung server never holds up the next one
    allow_reuse_address = True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--socket", required=True, help="the node's unix socket")
    parser.add_argument("--listen", required=True, help="HOST:PORT")
    args = parser.parse_args()
    host, port = args.listen.rsplit(":", 1)
    server = ProbeServer((host, int(port)), Probe)
    # MariaDB's unix_socket authentication maps the OS user to the account of the same name.
    server.readiness = Readiness(args.socket, pwd.getpwuid(os.geteuid()).pw_name)
    server.serve_forever()


if __name__ == "__main__":
    main()
