"""Transfers: created pending with an mTAN, booked on confirmation in one locked transaction.

Booking locks the transfer, then both accounts in ascending id order (no deadlocks), checks funds
and the monthly limit under those locks, and writes the balances, both ledger rows and the
recipient's notification together. A retried create replays its idempotency key; a retried
confirm of a booked transfer answers the booked transfer again. Money is never booked twice.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import text

from . import accounts, idempotency, money, mtan, notifications, users
from .accounts import iso
from .errors import (
    InsufficientFunds,
    InvalidRequest,
    InvalidTan,
    MonthlyLimitExceeded,
    NotFound,
    TanExpired,
    TransferClosed,
)


@dataclass(frozen=True)
class TransferRules:
    tan_secret: str
    max_amount: Decimal = Decimal("100000.00")
    tan_lifetime: timedelta = timedelta(minutes=5)
    tan_max_attempts: int = 3


@dataclass(frozen=True)
class NewTransfer:
    recipient_iban: str
    recipient_name: str
    amount: Decimal
    comment: str = ""
    tags: tuple[str, ...] = ()

    def fingerprint(self) -> str:
        return idempotency.fingerprint({
            "recipientIban": self.recipient_iban, "recipientName": self.recipient_name,
            "amount": money.fmt(self.amount), "comment": self.comment, "tags": sorted(self.tags)})


_SELECT = (
    "SELECT t.id, t.amount, t.comment, t.recipient_name, t.status, t.reject_reason, t.tan_hash,"
    " t.tan_attempts, t.created_at, t.expires_at, t.booked_at, t.sender_account_id,"
    " t.recipient_account_id, r.iban AS recipient_iban, r.user_id AS recipient_user_id,"
    " s.iban AS sender_iban, s.holder_name AS sender_name, s.user_id AS sender_user_id"
    " FROM transfers t JOIN accounts s ON s.id = t.sender_account_id"
    " JOIN accounts r ON r.id = t.recipient_account_id WHERE t.id = :id AND s.user_id = :u")

_CLOSED_MESSAGES = {
    "cancelled": ("transfer_cancelled", "This transfer was cancelled after too many wrong mTANs."),
    "expired": ("tan_expired", "The mTAN of this transfer has expired. Please start a new transfer."),
}


def _load(conn, user_id: int, transfer_id: int, lock: bool = False):
    if lock:
        # Lock the transfer row alone: FOR UPDATE on the join would also lock both accounts, in
        # whatever order the optimizer reads them.
        conn.execute(text("SELECT id FROM transfers WHERE id = :id FOR UPDATE"), {"id": transfer_id})
    row = conn.execute(text(_SELECT), {"id": transfer_id, "u": user_id}).first()
    if row is None:
        raise NotFound("No such transfer.")
    return row


def _lock_accounts(conn, first: int, second: int, mode: str) -> dict:
    """Lock two accounts in ascending id order, the one order every transaction uses."""
    rows = conn.execute(text(f"SELECT id, balance FROM accounts WHERE id IN (:a, :b) ORDER BY id {mode}"),
                        {"a": first, "b": second})
    return {row.id: row for row in rows}


def _view(conn, row, rules: TransferRules) -> dict:
    return {
        "id": row.id,
        "status": row.status,
        "amount": money.fmt(row.amount),
        "currency": "EUR",
        "recipientIban": row.recipient_iban,
        "recipientName": row.recipient_name,
        "comment": row.comment,
        "tags": accounts.tags_by_transfer(conn, [row.id]).get(row.id, []),
        "createdAt": iso(row.created_at),
        "expiresAt": iso(row.expires_at),
        "bookedAt": iso(row.booked_at),
        "tanAttemptsLeft": max(rules.tan_max_attempts - row.tan_attempts, 0),
        "rejectReason": row.reject_reason,
    }


def get(conn, user_id: int, transfer_id: int, rules: TransferRules) -> dict:
    return _view(conn, _load(conn, user_id, transfer_id), rules)


def _check(conn, user_id: int, new: NewTransfer, rules: TransferRules):
    """The sender's account and the recipient's, or the rule the request breaks."""
    if new.amount <= 0:
        raise InvalidRequest("invalid_amount", "The amount must be more than 0.00.")
    if new.amount > rules.max_amount:
        raise InvalidRequest("amount_too_large", f"The amount can be at most {money.fmt(rules.max_amount)}.",
                             maxAmount=money.fmt(rules.max_amount))
    if not money.is_valid_iban(new.recipient_iban):
        raise InvalidRequest("invalid_iban", "The IBAN is not valid (its check digits don't match).")
    sender = accounts.account_of(conn, user_id)
    recipient = conn.execute(text("SELECT id, iban FROM accounts WHERE iban = :iban"),
                             {"iban": money.normalize_iban(new.recipient_iban)}).first()
    if recipient is None:
        raise InvalidRequest("unknown_recipient", "No account with this IBAN is known to PiggyBank.")
    if recipient.id == sender.id:
        raise InvalidRequest("same_account", "You can't transfer money to your own account.")
    known = set(conn.execute(text("SELECT title FROM tags")).scalars())
    unknown = sorted(set(new.tags) - known)
    if unknown:
        raise InvalidRequest("unknown_tag", f"Unknown tag: {', '.join(unknown)}.", tags=unknown)
    return sender, recipient


def create(conn, user_id: int, key: str, new: NewTransfer, rules: TransferRules,
           gateway: mtan.SmsGateway, now: datetime) -> tuple[int, dict]:
    """Create a pending transfer and send its mTAN; returns (status, body). Commits."""
    request_hash = new.fingerprint()
    seen = idempotency.replay(conn, user_id, key, request_hash)
    if seen:
        return seen
    sender, recipient = _check(conn, user_id, new, rules)
    # The foreign keys of the new row take shared locks on both accounts; take them in id order
    # first, so a concurrent booking (exclusive locks, same order) can't deadlock with us.
    _lock_accounts(conn, sender.id, recipient.id, "LOCK IN SHARE MODE")
    transfer_id = conn.execute(
        text("INSERT INTO transfers (sender_account_id, recipient_account_id, recipient_name, amount, comment,"
             " status, created_at, expires_at) VALUES (:s, :r, :name, :amount, :comment, 'pending', :now, :exp)"
             " RETURNING id"),
        {"s": sender.id, "r": recipient.id, "name": new.recipient_name, "amount": new.amount,
         "comment": new.comment, "now": now, "exp": now + rules.tan_lifetime},
    ).scalar_one()
    for title in sorted(set(new.tags)):
        conn.execute(
            text("INSERT INTO transfer_tags (transfer_id, tag_id) SELECT :t, id FROM tags WHERE title = :title"),
            {"t": transfer_id, "title": title})
    code = mtan.new_code()
    conn.execute(text("UPDATE transfers SET tan_hash = :h WHERE id = :id"),
                 {"h": mtan.digest(rules.tan_secret, transfer_id, new.amount, recipient.iban, code), "id": transfer_id})
    phone = conn.execute(text("SELECT phone FROM users WHERE id = :u"), {"u": user_id}).scalar_one()
    minutes = int(rules.tan_lifetime.total_seconds() // 60)
    gateway.send(conn, user_id, phone, mtan.sms_text(code, transfer_id, new.amount, new.recipient_name, recipient.iban,
                                                         minutes))
    body = _view(conn, _load(conn, user_id, transfer_id), rules)
    if not idempotency.remember(conn, user_id, key, request_hash, 201, body, transfer_id):
        conn.rollback()  # a concurrent request with the same key won: answer what it answered
        return idempotency.replay(conn, user_id, key, request_hash)
    conn.commit()
    return 201, body


def _close(conn, transfer_id: int, status: str, reason: str | None = None) -> None:
    conn.execute(text("UPDATE transfers SET status = :s, reject_reason = :r, tan_hash = NULL WHERE id = :id"),
                 {"s": status, "r": reason, "id": transfer_id})
    conn.commit()


def confirm(conn, user_id: int, transfer_id: int, code: str, rules: TransferRules,
            now: datetime) -> tuple[dict, bool]:
    """Check the mTAN and book the transfer; returns (transfer, booked by this call).
    Commits whatever it decides."""
    row = _load(conn, user_id, transfer_id, lock=True)
    if row.status == "booked":
        conn.rollback()
        return _view(conn, row, rules), False
    if row.status in _CLOSED_MESSAGES:
        conn.rollback()
        if row.status == "expired":
            raise TanExpired(_CLOSED_MESSAGES["expired"][1])
        raise TransferClosed(*_CLOSED_MESSAGES[row.status])
    if row.status == "rejected":
        conn.rollback()
        raise (InsufficientFunds() if row.reject_reason == "insufficient_funds" else MonthlyLimitExceeded())
    if now >= row.expires_at:
        _close(conn, row.id, "expired")
        raise TanExpired(_CLOSED_MESSAGES["expired"][1])
    if not mtan.matches(rules.tan_secret, row.id, row.amount, row.recipient_iban, code, row.tan_hash):
        attempts = row.tan_attempts + 1
        left = max(rules.tan_max_attempts - attempts, 0)
        conn.execute(text("UPDATE transfers SET tan_attempts = :a WHERE id = :id"), {"a": attempts, "id": row.id})
        if left == 0:
            _close(conn, row.id, "cancelled")
            raise InvalidTan("Wrong mTAN. No attempts are left: the transfer is cancelled.", attemptsLeft=0)
        conn.commit()
        raise InvalidTan(f"Wrong mTAN. {left} attempt{'s' if left != 1 else ''} left.", attemptsLeft=left)
    return _book(conn, row, user_id, rules, now), True


def _book(conn, row, user_id: int, rules: TransferRules, now: datetime) -> dict:
    locked = _lock_accounts(conn, row.sender_account_id, row.recipient_account_id, "FOR UPDATE")
    sender_balance = locked[row.sender_account_id].balance
    if sender_balance < row.amount:
        _close(conn, row.id, "rejected", "insufficient_funds")
        raise InsufficientFunds()
    limit = conn.execute(text("SELECT monthly_limit FROM users WHERE id = :u"), {"u": user_id}).scalar_one()
    spent = users.spent_this_month(conn, row.sender_account_id, now)
    if spent + row.amount > limit:
        _close(conn, row.id, "rejected", "monthly_limit_exceeded")
        raise MonthlyLimitExceeded(remaining=money.fmt(max(limit - spent, Decimal(0))))
    for account_id, delta in ((row.sender_account_id, -row.amount), (row.recipient_account_id, row.amount)):
        conn.execute(text("UPDATE accounts SET balance = balance + :d WHERE id = :id"), {"d": delta, "id": account_id})
        conn.execute(
            text("INSERT INTO ledger_entries (account_id, transfer_id, amount, balance_after, created_at)"
                 " SELECT id, :t, :d, balance, :now FROM accounts WHERE id = :id"),
            {"t": row.id, "d": delta, "now": now, "id": account_id})
    conn.execute(text("UPDATE transfers SET status = 'booked', booked_at = :now, tan_hash = NULL WHERE id = :id"),
                 {"now": now, "id": row.id})
    if row.recipient_user_id is not None:
        notifications.add(conn, row.recipient_user_id, "transfer_received", {
            "amount": money.fmt(row.amount), "from": row.sender_name, "fromIban": row.sender_iban,
            "transferId": row.id, "comment": row.comment})
    conn.commit()
    return _view(conn, _load(conn, user_id, row.id), rules)
