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

from . import accounts, documents, idempotency, money, mtan, notifications, users
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


# The transfer's own columns, read as one JSON document (app.bank.documents says why); its tags as
# "id,id" (the tag list is cached, app.bank.accounts).
_FIELDS = {name: f"t.{name}" for name in (
    "id", "amount", "comment", "recipient_name", "status", "reject_reason", "tan_hash", "tan_attempts",
    "created_at", "expires_at", "booked_at", "sender_account_id", "recipient_account_id")}
_FIELDS["tag_ids"] = "(SELECT GROUP_CONCAT(tag_id ORDER BY tag_id) FROM transfer_tags WHERE transfer_id = t.id)"
_MOMENTS = ("created_at", "expires_at", "booked_at")


def _parsed(document: str | None) -> dict | None:
    if document is None:
        return None
    t = documents.parsed(document)
    for name in _MOMENTS:
        if t[name] is not None:
            t[name] = datetime.fromisoformat(t[name])
    return t


_WITH_RECIPIENT = {**_FIELDS, "recipient_iban": "r.iban", "recipient_user_id": "r.user_id"}
_LOAD_SQL = text(f"SELECT {documents.json_object(_WITH_RECIPIENT)}"
                 " FROM transfers t JOIN accounts r ON r.id = t.recipient_account_id"
                 " WHERE t.id = :id AND t.sender_account_id = :acc")
_LOAD_LOCKED_SQL = text(f"SELECT {documents.json_object(_FIELDS)}"
                        " FROM transfers t WHERE t.id = :id AND t.sender_account_id = :acc FOR UPDATE")

_CLOSED_MESSAGES = {
    "cancelled": ("transfer_cancelled", "This transfer was cancelled after too many wrong mTANs."),
    "expired": ("tan_expired", "The mTAN of this transfer has expired. Please start a new transfer."),
}


def _load(conn, caller, transfer_id: int) -> dict:
    """One of the caller's transfers with its recipient's IBAN and user."""
    t = _parsed(conn.execute(_LOAD_SQL, {"id": transfer_id, "acc": caller.account_id}).scalar())
    if t is None:
        raise NotFound("No such transfer.")
    return t


def _load_locked(conn, caller, transfer_id: int) -> dict:
    """The transfer under an exclusive lock. Its state comes from the locking read itself, which
    returns the latest committed version: the transaction's snapshot may be older (its first read,
    the session check, came before the lock), and a concurrent confirmation may have booked it
    meanwhile. The lock is on the transfer row alone: FOR UPDATE on a join would also lock both
    accounts, in whatever order the optimizer reads them."""
    t = _parsed(conn.execute(_LOAD_LOCKED_SQL, {"id": transfer_id, "acc": caller.account_id}).scalar())
    if t is None:
        raise NotFound("No such transfer.")
    return t


def _with_recipient(t: dict, recipient) -> dict:
    return {**t, "recipient_iban": recipient.iban, "recipient_user_id": recipient.user_id}


def _lock_accounts(conn, first: int, second: int, mode: str) -> dict:
    """Lock two accounts in ascending id order, the one order every transaction uses."""
    rows = conn.execute(text(f"SELECT id, balance, iban, user_id, spent_month, spent_in_month FROM accounts"
                             f" WHERE id IN (:a, :b)"
                             f" ORDER BY id {mode}"), {"a": first, "b": second})
    return {row.id: row for row in rows}


def _tags_of(conn, tag_ids: str | None) -> list[dict]:
    wanted = {int(i) for i in (tag_ids or "").split(",") if i}
    return [{"title": t["title"], "color": t["color"], "icon": t["icon"]}
            for t in accounts.tag_rows(conn).values() if t["id"] in wanted]


def _view(conn, t: dict, rules: TransferRules) -> dict:
    return {
        "id": t["id"],
        "status": t["status"],
        "amount": money.fmt(t["amount"]),
        "currency": "EUR",
        "recipientIban": t["recipient_iban"],
        "recipientName": t["recipient_name"],
        "comment": t["comment"],
        "tags": _tags_of(conn, t["tag_ids"]),
        "createdAt": iso(t["created_at"]),
        "expiresAt": iso(t["expires_at"]),
        "bookedAt": iso(t["booked_at"]),
        "tanAttemptsLeft": max(rules.tan_max_attempts - t["tan_attempts"], 0),
        "rejectReason": t["reject_reason"],
    }


def get(conn, caller, transfer_id: int, rules: TransferRules) -> dict:
    return _view(conn, _load(conn, caller, transfer_id), rules)


