"""mTAN: a random six-digit one-time code per pending transfer (PSD2 dynamic linking).

Only an HMAC of the code is stored, keyed by a server secret and bound to the transfer's id,
amount and recipient, so a code is worth nothing for any other transfer. The code reaches the
customer through an SMS gateway; the demo gateway keeps each message in an outbox table.
"""

import hashlib
import hmac
import json
import secrets
from decimal import Decimal
from typing import Protocol

from sqlalchemy import text

from . import money


def new_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def digest(secret: str, transfer_id: int, amount: Decimal, recipient_iban: str, code: str) -> str:
    message = f"{transfer_id}|{money.fmt(amount)}|{recipient_iban}|{code}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def matches(secret: str, transfer_id: int, amount: Decimal, recipient_iban: str, code: str,
            stored_digest: str) -> bool:
    return hmac.compare_digest(digest(secret, transfer_id, amount, recipient_iban, code), stored_digest)


def sms_text(code: str, transfer_id: int, amount: Decimal, recipient_name: str, recipient_iban: str,
             minutes: int) -> str:
    return (f"PiggyBank mTAN {code} for your transfer #{transfer_id} of {money.fmt(amount)} EUR to"
            f" {recipient_name} ({recipient_iban}). Valid for {minutes} minutes. Never share this code.")


class SmsGateway(Protocol):
    def send(self, conn, user_id: int, phone: str, body: str) -> None: ...


class DemoOutbox:
    """Keeps the message in `sms_outbox`, in the caller's transaction, instead of sending it."""

    def send(self, conn, user_id: int, phone: str, body: str) -> None:
        conn.execute(
            text("INSERT INTO sms_outbox (user_id, phone, body, created_at) VALUES (:u, :p, :b, UTC_TIMESTAMP(6))"),
            {"u": user_id, "p": phone, "b": body},
        )


# The newest messages as one JSON array: PyMySQL's pure-Python parsing of 20 rows of 4 columns
# (a field descriptor per column, a length-coded string per value, a datetime per row) made the demo
# phone's read twice as expensive as a one-row one; MariaDB builds the array in C.
_OUTBOX_SQL = text(
    "SELECT JSON_ARRAYAGG(JSON_OBJECT('id', m.id, 'phone', m.phone, 'body', m.body,"
    " 'createdAt', DATE_FORMAT(m.created_at, '%Y-%m-%dT%H:%i:%s.%fZ')) ORDER BY m.id DESC)"
    " FROM (SELECT id, phone, body, created_at FROM sms_outbox WHERE user_id = :u ORDER BY id DESC LIMIT :n) m")


def outbox(conn, user_id: int, limit: int = 20) -> list[dict]:
    """The caller's newest `limit` messages, newest first."""
    document = conn.execute(_OUTBOX_SQL, {"u": user_id, "n": limit}).scalar()
    return json.loads(document) if document else []
