"""Customers: sign-in with per-account lock-out, profile, monthly limit, new customers."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import text

from . import money
from .errors import AccountLocked, InvalidCredentials, InvalidRequest, NotFound
from .passwords import check_password, hash_password

BANK_CODE = "10001"
BIC = "BANKATW1"


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int = 5
    lock_seconds: int = 60


def authenticate(unit_of_work, email: str, password: str, policy: LoginPolicy, now) -> int:
    """The user id for correct credentials. Failures are counted in the database, so both app
    servers see them; from `max_failures` on the account is locked, twice as long each time.

    Takes the unit-of-work factory and opens two short transactions around the password check:
    the attempt is counted first, then the row lock and the connection are released while bcrypt
    runs (~250 ms), so sign-ins to one account don't queue behind each other's hashing and don't
    hold the pool. A right password resets the count."""
    with unit_of_work() as conn:
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
    if row is None:
        check_password(password, None)  # as slow as a real check: no hint which e-mails exist
        raise InvalidCredentials("E-mail or password is wrong.")
    right = check_password(password, row.password_hash)
    with unit_of_work() as conn:
        if right:
            conn.execute(text("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = :id"),
                         {"id": row.id})
            conn.commit()
            return row.id
        failures = conn.execute(text("SELECT failed_logins FROM users WHERE id = :id FOR UPDATE"),
                                {"id": row.id}).scalar_one()
        if failures >= policy.max_failures:
            lock = policy.lock_seconds * 2 ** min(failures - policy.max_failures, 6)
            conn.execute(text("UPDATE users SET locked_until = :l WHERE id = :id"),
                         {"l": now + timedelta(seconds=lock), "id": row.id})
            conn.commit()
    raise InvalidCredentials("E-mail or password is wrong.")


def month_start(now: datetime) -> datetime:
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def spent_this_month(conn, account_id: int, now: datetime) -> Decimal:
    return conn.execute(
        text("SELECT COALESCE(SUM(amount), 0) FROM transfers WHERE sender_account_id = :a"
             " AND status = 'booked' AND booked_at >= :start"),
        {"a": account_id, "start": month_start(now)},
    ).scalar_one()


def profile(conn, user_id: int, now: datetime) -> dict:
    row = conn.execute(
        text("SELECT u.first_name, u.last_name, u.email, u.monthly_limit, a.id AS account_id,"
             " a.iban, a.bic, a.balance FROM users u JOIN accounts a ON a.user_id = u.id WHERE u.id = :id"),
        {"id": user_id},
    ).first()
    if row is None:
        raise NotFound("No such user.")
    remaining = row.monthly_limit - spent_this_month(conn, row.account_id, now)
    return {
        "firstName": row.first_name, "lastName": row.last_name, "email": row.email,
        "iban": row.iban, "bic": row.bic, "balance": money.fmt(row.balance),
        "limit": money.fmt(row.monthly_limit), "remaining": money.fmt(remaining),
    }


def set_monthly_limit(conn, user_id: int, limit: Decimal, now: datetime) -> dict:
    if limit < 0:
        raise InvalidRequest("invalid_limit", "The monthly limit can't be negative.")
    conn.execute(text("UPDATE users SET monthly_limit = :l WHERE id = :id"), {"l": limit, "id": user_id})
    conn.commit()
    return profile(conn, user_id, now)


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
