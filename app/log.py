"""JSON log lines, one per event, each with the app server's name and the request id that nginx
passes along (X-Request-ID), so one request can be followed from nginx's log to the app's."""

import logging
import sys
import time
import uuid
from json.encoder import encode_basestring_ascii as quoted

from flask import g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

ACCESS_LOGGER = "piggybank.access"
POLLED = frozenset({"/api/healthcheck", "/api/liveness", "/metrics"})  # polled all the time: not logged


class _RequestContext(logging.Filter):
    def __init__(self, instance: str):
        super().__init__()
        self.instance = instance

    def filter(self, record: logging.LogRecord) -> bool:
        record.instance = self.instance
        record.request_id = g.get("request_id") if has_request_context() else None
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
    @app.before_request
    def _start():
        g.request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    def _log(response):
        request_id = g.get("request_id", "")
        response.headers["X-Request-ID"] = request_id
        path = request.path
        if path not in POLLED:
            access_log.write(request.method, path, response.status_code,
                             round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 2),
                             request_id)
        return response
