"""A customer's account, its activity (newest first, paged by cursor) and the tags."""

import base64
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import bindparam, text

from . import money
from .errors import InvalidRequest


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
             " JOIN tags t ON t.id = tt.tag_id WHERE tt.transfer_id IN :ids ORDER BY t.id")
        .bindparams(bindparam("ids", expanding=True)),
        {"ids": transfer_ids},
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
    return base64.urlsafe_b64encode(f"{booked_at.isoformat()}|{transfer_id}".encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        moment, transfer_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(moment), int(transfer_id)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidRequest("invalid_cursor", "The cursor is not one this API gave out.") from error


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


def activity(conn, account_id: int, f: ActivityFilter) -> dict:
    params: dict = {"acc": account_id, "limit": f.limit + 1}
    where = "t.status = 'booked'"
    if f.direction == "out":
        where += " AND t.sender_account_id = :acc"
    elif f.direction == "in":
        where += " AND t.recipient_account_id = :acc"
    else:
        where += " AND (t.sender_account_id = :acc OR t.recipient_account_id = :acc)"
    where += tag_clause(f.tag, params) + date_range_clause(f.date_from, f.date_to, params)
    if f.cursor:
        params["c_at"], params["c_id"] = _decode_cursor(f.cursor)
        where += " AND (t.booked_at < :c_at OR (t.booked_at = :c_at AND t.id < :c_id))"
    rows = conn.execute(text(
        "SELECT t.id, t.amount, t.comment, t.recipient_name, t.booked_at, t.sender_account_id,"
        " s.holder_name AS sender_name, s.iban AS sender_iban, r.iban AS recipient_iban"
        " FROM transfers t JOIN accounts s ON s.id = t.sender_account_id"
        " JOIN accounts r ON r.id = t.recipient_account_id"
        f" WHERE {where} ORDER BY t.booked_at DESC, t.id DESC LIMIT :limit"), params).all()
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