def _check(conn, caller, new: NewTransfer, rules: TransferRules):
    """The recipient's account and the tags' ids, or the rule the request breaks."""
    if new.amount <= 0:
        raise InvalidRequest("invalid_amount", "The amount must be more than 0.00.")
    if new.amount > rules.max_amount:
        raise InvalidRequest("amount_too_large", f"The amount can be at most {money.fmt(rules.max_amount)}.",
                             maxAmount=money.fmt(rules.max_amount))
    if not money.is_valid_iban(new.recipient_iban):
        raise InvalidRequest("invalid_iban", "The IBAN is not valid (its check digits don't match).")
    known = accounts.tag_rows(conn)
    unknown = sorted(set(new.tags) - set(known))
    if unknown:
        raise InvalidRequest("unknown_tag", f"Unknown tag: {', '.join(unknown)}.", tags=unknown)
    recipient = conn.execute(text("SELECT id, iban FROM accounts WHERE iban = :iban"),
                             {"iban": money.normalize_iban(new.recipient_iban)}).first()
    if recipient is None:
        raise InvalidRequest("unknown_recipient", "No account with this IBAN is known to PiggyBank.")
    if recipient.id == caller.account_id:
        raise InvalidRequest("same_account", "You can't transfer money to your own account.")
    return recipient, sorted(known[title]["id"] for title in set(new.tags))


