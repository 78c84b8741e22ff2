"""GET /api/account, GET /api/account/activity and GET /api/tags."""

from flask_openapi3 import APIBlueprint, Tag

from app.api import operation_id, responses
from app.api.auth import SECURITY, login_required, run_signed_in
from app.api.schemas import AccountOut, ActivityOut, ActivityQuery, TagsOut
from app.bank import accounts, users

bp = APIBlueprint("account", __name__, url_prefix="/api", abp_tags=[Tag(name="account")], abp_security=SECURITY,
                  operation_id_callback=operation_id)


@bp.get("/account", responses=responses(200, AccountOut, 401))
@login_required
def get_account(session: users.Session):
    """The caller's IBAN, BIC and balance."""
    return run_signed_in(session, lambda _conn, caller: accounts.summary(caller), autocommit=True)


@bp.get("/account/activity", responses=responses(200, ActivityOut, 401))
@login_required
def get_activity(session: users.Session, query: ActivityQuery):
    """Booked transfers in and out, newest first; pass nextCursor as cursor for the next page."""
    wanted = accounts.ActivityFilter(limit=query.limit, cursor=query.cursor, direction=query.direction,
                                     tag=query.tag, date_from=query.from_, date_to=query.to)
    return run_signed_in(session, lambda conn, caller: accounts.activity(conn, caller.account_id, wanted))


@bp.get("/tags", responses=responses(200, TagsOut, 401))
@login_required
def get_tags(session: users.Session):
    """The tags a transfer can carry."""
    return run_signed_in(session, lambda conn, _caller: {"tags": accounts.all_tags(conn)}, autocommit=True)
