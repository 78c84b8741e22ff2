"""Statistics: the sum of booked transfers per day, month or year, out of or into the account."""

from datetime import date

from sqlalchemy import text

from . import money
from .accounts import date_range_clause, tag_clause

PERIOD_FORMATS = {"daily": "%Y-%m-%d", "monthly": "%Y-%m", "yearly": "%Y"}


def series(conn, account_id: int, interval: str, direction: str = "out", tag: str | None = None,
           date_from: date | None = None, date_to: date | None = None) -> dict:
    side = "sender_account_id" if direction == "out" else "recipient_account_id"
    params = {"acc": account_id, "fmt": PERIOD_FORMATS[interval]}
    where = f"t.{side} = :acc AND t.status = 'booked'"
    where += tag_clause(tag, params) + date_range_clause(date_from, date_to, params)
    rows = conn.execute(text(
        "SELECT DATE_FORMAT(t.booked_at, :fmt) AS period, SUM(t.amount) AS total FROM transfers t"
        f" WHERE {where} GROUP BY period ORDER BY period"), params)
    return {"interval": interval, "direction": direction,
            "series": [{"period": r.period, "amount": money.fmt(r.total)} for r in rows]}
