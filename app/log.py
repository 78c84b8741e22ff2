"""JSON log lines, one per event, each with the app server's name and the request id that nginx
passes along (X-Request-ID), so one request can be followed from nginx's log to the app's."""

import logging
import sys
import time
import uuid
from json.encoder import encode_basestring_ascii as quoted

from flask import has_request_context, request
from pythonjsonlogger.json import JsonFormatter

ACCESS_LOGGER = "piggybank.access"
REQUEST_ID = "piggybank.request_id"  # the request's id, in its WSGI environ
POLLED = frozenset({"/api/healthcheck", "/api/liveness", "/metrics"})  # polled all the time: not logged


class _RequestContext(logging.Filter):
    def __init__(self, instance: str):
        super().__init__()
        self.instance = instance

    def filter(self, record: logging.LogRecord) -> bool:
        record.instance = self.instance
        record.request_id = request.environ.get(REQUEST_ID) if has_request_context() else None
        return True


class AccessLog:
    """The access line, one per request, in the shape python-json-logger gives every other line
    (the same keys, in the same order, on the same stream). Written by hand: through `logging` a
    line cost ~80 µs of CPU under gevent (a LogRecord, the filter, the handler's lock taken twice,
    python-json-logger's merge of the record's fields; measured, docs/benchmarks.md "Sixth pass"),
    most of what an app server spends on a `GET /api/user` beyond its query; by hand with json.dumps
    ~19 µs, and as one f-string of json's escaped strings 39 K instructions a line instead of 84 K
    (callgrind, docs/benchmarks.md "Seventh pass")."""

    def __init__(self):
        self.stream, self.instance = None, None  # set by configure(); without it, no lines (as logging)
        self.logger = logging.getLogger(ACCESS_LOGGER)
        self._second, self._second_text = None, ""  # the time's whole seconds, formatted once a second

    def write(self, method: str, path: str, status: int, duration_ms: float, request_id: str) -> None:
        if self.stream is None or not self.logger.isEnabledFor(logging.INFO):
            return
        now = time.time()
        second = int(now)
        if second != self._second:
            self._second, self._second_text = second, time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))
        # json.dumps' own escaping of each string, without building and encoding a dict (a third of the cost).
        self.stream.write(
            f'{{"time": "{self._second_text},{int(now % 1 * 1000):03d}", "level": "INFO", "name": "{ACCESS_LOGGER}", '
            f'"message": "request", "method": {quoted(method)}, "path": {quoted(path)}, "status": {int(status)}, '
            f'"duration_ms": {float(duration_ms)!r}, "instance": {quoted(self.instance)}, '
            f'"request_id": {quoted(request_id)}}}\n')
        self.stream.flush()  # as logging's StreamHandler: a line is out before the next request


access_log = AccessLog()


def configure(instance: str, level: int = logging.INFO) -> None:
    """Once per process: every log record becomes a JSON line on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s",
                                       rename_fields={"asctime": "time", "levelname": "level"}))
    handler.addFilter(_RequestContext(instance))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    access_log.stream, access_log.instance = handler.stream, instance


def init_app(app) -> None:
    """Every request gets an id (nginx's X-Request-ID, or a new one), on its answer and its log
    lines, and an access line. As WSGI middleware around Flask rather than its before and after
    request hooks, which cost ~56 K instructions a request on top of the line itself (Flask checks
    every hook for a coroutine on every call; the request, g and the headers are reached through
    context proxies; callgrind, docs/benchmarks.md "Seventh pass"): here they are the WSGI environ's
    own keys and the answer's status line and header list."""
    wsgi_app = app.wsgi_app

    def logged(environ, start_response):
        request_id = environ[REQUEST_ID] = environ.get("HTTP_X_REQUEST_ID") or uuid.uuid4().hex
        started = time.perf_counter()
        statuses = []

        def answer(status, headers, exc_info=None):
            statuses.append(status)
            headers.append(("X-Request-ID", request_id))
            return start_response(status, headers, exc_info)

        body = wsgi_app(environ, answer)
        # As Werkzeug decodes it for request.path: WSGI hands the path's bytes over as latin-1.
        path = "/" + environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace").lstrip("/")
        if path not in POLLED:
            # No status line: a WebSocket, whose handshake (101) flask-sock answered itself.
            status = int(statuses[-1][:3]) if statuses else 101
            access_log.write(environ["REQUEST_METHOD"], path, status,
                             round((time.perf_counter() - started) * 1000, 2), request_id)
        return body

    app.wsgi_app = logged
