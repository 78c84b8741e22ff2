"""A small single-threaded WebSocket client (wsproto) for ws:// and wss:// in tests.

simple-websocket's client shares one TLS socket between a reader thread and the writer, which
fails intermittently over TLS; one thread doing both is reliable.
"""

import json
import socket
import ssl
import time
from urllib.parse import urlsplit

from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Message, Ping, Request, TextMessage


class WebSocket:
    def __init__(self, url: str, timeout: float = 5.0):
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "wss" else 80)
        raw = socket.create_connection((parts.hostname, port), timeout=timeout)
        if parts.scheme == "wss":
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            raw = context.wrap_socket(raw, server_hostname=parts.hostname)
        self.sock = raw
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.inbox: list[dict] = []
        self.closed: int | None = None
        self.sock.sendall(self.ws.send(Request(host=parts.netloc, target=parts.path or "/")))
        self._pump_until(lambda: self.accepted, timeout)

    accepted = False

    def _pump(self, timeout: float) -> None:
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return
        if not data:
            self.closed = self.closed or 1006
            return
        self.ws.receive_data(data)
        for event in self.ws.events():
            if isinstance(event, AcceptConnection):
                self.accepted = True
            elif isinstance(event, TextMessage):
                self.inbox.append(json.loads(event.data))
            elif isinstance(event, Ping):
                self.sock.sendall(self.ws.send(event.response()))
            elif isinstance(event, CloseConnection):
                self.closed = event.code

    def _pump_until(self, done, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not done() and self.closed is None and time.monotonic() < deadline:
            self._pump(min(0.2, max(deadline - time.monotonic(), 0.01)))
        if not done():
            raise TimeoutError(f"WebSocket: condition not met within {timeout} s (closed={self.closed}, "
                               f"inbox={self.inbox})")

    def send(self, message: dict) -> None:
        self.sock.sendall(self.ws.send(Message(data=json.dumps(message))))

    def wait_for(self, predicate, timeout: float = 5.0) -> dict:
        """The first message in the inbox matching the predicate (waiting for it if needed)."""
        found: list[dict] = []

        def done():
            found[:] = [m for m in self.inbox if predicate(m)]
            return bool(found)

        self._pump_until(done, timeout)
        return found[0]

    def close(self) -> None:
        try:
            self.sock.sendall(self.ws.send(CloseConnection(code=1000)))
        except OSError:
            pass
        self.sock.close()


def connect_notifications(url: str, token: str, last_id: int = 0) -> WebSocket:
    """Open /api/ws, authenticate, and wait for the welcome message."""
    ws = WebSocket(url)
    ws.send({"type": "auth", "token": token, "lastId": last_id})
    ws.wait_for(lambda m: m.get("type") == "welcome")
    return ws
