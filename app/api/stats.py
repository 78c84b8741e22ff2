"""GET /api/stats."""

from flask_openapi3 import APIBlueprint, Tag

from app import db
from app.api import operation_id, responses
from app.api.auth import SECURITY, login_required
from app.api.schemas import StatsOut, StatsQuery
from app.bank import stats

bp = APIBlueprint("stats", __name__, url_prefix="/api", abp_tags=[Tag(name="stats")], abp_security=SECURITY,
                  operation_id_callback=operation_id)


@bp.get("/stats", responses=responses(200, StatsOut, 401))
@login_required
def get_stats(user_id: int, query: StatsQuery):
    """Sums of booked transfers per day, month or year; only periods with transfers appear."""
    with db.unit_of_work() as conn:
        return stats.series(conn, user_id, query.interval, query.direction, query.tag, query.from_, query.to)
