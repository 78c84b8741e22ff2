"""GET /api/healthcheck: this app server's status, resources and database, computed in-process.
GET /api/liveness: only that this process answers, for HAProxy's checks and Monit.

The healthcheck is polled every second (the blackbox exporter, dashboards), so it costs one
`SELECT 1` and a few reads of /proc. CPU is sampled by a background greenlet: psutil's cpu_percent
measures between two calls, and a request must not block for a sampling interval.

The liveness answer touches neither the database nor the pool: HAProxy asks it four times a second
with a 250 ms timeout and takes the server out of rotation when it fails twice. Were it to wait for
the database, a database outage (or an exhausted pool) would take every app server out at once,
and customers would get HAProxy's 503 instead of the app's own fast `database_unavailable`.
It answers within the timeout even during sign-ins because bcrypt runs in gevent's thread pool
(app/bank/passwords.py), which keeps the event loop free.
"""

import os
import time

import gevent
import psutil
from flask import current_app
from flask_openapi3 import APIBlueprint, Tag

from app import db, metrics
from app.api.schemas import HealthOut, LivenessOut

bp = APIBlueprint("health", __name__, url_prefix="/api", abp_tags=[Tag(name="health")])
PROCESS = psutil.Process()
STARTED = PROCESS.create_time()
_cpu = {"percent": 0.0}
STATUS_VALUE = {"ok": 2, "degraded": 1, "down": 0}


def sample_cpu_forever(interval: float = 1.0) -> None:
    PROCESS.cpu_percent(None)
    while True:
        gevent.sleep(interval)
        _cpu["percent"] = PROCESS.cpu_percent(None)


def check() -> dict:
    try:
        latency = db.ping()
        database = {"status": "slow" if latency > current_app.config["DB_SLOW_MS"] else "ok",
                    "latency_ms": round(latency, 2)}
    except Exception:  # noqa: BLE001 - any failure to reach the database is "down"
        database = {"status": "down", "latency_ms": None}
    status = {"ok": "ok", "slow": "degraded", "down": "down"}[database["status"]]
    memory = PROCESS.memory_info().rss
    return {
        "status": status,
        "instance": current_app.config["INSTANCE"],
        "version": current_app.config["VERSION"],
        "pid": os.getpid(),
        "uptime_seconds": round(time.time() - STARTED, 1),
        "cpu_percent": _cpu["percent"],
        "memory_rss_bytes": memory,
        "memory_percent": round(memory / psutil.virtual_memory().total * 100, 2),
        "db": database,
    }


@bp.get("/healthcheck", responses={200: HealthOut, 503: HealthOut})
def healthcheck():
    """ok (200), or degraded / down (503) when the database is slow or can't be reached."""
    report = check()
    metrics.HEALTH_STATUS.set(STATUS_VALUE[report["status"]])
    return report, 200 if report["status"] == "ok" else 503


@bp.get("/liveness", responses={200: LivenessOut})
def liveness():
    """This app server's process answers (no database involved): 200 whenever it can answer at all."""
    return {"status": "alive", "instance": current_app.config["INSTANCE"], "pid": os.getpid()}
