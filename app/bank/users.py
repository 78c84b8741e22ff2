"""Customers: sign-in with per-account lock-out, profile, monthly limit, new customers."""

import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import text

from . import documents, idempotency, money, mtan
from .errors import AccountLocked, InvalidCredentials, InvalidRequest, NotFound, SessionEnded
from .passwords import check_password, hash_password

BANK_CODE = "10001"
BIC = "BANKATW1"


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int = 5
    lock_seconds: int = 60


@dataclass(frozen=True)
class Session:
    """Who is calling, with which token (its id, `jti`, and when it expires)."""

    user_id: int
    token_id: str
    expires_at: int = 0


def authenticate(run, email: str, password: str, policy: LoginPolicy, now) -> int:
    """The user id for correct credentials. Failures are counted in the database, so both app
    servers see them; from `max_failures` on the account is locked, twice as long each time.

    Takes db.run and runs two short use cases around the password check: the attempt is counted
    first, then the row lock and the connection are released while bcrypt runs (~250 ms), so
    sign-ins to one account don't queue behind each other's hashing and don't hold the pool. A
    right password resets the count."""
    def count_attempt(conn):
        row = conn.execute(
            text("SELECT id, password_hash, locked_until FROM users WHERE email = :email FOR UPDATE"),
            {"email": email.strip().lower()},
        ).first()
        if row is not None and row.locked_until and row.locked_until > now:
            retry_after = int((row.locked_until - now).total_seconds()) + 1
            raise AccountLocked(f"Too many failed logins. Try again in {retry_after} seconds.",
                                retryAfter=retry_after)
        if row is not None:
            conn.execute(text("UPDATE users SET failed_logins = failed_logins + 1 WHERE id = :id"), {"id": row.id})
            conn.commit()
        return row

    row = run(count_attempt)
    if row is None:
        check_password(password, None)  # as slow as a real check: no hint which e-mails exist
        raise InvalidCredentials("E-mail or password is wrong.")
    right = check_password(password, row.password_hash)

    def settle(conn):
        if right:
            conn.execute(text("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = :id"),
                         {"id": row.id})
            conn.commit()
            return
        failures = conn.execute(text("SELECT failed_logins FROM users WHERE id = :id FOR UPDATE"),
                                {"id": row.id}).scalar_one()
        if failures >= policy.max_failures:
            lock = policy.lock_seconds * 2 ** min(failures - policy.max_failures, 6)
            conn.execute(text("UPDATE users SET locked_until = :l WHERE id = :id"),
                         {"l": now + timedelta(seconds=lock), "id": row.id})
            conn.commit()

    run(settle)
    if right:
        return row.id
    raise InvalidCredentials("E-mail or password is wrong.")


def month_of(now: datetime) -> date:
    """The month `now` falls in, as its first day (what accounts.spent_month holds)."""
    return now.date().replace(day=1)


@dataclass(frozen=True)
class Caller:
    """The signed-in customer and their account (`users.signed_in`)."""

    id: int
    first_name: str
    last_name: str
    email: str
    phone: str
    monthly_limit: Decimal
    account_id: int | None
    iban: str | None
    bic: str | None
    holder_name: str | None
    balance: Decimal | None
    revoked: int
    spent: Decimal | None = None
    idempotency_key: str | None = None
    stored_answer: dict | None = None  # the key's idempotency.STORED document, if it was used before
    outbox: list[dict] | None = None  # the demo phone's newest messages (mtan.OUTBOX), None if none


_CALLER_COLUMNS = {
    "id": "u.id", "first_name": "u.first_name", "last_name": "u.last_name", "email": "u.email", "phone": "u.phone",
    "monthly_limit": "u.monthly_limit", "account_id": "a.id", "iban": "a.iban", "bic": "a.bic",
    "holder_name": "a.holder_name", "balance": "a.balance",
    "revoked": "(SELECT COUNT(*) FROM revoked_tokens WHERE jti = :token)",
}
# The row comes as one JSON document (app.bank.documents says why).
_CALLER = "SELECT {document} FROM users u LEFT JOIN accounts a ON a.user_id = u.id WHERE u.id = :id"
# What a use case can ask to be read in the same round trip: name -> (column, its parameter).
_EXTRAS = {
    # What the account's bookings added this month (a booking in an earlier month counts as none).
    "spent": "IF(a.spent_month = :month, a.spent_in_month, 0)",
    "idempotency_key": ":key",
    "stored_answer": f"({idempotency.STORED.format(user='u.id')})",
    # A derived table can't refer to the outer row (MariaDB has no LATERAL): the user by parameter.
    "outbox": f"({mtan.OUTBOX.format(user=':id')})",
}


