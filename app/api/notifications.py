"""GET /api/notifications, POST /api/notifications/read, and the demo phone GET /api/demo/sms."""

from flask import abort, current_app
from flask_openapi3 import APIBlueprint, Tag

from app import db
from app.api import operation_id, responses
from app.api.auth import SECURITY, login_required, utcnow
from app.api.schemas import NotificationsOut, NotificationsQuery, ReadIn, ReadOut, SmsOut
from app.bank import mtan, notifications

bp = APIBlueprint("notifications", __name__, url_prefix="/api", abp_tags=[Tag(name="notifications")],
                  abp_security=SECURITY,
                  operation_id_callback=operation_id)


@bp.get("/notifications", responses=responses(200, NotificationsOut, 401))
@login_required
def list_notifications(user_id: int, query: NotificationsQuery):
    """The caller's notifications after an id, oldest first, and how many are unread."""
    with db.unit_of_work() as conn:
        return {"items": notifications.for_user(conn, user_id, query.after),
                "unread": notifications.unread_count(conn, user_id)}


@bp.post("/notifications/read", responses=responses(200, ReadOut, 401))
@login_required
def mark_read(user_id: int, body: ReadIn):
    """Mark the caller's notifications up to an id as read."""
    with db.unit_of_work() as conn:
        marked = notifications.mark_read(conn, user_id, body.upTo, utcnow())
        return {"marked": marked, "unread": notifications.unread_count(conn, user_id)}


@bp.get("/demo/sms", responses=responses(200, SmsOut, 401, 404))
@login_required
def demo_sms(user_id: int):
    """Demo mode only: the SMS the bank 'sent' to the caller's phone, newest first."""
    if not current_app.config["DEMO_MODE"]:
        abort(404)
    with db.unit_of_work() as conn:
        return {"messages": mtan.outbox(conn, user_id)}
