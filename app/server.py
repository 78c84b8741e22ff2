"""How an app server listens and answers (gevent's WSGIServer): `python -m app` and the benchmark's
baselines (load/baseline.py) use both, so they are served alike.

The socket has TCP_NODELAY: without it every keep-alive request behind nginx stalls ~40 ms (Nagle's
algorithm meets delayed ACKs).
"""

import socket

from gevent.pywsgi import WSGIHandler


def listening_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # accepted sockets inherit it
    sock.bind((host, port))
    sock.listen(1024)
    return sock


class OneWriteHandler(WSGIHandler):
    """gevent 26 sends an answer's headers and its first body chunk with two `sendall`s, which with
    TCP_NODELAY leave as two packets. An app server killed between them leaves HAProxy an answer it
    has begun to pass on and can no longer send to another server: the customer's request fails
    (seen in a kill -9 test: 156 of 331 bytes, HAProxy's "SD"). Here both go in one `sendall`, so
    an answer leaves whole or not at all; gevent has no option for it, so its two writes are
    collected and sent together."""

    def _write_with_headers(self, data):
        parts = []
        self._sendall = parts.append  # shadows the method for gevent's two writes just below
        try:
            super()._write_with_headers(data)
        finally:
            del self._sendall
        self._sendall(b"".join(parts))

    def log_request(self):
        """Nothing: the servers are given no log (the app writes its own access line, app/log.py),
        yet gevent formats a line for its no-op log after every answer (~2 µs, measured)."""
