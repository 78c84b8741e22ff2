"""GET /api/user and PUT /api/user/limit."""

from decimal import Decimal

from flask_openapi3 import APIBlueprint, Tag

from app.api import operation_id, responses
from app.api.auth import SECURITY, login_required, run_signed_in, utcnow
from app.api.schemas import LimitIn, UserOut
from app.bank import users

bp = APIBlueprint("user", __name__, url_prefix="/api/user", abp_tags=[Tag(name="user")], abp_security=SECURITY,
                  operation_id_callback=operation_id)


@bp.get("", responses=responses(200, UserOut, 401))
@login_required
def get_user(session: users.Session):
    """The caller's name, account, balance, monthly limit and what remains of it this month."""
    return run_signed_in(session, lambda _conn, caller: users.profile(caller),
                         spent_in=users.month_of(utcnow()), autocommit=True)


@bp.put("/limit", responses=responses(200, UserOut, 401))
@login_required
def put_limit(session: users.Session, body: LimitIn):
    """Change the monthly limit of outgoing transfers."""
    return run_signed_in(session, lambda conn, _caller: users.set_monthly_limit(
        conn, session, Decimal(body.limit), utcnow()))
