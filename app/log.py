"""JSON log lines, one per event, each with the app server's name and the request id that nginx
passes along (X-Request-ID), so one request can be followed from nginx's log to the app's."""

import logging
import sys
import time
import uuid

from flask import g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter


class _RequestContext(logging.Filter):
    def __init__(self, instance: str):
        super().__init__()
        self.instance = instance

    def filter(self, record: logging.LogRecord) -> bool:
        record.instance = self.instance
        record.request_id = g.get("request_id") if has_request_context() else None
        return True


def configure(instance: str, level: int = logging.INFO) -> None:
    """Once per process: every log record becomes a JSON line on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s",
                                       rename_fields={"asctime": "time", "levelname": "level"}))
    handler.addFilter(_RequestContext(instance))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def init_app(app) -> None:
    access = logging.getLogger("piggybank.access")

    @app.before_request
    def _start():
        g.request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    def _log(response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        if request.path not in ("/api/healthcheck", "/api/liveness", "/metrics"):  # polled all the time
            access.info("request", extra={
                "method": request.method, "path": request.path, "status": response.status_code,
                "duration_ms": round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 2)})
        return response
