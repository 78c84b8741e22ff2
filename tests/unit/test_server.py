"""app/server.py's handler: an answer leaves in one write, so an app server killed mid-answer
never leaves HAProxy half an answer it can no longer resend."""

import gevent.socket
from gevent.pywsgi import WSGIHandler, WSGIServer

from app.server import OneWriteHandler

BODY = b'{"firstName":"Max"}'


def fixed_length(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))])
    return [BODY]


def chunked(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json")])
    yield BODY  # a generator: its length is unknown, so gevent sends it chunked
    yield BODY


def writes_of(handler_class, app) -> list[bytes]:
    """The `sendall`s of one answer, served by a real gevent server on a loopback socket."""
    writes: list[bytes] = []

    class Recording(handler_class):
        def _sendall(self, data):
            writes.append(bytes(data))
            super()._sendall(data)

    server = WSGIServer(("127.0.0.1", 0), app, handler_class=Recording, log=None)
    server.start()
    try:
        client = gevent.socket.create_connection(("127.0.0.1", server.server_port))
        client.sendall(b"GET /api/user HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := client.recv(65536):
            answer += chunk
        client.close()
    finally:
        server.stop()
    assert answer.startswith(b"HTTP/1.1 200") and BODY in answer
    return writes


def test_gevents_own_handler_writes_headers_and_body_apart():
    """What the handler is for: if this starts failing, gevent writes once by itself."""
    assert len(writes_of(WSGIHandler, fixed_length)) == 2


def test_an_answer_with_a_length_leaves_in_one_write():
    writes = writes_of(OneWriteHandler, fixed_length)
    assert len(writes) == 1
    assert writes[0].startswith(b"HTTP/1.1 200 OK\r\n") and writes[0].endswith(b"\r\n\r\n" + BODY)


def test_a_chunked_answer_sends_its_headers_with_its_first_chunk():
    writes = writes_of(OneWriteHandler, chunked)
    assert b"Transfer-Encoding: chunked" in writes[0] and writes[0].endswith(b"\r\n" + BODY + b"\r\n")
