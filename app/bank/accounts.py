"""A customer's account, its activity (newest first, paged by cursor) and the tags."""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import text

from . import money
from .errors import InvalidRequest

# A page ends at a position in the activity: the booking time of its last item (microseconds since
# the epoch) and that item's id. Every string of this form is a position, so any cursor the format
# allows is meaningful (the next page starts after it); the API's document states the format.
CURSOR_PATTERN = r"^[0-9]{1,17}-[0-9]{1,18}$"
EPOCH = datetime(1970, 1, 1)


def iso(moment: datetime | None) -> str | None:
    """UTC timestamps leave the bank as ISO 8601 with a Z."""
    return None if moment is None else moment.isoformat() + "Z"


def summary(caller) -> dict:
    """GET /api/account's answer from the caller's `users.signed_in` row."""
    return {"iban": caller.iban, "bic": caller.bic, "balance": money.fmt(caller.balance), "currency": "EUR"}


_tags: dict[str, dict] = {}  # title -> {"id", "title", "color", "icon"}, in id order


def tag_rows(conn) -> dict[str, dict]:
    """The tags a transfer can carry, read once per process: only a migration changes them, and
    migrations run before the app servers start."""
    if not _tags:
        rows = conn.execute(text("SELECT id, title, color, icon FROM tags ORDER BY id"))
        _tags.update({r.title: {"id": r.id, "title": r.title, "color": r.color, "icon": r.icon} for r in rows})
    return _tags


def all_tags(conn) -> list[dict]:
    return [{"title": t["title"], "color": t["color"], "icon": t["icon"]} for t in tag_rows(conn).values()]


def tags_by_transfer(conn, transfer_ids: list[int]) -> dict[int, list[dict]]:
    if not transfer_ids:
        return {}
    rows = conn.execute(
        text("SELECT tt.transfer_id, t.title, t.color, t.icon FROM transfer_tags tt"
             " JOIN tags t ON t.id = tt.tag_id WHERE tt.transfer_id IN :ids ORDER BY t.id"),
        {"ids": tuple(transfer_ids)},  # PyMySQL writes a tuple as a list of values: (1, 2, 3)
    )
    tags: dict[int, list[dict]] = {}
    for r in rows:
        tags.setdefault(r.transfer_id, []).append({"title": r.title, "color": r.color, "icon": r.icon})
    return tags


@dataclass(frozen=True)
class ActivityFilter:
    limit: int = 20
    cursor: str | None = None
    direction: str | None = None  # "in" | "out" | None for both
    tag: str | None = None
    date_from: date | None = None
    date_to: date | None = None


def _encode_cursor(booked_at: datetime, transfer_id: int) -> str:
    return f"{(booked_at - EPOCH) // timedelta(microseconds=1)}-{transfer_id}"


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    if not re.fullmatch(CURSOR_PATTERN, cursor):
        raise InvalidRequest("invalid_cursor", "A cursor is the nextCursor of a page, like 1490223900000000-17.")
    micros, transfer_id = cursor.split("-")
    return EPOCH + timedelta(microseconds=int(micros)), int(transfer_id)


def date_range_clause(date_from: date | None, date_to: date | None, params: dict) -> str:
    """SQL conditions on t.booked_at for an inclusive range of days."""
    clause = ""
    if date_from:
        clause += " AND t.booked_at >= :date_from"
        params["date_from"] = datetime.combine(date_from, datetime.min.time())
    if date_to:
        clause += " AND t.booked_at < :date_to"
        params["date_to"] = datetime.combine(date_to + timedelta(days=1), datetime.min.time())
    return clause


def tag_clause(tag: str | None, params: dict) -> str:
    if not tag:
        return ""
    params["tag"] = tag
    return (" AND EXISTS (SELECT 1 FROM transfer_tags tt JOIN tags g ON g.id = tt.tag_id"
            " WHERE tt.transfer_id = t.id AND g.title = :tag)")


# One side of an account's activity, newest first, read in the order of its index
# (ix_transfers_sender_booked, ix_transfers_recipient: migration 0004) and stopped after a page.
_ACTIVITY_SIDE = ("SELECT t.id, t.amount, t.comment, t.recipient_name, t.booked_at, t.sender_account_id,"
                  " t.recipient_account_id FROM transfers t WHERE t.{side} = :acc AND t.status = 'booked'{where}"
                  " ORDER BY t.booked_at DESC, t.id DESC LIMIT :limit")


def activity(conn, account_id: int, f: ActivityFilter) -> dict:
    """A page of the account's booked transfers, newest first. Both directions are a page of each
    side, merged: `sender = :acc OR recipient = :acc` made MariaDB read and sort the account's whole
    history for every page (31 ms for 7,500 transfers, 0.5 ms this way; docs/benchmarks.md "Ninth pass")."""
    params: dict = {"acc": account_id, "limit": f.limit + 1}
    where = tag_clause(f.tag, params) + date_range_clause(f.date_from, f.date_to, params)
    if f.cursor:
        params["c_at"], params["c_id"] = _decode_cursor(f.cursor)
        # The first condition alone is a range of the index; the second drops the cursor's own time's earlier rows.
        where += " AND t.booked_at <= :c_at AND (t.booked_at < :c_at OR t.id < :c_id)"
    def side(column: str, also: str = "") -> str:
        return _ACTIVITY_SIDE.format(side=column, where=where + also)

    if f.direction == "out":
        branches = [side("sender_account_id")]
    elif f.direction == "in":
        branches = [side("recipient_account_id")]
    else:  # a transfer to oneself is on both sides: listed once
        branches = [side("sender_account_id"), side("recipient_account_id", " AND t.sender_account_id <> :acc")]
    rows = conn.execute(text(
        "SELECT t.id, t.amount, t.comment, t.recipient_name, t.booked_at, t.sender_account_id,"
        " s.holder_name AS sender_name, s.iban AS sender_iban, r.iban AS recipient_iban"
        f" FROM ({' UNION ALL '.join(f'({branch})' for branch in branches)}) t"
        " JOIN accounts s ON s.id = t.sender_account_id JOIN accounts r ON r.id = t.recipient_account_id"
        " ORDER BY t.booked_at DESC, t.id DESC LIMIT :limit"), params).all()
    page, more = rows[:f.limit], len(rows) > f.limit
    tags = tags_by_transfer(conn, [r.id for r in page])
    items = []
    for r in page:
        outgoing = r.sender_account_id == account_id
        items.append({
            "id": r.id,
            "direction": "out" if outgoing else "in",
            "amount": money.fmt(r.amount),
            "counterpartyName": r.recipient_name if outgoing else r.sender_name,
            "counterpartyIban": r.recipient_iban if outgoing else r.sender_iban,
            "comment": r.comment,
            "tags": tags.get(r.id, []),
            "createdAt": iso(r.booked_at),
        })
    next_cursor = _encode_cursor(page[-1].booked_at, page[-1].id) if more else None
    return {"items": items, "nextCursor": next_cursor}
