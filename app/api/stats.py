"""GET /api/stats."""

from flask_openapi3 import APIBlueprint, Tag

from app.api import responses
from app.api.auth import SECURITY, login_required, run_signed_in
from app.api.schemas import StatsOut, StatsQuery
from app.bank import stats, users

bp = APIBlueprint("stats", __name__, url_prefix="/api", abp_tags=[Tag(name="stats")], abp_security=SECURITY)


@bp.get("/stats", responses=responses(200, StatsOut, 401, 422))
@login_required
def get_stats(session: users.Session, query: StatsQuery):
    """Sums of booked transfers per day, month or year; only periods with transfers appear."""
    return run_signed_in(session, lambda conn, caller: stats.series(
        conn, caller.account_id, query.interval, query.direction, query.tag, query.from_, query.to))
