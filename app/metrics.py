"""Prometheus metrics: request rate, errors and duration per URL rule, process CPU, memory and start
time (prometheus_client's default collectors), and the bank's own.

/metrics is served on each app server's own port for Prometheus and is never routed by nginx.
Labels are bounded: URL rules, not raw paths; reasons and results from fixed sets; no user ids.
"""

import time

import psutil
from flask import request
from prometheus_client import Counter, Gauge, Histogram
from prometheus_flask_exporter import PrometheusMetrics

# Latency buckets for this API: most answers take a few milliseconds, a login ~250 ms (bcrypt).
BUCKETS = (0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

# The names, labels and meaning of prometheus-flask-exporter's defaults (url_rule grouping), which the
# dashboards, alerts and recording rules use. Observed here rather than by the exporter: measured
# in-process under gevent, its hooks cost ~80 us a request (three hooks, four path regexes, label
# lookups by keyword through Werkzeug's proxies, ~6 % of a GET /api/user's app-server CPU), these ~15.
REQUEST_DURATION = Histogram("flask_http_request_duration_seconds", "Flask HTTP request duration in seconds",
                             ["method", "url_rule", "status"], buckets=BUCKETS)
REQUEST_TOTAL = Counter("flask_http_request_total", "Total number of HTTP requests", ["method", "status"])
UNTRACKED = frozenset({"/metrics", "/api/ws", "/api/healthcheck", "/api/liveness"})  # polled, or held open
# nginx passes any method token through: others count as "other", so a client cannot add series.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_STARTED_AT = "piggybank.started"  # the request's start, in its WSGI environ

APP_INFO = Gauge("piggybank_app_info", "Which app server and version this is", ["instance", "version"])
HEALTH_STATUS = Gauge("piggybank_health_status", "Last healthcheck result: 2 ok, 1 degraded, 0 down")
LOGINS = Counter("piggybank_logins_total", "Sign-in attempts by result", ["result"])
TRANSFERS_CREATED = Counter("piggybank_transfers_created_total", "Pending transfers created (mTAN sent)")
TRANSFERS_BOOKED = Counter("piggybank_transfers_booked_total", "Transfers booked")
TRANSFERS_REJECTED = Counter("piggybank_transfers_rejected_total", "Transfers refused, by reason", ["reason"])
MTAN_CHECKS = Counter("piggybank_mtan_verifications_total", "mTAN checks by result", ["result"])
WEBSOCKETS_OPEN = Gauge("piggybank_websockets_open", "WebSocket connections held by this app server")
NOTIFICATIONS_DELIVERED = Counter("piggybank_notifications_delivered_total",
                                  "Notifications pushed to a WebSocket")
NOTIFICATION_LAG = Histogram("piggybank_notification_delivery_lag_seconds",
                             "From the booking's commit to the push on the WebSocket",
                             buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
DB_POOL_IN_USE = Gauge("piggybank_db_pool_in_use", "Database connections checked out of the pools")
DB_POOL_SIZE = Gauge("piggybank_db_pool_size", "Database connections the two pools may hold")
DB_POOL_WAITING = Gauge("piggybank_db_pool_waiting", "Requests waiting for a database connection")
UPTIME = Gauge("piggybank_process_uptime_seconds", "Seconds since this app server process started")

# Label values known in advance start at 0, so rate() has a series before the first event
# (a missing series is not the same as "none happened", and dashboards would show nothing).
KNOWN_LABELS = {LOGINS: ("ok", "wrong", "locked"), MTAN_CHECKS: ("ok", "wrong", "expired")}
_STARTED = psutil.Process().create_time()  # the same start the healthcheck's uptime counts from


def init_app(app) -> None:
    from app import db

    if not app.config["METRICS_ENABLED"]:
        return
    # The library serves /metrics; the requests are observed below.
    PrometheusMetrics.for_app_factory(export_defaults=False).init_app(app)
    _observe_requests(app)
    APP_INFO.labels(app.config["INSTANCE"], app.config["VERSION"]).set(1)
    for counter, values in KNOWN_LABELS.items():
        for value in values:
            counter.labels(value)
    UPTIME.set_function(lambda: time.time() - _STARTED)
    # The pools and the count of units of work waiting for them are read when Prometheus scrapes.
    pools = [engine.pool for engine in db.engines_for(app)]
    database = db.database_of(app)
    DB_POOL_SIZE.set_function(lambda: sum(pool.size() for pool in pools))
    DB_POOL_IN_USE.set_function(database.in_use)
    DB_POOL_WAITING.set_function(lambda: database.waiting)


def _observe_requests(app) -> None:
    children: dict[tuple[str, str, int], tuple] = {}  # labelled series, looked up once per label set

    wsgi_app = app.wsgi_app

    def timed(environ, start_response):  # the start, in the environ: cheaper than a before_request hook
        environ[_STARTED_AT] = time.perf_counter()
        return wsgi_app(environ, start_response)

    app.wsgi_app = timed

    @app.after_request
    def _observe(response):
        current = request._get_current_object()  # one proxy lookup, not one per attribute
        if current.path in UNTRACKED:
            return response
        method = current.method if current.method in METHODS else "other"
        key = (method, str(current.url_rule), response.status_code)
        series = children.get(key)
        if series is None:
            series = children[key] = (REQUEST_DURATION.labels(*key), REQUEST_TOTAL.labels(key[0], key[2]))
        series[0].observe(time.perf_counter() - current.environ.get(_STARTED_AT, time.perf_counter()))
        series[1].inc()
        return response
