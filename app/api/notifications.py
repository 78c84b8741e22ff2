"""GET /api/notifications, POST /api/notifications/read, and the demo phone GET /api/demo/sms."""

from flask import abort, current_app
from flask_openapi3 import APIBlueprint, Tag

from app.api import operation_id, responses
from app.api.auth import SECURITY, login_required, run_signed_in, utcnow
from app.api.schemas import NotificationsOut, NotificationsQuery, ReadIn, ReadOut, SmsOut
from app.bank import notifications, users

bp = APIBlueprint("notifications", __name__, url_prefix="/api", abp_tags=[Tag(name="notifications")],
                  abp_security=SECURITY,
                  operation_id_callback=operation_id)


@bp.get("/notifications", responses=responses(200, NotificationsOut, 401))
@login_required
def list_notifications(session: users.Session, query: NotificationsQuery):
    """The caller's notifications after an id, oldest first, and how many are unread."""
    return run_signed_in(session, lambda conn, caller: {
        "items": notifications.for_user(conn, caller.id, query.after),
        "unread": notifications.unread_count(conn, caller.id)})


@bp.post("/notifications/read", responses=responses(200, ReadOut, 401))
@login_required
def mark_read(session: users.Session, body: ReadIn):
    """Mark the caller's notifications up to an id as read."""
    def use_case(conn, caller):
        marked = notifications.mark_read(conn, caller.id, body.upTo, utcnow())
        return {"marked": marked, "unread": notifications.unread_count(conn, caller.id)}
    return run_signed_in(session, use_case)


@bp.get("/demo/sms", responses=responses(200, SmsOut, 401, 404))
@login_required
def demo_sms(session: users.Session):
    """Demo mode only: the SMS the bank 'sent' to the caller's phone, newest first."""
    if not current_app.config["DEMO_MODE"]:
        abort(404)
    # The messages come with the caller's row, the session check: one statement, in autocommit.
    return run_signed_in(session, lambda _conn, caller: {"messages": caller.outbox or []}, outbox=True,
                         autocommit=True)
