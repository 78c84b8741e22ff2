"""Idempotency keys, unique per (user, key) in the database and written in the same transaction
as what they protect: a retry on either app server, or after a restart, replays the first answer."""

import hashlib
import json

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from .errors import IdempotencyMismatch


def fingerprint(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


# A key's stored answer as one JSON document; `users.signed_in` reads it in the caller's query
# (`idempotency_key=`), which saves a create its own round trip for the lookup.
STORED = ("SELECT JSON_OBJECT('request_hash', request_hash, 'status', response_status, 'body', response_body)"
          " FROM idempotency_keys WHERE user_id = {user} AND idem_key = :key")
_STORED_SQL = text(STORED.format(user=":u"))


def answer(stored: dict | None, request_hash: str) -> tuple[int, dict] | None:
    """The (status, body) of a key's STORED document, None if unseen; raises if the payload differs."""
    if stored is None:
        return None
    if stored["request_hash"] != request_hash:
        raise IdempotencyMismatch("This Idempotency-Key was already used for a different request.")
    return stored["status"], stored["body"]  # a JSON column: MariaDB nests it as a document


def replay(conn, user_id: int, key: str, request_hash: str) -> tuple[int, dict] | None:
    """The stored (status, body) for this key, read now, None if unseen; raises if the payload differs."""
    document = conn.execute(_STORED_SQL, {"u": user_id, "key": key}).scalar()
    return answer(None if document is None else json.loads(document), request_hash)


def remember(conn, user_id: int, key: str, request_hash: str, status: int, body: dict,
             transfer_id: int | None) -> bool:
    """Store the answer in the open transaction; False if a concurrent request took the key first
    (the caller must then roll back and replay)."""
    try:
        conn.execute(
            text("INSERT INTO idempotency_keys (user_id, idem_key, request_hash, response_status,"
                 " response_body, transfer_id, created_at) VALUES (:u, :k, :h, :s, :b, :t, UTC_TIMESTAMP(6))"),
            {"u": user_id, "k": key, "h": request_hash, "s": status, "b": json.dumps(body), "t": transfer_id},
        )
    except IntegrityError:
        return False
    return True