def create(conn, caller, key: str, new: NewTransfer, rules: TransferRules,
           gateway: mtan.SmsGateway, now: datetime) -> tuple[int, dict]:
    """Create a pending transfer and send its mTAN; returns (status, body). Commits.
    `caller` is the sender's `users.signed_in` row, read with `idempotency_key=key`."""
    if caller.idempotency_key != key:
        raise ValueError("the caller was read without this Idempotency-Key (users.signed_in)")
    request_hash = new.fingerprint()
    seen = idempotency.answer(caller.stored_answer, request_hash)
    if seen:
        return seen
    recipient, tag_ids = _check(conn, caller, new, rules)
    # The foreign keys of the new row take shared locks on both accounts; take them in id order
    # first, so a concurrent booking (exclusive locks, same order) can't deadlock with us.
    _lock_accounts(conn, caller.account_id, recipient.id, "LOCK IN SHARE MODE")
    transfer = {"amount": new.amount, "comment": new.comment, "recipient_name": new.recipient_name,
                "status": "pending", "reject_reason": None, "tan_attempts": 0, "created_at": now,
                "expires_at": now + rules.tan_lifetime, "booked_at": None, "recipient_iban": recipient.iban,
                "tag_ids": ",".join(map(str, tag_ids))}
    transfer["id"] = conn.execute(
        text("INSERT INTO transfers (sender_account_id, recipient_account_id, recipient_name, amount, comment,"
             " status, created_at, expires_at) VALUES (:s, :r, :name, :amount, :comment, 'pending', :now, :exp)"
             " RETURNING id"),
        {"s": caller.account_id, "r": recipient.id, "name": new.recipient_name, "amount": new.amount,
         "comment": new.comment, "now": now, "exp": transfer["expires_at"]},
    ).scalar_one()
    if tag_ids:
        conn.execute(text("INSERT INTO transfer_tags (transfer_id, tag_id) VALUES "
                          + ", ".join(f"(:t, :tag{i})" for i in range(len(tag_ids)))),
                     {"t": transfer["id"], **{f"tag{i}": tag for i, tag in enumerate(tag_ids)}})
    code = mtan.new_code()
    conn.execute(text("UPDATE transfers SET tan_hash = :h WHERE id = :id"),
                 {"h": mtan.digest(rules.tan_secret, transfer["id"], new.amount, recipient.iban, code),
                  "id": transfer["id"]})
    minutes = int(rules.tan_lifetime.total_seconds() // 60)
    gateway.send(conn, caller.id, caller.phone, mtan.sms_text(code, transfer["id"], new.amount, new.recipient_name,
                                                              recipient.iban, minutes))
    body = _view(conn, transfer, rules)
    if not idempotency.remember(conn, caller.id, key, request_hash, 201, body, transfer["id"]):
        conn.rollback()  # a concurrent request with the same key won: answer what it answered
        return idempotency.replay(conn, caller.id, key, request_hash)
    conn.commit()
    return 201, body


def _close(conn, transfer_id: int, status: str, reason: str | None = None) -> None:
    conn.execute(text("UPDATE transfers SET status = :s, reject_reason = :r, tan_hash = NULL WHERE id = :id"),
                 {"s": status, "r": reason, "id": transfer_id})
    conn.commit()


def confirm(conn, caller, transfer_id: int, code: str, rules: TransferRules,
            now: datetime) -> tuple[dict, bool]:
    """Check the mTAN and book the transfer; returns (transfer, booked by this call).
    Commits whatever it decides. `caller` is the sender's `users.signed_in` row."""
    t = _load_locked(conn, caller, transfer_id)
    if t["status"] == "booked":
        recipient = conn.execute(text("SELECT iban, user_id FROM accounts WHERE id = :id"),
                                 {"id": t["recipient_account_id"]}).one()
        conn.rollback()
        return _view(conn, _with_recipient(t, recipient), rules), False
    if t["status"] in _CLOSED_MESSAGES:
        conn.rollback()
        if t["status"] == "expired":
            raise TanExpired(_CLOSED_MESSAGES["expired"][1])
        raise TransferClosed(*_CLOSED_MESSAGES[t["status"]])
    if t["status"] == "rejected":
        conn.rollback()
        raise (InsufficientFunds() if t["reject_reason"] == "insufficient_funds" else MonthlyLimitExceeded())
    if now >= t["expires_at"]:
        _close(conn, t["id"], "expired")
        raise TanExpired(_CLOSED_MESSAGES["expired"][1])
    # Both accounts locked before the mTAN is checked: the same statement reads the recipient's
    # IBAN the mTAN is bound to, and booking needs the locks anyway (a wrong mTAN holds them only
    # while its attempt is counted).
    locked = _lock_accounts(conn, t["sender_account_id"], t["recipient_account_id"], "FOR UPDATE")
    t = _with_recipient(t, locked[t["recipient_account_id"]])
    if not mtan.matches(rules.tan_secret, t["id"], t["amount"], t["recipient_iban"], code, t["tan_hash"]):
        attempts = t["tan_attempts"] + 1
        left = max(rules.tan_max_attempts - attempts, 0)
        conn.execute(text("UPDATE transfers SET tan_attempts = :a WHERE id = :id"), {"a": attempts, "id": t["id"]})
        if left == 0:
            _close(conn, t["id"], "cancelled")
            raise InvalidTan("Wrong mTAN. No attempts are left: the transfer is cancelled.", attemptsLeft=0)
        conn.commit()
        raise InvalidTan(f"Wrong mTAN. {left} attempt{'s' if left != 1 else ''} left.", attemptsLeft=left)
    return _book(conn, t, locked, caller, rules, now), True


def _book(conn, t: dict, locked: dict, caller, rules: TransferRules, now: datetime) -> dict:
    """Book `t` between the two accounts `locked` (FOR UPDATE, by `_lock_accounts`)."""
    sender, recipient, amount = t["sender_account_id"], t["recipient_account_id"], t["amount"]
    if locked[sender].balance < amount:
        _close(conn, t["id"], "rejected", "insufficient_funds")
        raise InsufficientFunds()
    # This month's spending, from the sender's row as the lock read it (every booking of the
    # account writes it under the same lock).
    month = users.month_of(now)
    if locked[sender].spent_month is not None and locked[sender].spent_month > month:
        # Two requests raced across the end of a month and the later one booked first: this one is
        # booked at the start of that month, so the account's months only move forward.
        month = locked[sender].spent_month
        now = datetime.combine(month, datetime.min.time())
    spent = locked[sender].spent_in_month if locked[sender].spent_month == month else Decimal(0)
    if spent + amount > caller.monthly_limit:
        _close(conn, t["id"], "rejected", "monthly_limit_exceeded")
        raise MonthlyLimitExceeded(remaining=money.fmt(max(caller.monthly_limit - spent, Decimal(0))))
    # Both balances, the sender's spending and the transfer's state in one statement (each matched
    # row is updated once; the new spending is computed here, as the order in which a multi-table
    # UPDATE assigns is not defined).
    conn.execute(text("UPDATE accounts a JOIN transfers t ON t.id = :t"
                      " SET a.balance = a.balance + CASE a.id WHEN :s THEN :debit ELSE :amount END,"
                      " a.spent_in_month = CASE a.id WHEN :s THEN :spent ELSE a.spent_in_month END,"
                      " a.spent_month = CASE a.id WHEN :s THEN :month ELSE a.spent_month END,"
                      " t.status = 'booked', t.booked_at = :now, t.tan_hash = NULL WHERE a.id IN (:s, :r)"),
                 {"s": sender, "r": recipient, "t": t["id"], "amount": amount, "debit": -amount, "now": now,
                  "spent": spent + amount, "month": month})
    # Both balances are locked by this transaction, so the balances after are known here.
    conn.execute(
        text("INSERT INTO ledger_entries (account_id, transfer_id, amount, balance_after, created_at)"
             " VALUES (:s, :t, :debit, :s_after, :now), (:r, :t, :amount, :r_after, :now)"),
        {"s": sender, "r": recipient, "t": t["id"], "amount": amount, "debit": -amount, "now": now,
         "s_after": locked[sender].balance - amount, "r_after": locked[recipient].balance + amount})
    if t["recipient_user_id"] is not None:
        notifications.add(conn, t["recipient_user_id"], "transfer_received", {
            "amount": money.fmt(amount), "from": caller.holder_name, "fromIban": caller.iban,
            "transferId": t["id"], "comment": t["comment"]})
    conn.commit()
    return _view(conn, {**t, "status": "booked", "booked_at": now}, rules)
