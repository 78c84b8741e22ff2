"""The benchmark's two baselines, served exactly like an app server (gevent's WSGIServer on a socket
with TCP_NODELAY and the one-write handler, app/server.py) and put behind the same nginx config:

    python -m load.baseline flask PORT   # a minimal Flask app answering a fixed JSON body: the framework's limit
    python -m load.baseline wsgi PORT    # a bare WSGI callable answering the same bytes: the server's limit

Neither verifies a token or reads a database; GET /api/user does both, so the ratio to them says
what the bank's own work costs.
"""

from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402

import gevent  # noqa: E402
from gevent.pywsgi import WSGIServer  # noqa: E402

from app.server import OneWriteHandler, listening_socket  # noqa: E402 - served like an app server

# The shape of GET /api/user's answer, so both sides move the same number of bytes.
FIXED = {"firstName": "Max", "lastName": "Mustermann", "email": "maxmustermann@gmail.com",
         "iban": "AT961000100000000001", "bic": "BANKATW1", "balance": "2437.23", "limit": "1000.00",
         "remaining": "1000.00"}
BODY = json.dumps(FIXED, separators=(",", ":")).encode()


def bare_wsgi(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))])
    return [BODY]


def minimal_flask():
    from flask import Flask

    app = Flask("baseline")

    @app.route("/", defaults={"path": ""})
    @app.route("/<path:path>")
    def fixed(path):
        return FIXED

    return app


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("flask", "wsgi"):
        print(__doc__)
        return 2
    application = minimal_flask() if argv[0] == "flask" else bare_wsgi
    server = WSGIServer(listening_socket("127.0.0.1", int(argv[1])), application, log=None,
                        handler_class=OneWriteHandler)
    gevent.signal_handler(signal.SIGTERM, server.stop)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
