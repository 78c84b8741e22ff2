"""Live notifications over WebSockets (flask-sock at /api/ws).

Notifications are database rows (app.bank.notifications), so whichever app server booked a
transfer, every app server sees it: each polls for new rows a few times a second and pushes them
to the sockets it holds. A client authenticates with its JWT in the first message (browsers can't
set headers on a WebSocket), says the last id it saw, gets what it missed, then the live feed.
"""

import json
import logging
import time
from collections import defaultdict
from datetime import datetime

import gevent
from flask import current_app
from flask_sock import Sock
from gevent.queue import Empty, Queue

from app import db, metrics
from app.api.auth import run_signed_in, session_of
from app.bank import notifications

log = logging.getLogger(__name__)
sock = Sock()
CLOSE_UNAUTHORIZED = 4401
CLOSE_RESTART = 1012


class Hub:
    """Which sockets this app server holds, per user, and the poller that feeds them."""

    def __init__(self):
        self.subscribers: dict[int, set[Queue]] = defaultdict(set)
        self.stopping = False

    def subscribe(self, user_id: int) -> Queue:
        queue = Queue()
        self.subscribers[user_id].add(queue)
        metrics.WEBSOCKETS_OPEN.inc()
        return queue

    def unsubscribe(self, user_id: int, queue: Queue) -> None:
        self.subscribers[user_id].discard(queue)
        if not self.subscribers[user_id]:
            del self.subscribers[user_id]
        metrics.WEBSOCKETS_OPEN.dec()

    def poll_forever(self, app) -> None:
        interval = app.config["NOTIFY_POLL_SECONDS"]
        last_id = None
        with app.app_context():
            while not self.stopping:
                try:
                    if last_id is None:
                        last_id = db.run(notifications.latest_id, autocommit=True)
                    feed = db.run(lambda conn, after=last_id: notifications.newer_than(conn, after), autocommit=True)
                    for notification_id, user_id, message in feed:
                        last_id = notification_id
                        for queue in list(self.subscribers.get(user_id, ())):
                            queue.put(message)
                except Exception:  # noqa: BLE001 - the database may be restarting; keep polling
                    log.warning("notification poll failed; retrying", exc_info=True)
                    gevent.sleep(1)
                gevent.sleep(interval)


hub = Hub()


def _lag_seconds(message: dict) -> float:
    created = datetime.fromisoformat(message["createdAt"].rstrip("Z"))
    return max((datetime.utcnow() - created).total_seconds(), 0.0)


def _authenticate(ws) -> tuple[int, int, float] | None:
    """(user id, last seen id, token expiry) from the first message, or None."""
    try:
        hello = json.loads(ws.receive(timeout=10) or "{}")
        session = session_of(hello["token"])
        run_signed_in(session, lambda _conn, _caller: None, autocommit=True)  # raises if it was logged out
        return session.user_id, int(hello.get("lastId") or 0), float(session.expires_at)
    except Exception:  # noqa: BLE001 - anything wrong in the greeting is "unauthorized"
        return None


@sock.route("/api/ws")
def notifications_socket(ws):
    who = _authenticate(ws)
    if who is None:
        ws.send(json.dumps({"type": "error", "code": "unauthorized", "message": "Send a valid token first."}))
        ws.close(CLOSE_UNAUTHORIZED, "unauthorized")
        return
    user_id, last_seen, expires = who
    queue = hub.subscribe(user_id)
    try:
        ws.send(json.dumps({"type": "welcome", "instance": current_app.config["INSTANCE"]}))
        while True:  # catch up on everything missed, a page at a time
            missed = db.run(lambda conn, after=last_seen: notifications.for_user(conn, user_id, after=after),
                            autocommit=True)
            for message in missed:
                ws.send(json.dumps(message))
                last_seen = message["id"]
            if not missed:
                break
        while ws.connected and not hub.stopping:
            if time.time() >= expires:
                ws.close(CLOSE_UNAUTHORIZED, "token expired")
                return
            try:
                message = queue.get(timeout=1)
            except Empty:
                continue
            if message["id"] > last_seen:
                ws.send(json.dumps(message))
                last_seen = message["id"]
                metrics.NOTIFICATIONS_DELIVERED.inc()
                metrics.NOTIFICATION_LAG.observe(_lag_seconds(message))
        if hub.stopping and ws.connected:
            ws.close(CLOSE_RESTART, "server restarting")
    finally:
        hub.unsubscribe(user_id, queue)


def init_app(app) -> None:
    app.config.setdefault("SOCK_SERVER_OPTIONS", {"ping_interval": app.config["WS_PING_SECONDS"]})
    sock.init_app(app)
