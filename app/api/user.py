"""GET /api/user and PUT /api/user/limit."""

from decimal import Decimal

from flask_openapi3 import APIBlueprint, Tag

from app import db
from app.api import operation_id, responses
from app.api.auth import SECURITY, login_required, utcnow
from app.api.schemas import LimitIn, UserOut
from app.bank import users

bp = APIBlueprint("user", __name__, url_prefix="/api/user", abp_tags=[Tag(name="user")], abp_security=SECURITY,
                  operation_id_callback=operation_id)


@bp.get("", responses=responses(200, UserOut, 401))
@login_required
def get_user(user_id: int):
    """The caller's name, account, balance, monthly limit and what remains of it this month."""
    with db.unit_of_work() as conn:
        return users.profile(conn, user_id, utcnow())


@bp.put("/limit", responses=responses(200, UserOut, 401))
@login_required
def put_limit(user_id: int, body: LimitIn):
    """Change the monthly limit of outgoing transfers."""
    with db.unit_of_work() as conn:
        return users.set_monthly_limit(conn, user_id, Decimal(body.limit), utcnow())
