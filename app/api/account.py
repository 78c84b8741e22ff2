"""GET /api/account, GET /api/account/activity and GET /api/tags."""

from flask_openapi3 import APIBlueprint, Tag

from app import db
from app.api import operation_id, responses
from app.api.auth import SECURITY, login_required
from app.api.schemas import AccountOut, ActivityOut, ActivityQuery, TagsOut
from app.bank import accounts

bp = APIBlueprint("account", __name__, url_prefix="/api", abp_tags=[Tag(name="account")], abp_security=SECURITY,
                  operation_id_callback=operation_id)


@bp.get("/account", responses=responses(200, AccountOut, 401))
@login_required
def get_account(user_id: int):
    """The caller's IBAN, BIC and balance."""
    with db.unit_of_work() as conn:
        return accounts.summary(conn, user_id)


@bp.get("/account/activity", responses=responses(200, ActivityOut, 401))
@login_required
def get_activity(user_id: int, query: ActivityQuery):
    """Booked transfers in and out, newest first; pass nextCursor as cursor for the next page."""
    wanted = accounts.ActivityFilter(limit=query.limit, cursor=query.cursor, direction=query.direction,
                                     tag=query.tag, date_from=query.from_, date_to=query.to)
    with db.unit_of_work() as conn:
        return accounts.activity(conn, user_id, wanted)


@bp.get("/tags", responses=responses(200, TagsOut, 401))
@login_required
def get_tags(user_id: int):
    """The tags a transfer can carry."""
    with db.unit_of_work() as conn:
        return {"tags": accounts.all_tags(conn)}
