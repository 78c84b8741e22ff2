"""Notifications are rows, written in the transaction that causes them, so every app server can
deliver them to the WebSockets it holds and a reconnecting client can catch up from an id."""

import json
from datetime import datetime

from sqlalchemy import text

from .accounts import iso


def add(conn, user_id: int, kind: str, payload: dict) -> None:
    conn.execute(
        text("INSERT INTO notifications (user_id, kind, payload, created_at) VALUES (:u, :k, :p, UTC_TIMESTAMP(6))"),
        {"u": user_id, "k": kind, "p": json.dumps(payload)},
    )


def _view(row) -> dict:
    return {"id": row.id, "type": row.kind, **json.loads(row.payload), "createdAt": iso(row.created_at),
            "read": row.read_at is not None}


def for_user(conn, user_id: int, after: int = 0, limit: int = 100) -> list[dict]:
    """The user's notifications with an id above `after`, oldest first."""
    rows = conn.execute(
        text("SELECT id, kind, payload, created_at, read_at FROM notifications"
             " WHERE user_id = :u AND id > :after ORDER BY id LIMIT :n"),
        {"u": user_id, "after": after, "n": limit},
    )
    return [_view(r) for r in rows]


def unread_count(conn, user_id: int) -> int:
    return conn.execute(text("SELECT COUNT(*) FROM notifications WHERE user_id = :u AND read_at IS NULL"),
                        {"u": user_id}).scalar_one()


def mark_read(conn, user_id: int, up_to: int, now: datetime) -> int:
    """Marks the user's notifications up to an id as read; returns how many changed. Commits."""
    changed = conn.execute(
        text("UPDATE notifications SET read_at = :now WHERE user_id = :u AND id <= :up AND read_at IS NULL"),
        {"now": now, "u": user_id, "up": up_to},
    ).rowcount
    conn.commit()
    return changed


def newer_than(conn, after: int, limit: int = 500) -> list[tuple[int, int, dict]]:
    """(id, user_id, message) of every user's notifications above an id: the fan-out feed."""
    rows = conn.execute(
        text("SELECT id, user_id, kind, payload, created_at, read_at FROM notifications"
             " WHERE id > :after ORDER BY id LIMIT :n"),
        {"after": after, "n": limit},
    )
    return [(r.id, r.user_id, _view(r)) for r in rows]


def latest_id(conn) -> int:
    return conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM notifications")).scalar_one()
