"""mTAN: a random six-digit one-time code per pending transfer (PSD2 dynamic linking).

Only an HMAC of the code is stored, keyed by a server secret and bound to the transfer's id,
amount and recipient, so a code is worth nothing for any other transfer. The code reaches the
customer through an SMS gateway; the demo gateway keeps each message in an outbox table.
"""

import hashlib
import hmac
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


# The caller's newest messages as one JSON array, newest first, read by `users.signed_in` in the
# caller's query (`outbox=True`), so the demo phone costs one round trip. As an array because
# PyMySQL's pure-Python parsing of 20 rows of 4 columns (a field descriptor per column, a
# length-coded string per value, a datetime per row) cost twice a one-row read; MariaDB builds it in C.
OUTBOX_LIMIT = 20
OUTBOX = ("SELECT JSON_ARRAYAGG(JSON_OBJECT('id', m.id, 'phone', m.phone, 'body', m.body,"
          " 'createdAt', DATE_FORMAT(m.created_at, '%Y-%m-%dT%H:%i:%s.%fZ')) ORDER BY m.id DESC)"
          " FROM (SELECT id, phone, body, created_at FROM sms_outbox WHERE user_id = {user}"
          f" ORDER BY id DESC LIMIT {OUTBOX_LIMIT}) m")