@functools.cache
def _caller_sql(extras: tuple[str, ...]):
    columns = {**_CALLER_COLUMNS, **{name: _EXTRAS[name] for name in extras}}
    return text(_CALLER.format(document=documents.json_object(columns)))


def signed_in(conn, session: Session, spent_in: date | None = None,
              idempotency_key: str | None = None, outbox: bool = False) -> Caller:
    """The caller's user and account, in the one query that also checks the session: raises
    SessionEnded when the user no longer exists or the token was logged out (a logout on one app
    server holds on the other at once). With `spent_in` (a month_of), also `spent`: what the
    caller's booked transfers took that month (what GET /api/user needs). With
    `idempotency_key`, also that key's `stored_answer` (what a create looks up first). With
    `outbox`, also the demo phone's newest messages."""
    extras = ((("spent",) if spent_in else ()) + (("idempotency_key", "stored_answer") if idempotency_key else ())
              + (("outbox",) if outbox else ()))
    document = conn.execute(_caller_sql(extras), {"id": session.user_id, "token": session.token_id,
                                                  "month": spent_in, "key": idempotency_key}).scalar()
    caller = None if document is None else Caller(**documents.parsed(document))
    if caller is None or caller.revoked:
        raise SessionEnded("This token was signed out. Please sign in again.")
    if caller.account_id is None:
        raise NotFound("This user has no account.")
    return caller


def revoke(conn, session: Session) -> None:
    """Log the token out, on every app server (idempotent). Commits."""
    conn.execute(text("INSERT IGNORE INTO revoked_tokens (jti, expires_at) VALUES (:j, FROM_UNIXTIME(:e))"),
                 {"j": session.token_id, "e": session.expires_at})
    conn.commit()


def profile(caller: Caller) -> dict:
    """GET /api/user's answer from a `signed_in` row fetched with `spent_in=month_of(now)`."""
    return {
        "firstName": caller.first_name, "lastName": caller.last_name, "email": caller.email,
        "iban": caller.iban, "bic": caller.bic, "balance": money.fmt(caller.balance),
        "limit": money.fmt(caller.monthly_limit), "remaining": money.fmt(caller.monthly_limit - caller.spent),
    }


def set_monthly_limit(conn, session: Session, limit: Decimal, now: datetime) -> dict:
    if limit < 0:
        raise InvalidRequest("invalid_limit", "The monthly limit can't be negative.")
    conn.execute(text("UPDATE users SET monthly_limit = :l WHERE id = :id"), {"l": limit, "id": session.user_id})
    conn.commit()
    return profile(signed_in(conn, session, spent_in=month_of(now)))


def create_customer(conn, first_name: str, last_name: str, email: str, password: str, *,
                    balance: Decimal = Decimal("0"), monthly_limit: Decimal = Decimal("1000"),
                    phone: str = "+43 660 0000000", rounds: int = 12) -> dict:
    """A new customer with an account whose IBAN follows the bank's numbering. Commits."""
    user_id = conn.execute(
        text("INSERT INTO users (first_name, last_name, email, password_hash, phone, monthly_limit)"
             " VALUES (:f, :l, :e, :h, :p, :m) RETURNING id"),
        {"f": first_name, "l": last_name, "e": email.strip().lower(), "h": hash_password(password, rounds),
         "p": phone, "m": monthly_limit},
    ).scalar_one()
    account_id = conn.execute(
        text("INSERT INTO accounts (iban, bic, holder_name, user_id, opening_balance, balance)"
             " VALUES (CAST(UUID_SHORT() AS CHAR), :bic, :holder, :u, :b, :b) RETURNING id"),
        {"bic": BIC, "holder": f"{first_name} {last_name}", "u": user_id, "b": balance},
    ).scalar_one()
    iban = money.make_iban("AT", f"{BANK_CODE}{1000000000 + account_id:011d}")
    conn.execute(text("UPDATE accounts SET iban = :iban WHERE id = :id"), {"iban": iban, "id": account_id})
    conn.commit()
    return {"userId": user_id, "accountId": account_id, "iban": iban}
