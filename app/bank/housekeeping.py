"""Housekeeping that keeps the tables from growing without bound and states from going stale.

Every app server runs it now and then; each statement is idempotent, so two at once are harmless.
"""

from datetime import datetime, timedelta

from sqlalchemy import text

IDEMPOTENCY_RETENTION = timedelta(hours=24)  # as Stripe: a retry within a day answers the first result


def tidy(conn, now: datetime) -> dict[str, int]:
    """Expire pending transfers whose mTAN ran out, forget day-old idempotency keys and expired
    revoked tokens. Commits; returns how many rows each step changed."""
    done = {
        "expired_transfers": conn.execute(
            text("UPDATE transfers SET status = 'expired', tan_hash = NULL"
                 " WHERE status = 'pending' AND expires_at <= :now"), {"now": now}).rowcount,
        "forgotten_keys": conn.execute(
            text("DELETE FROM idempotency_keys WHERE created_at < :cutoff"),
            {"cutoff": now - IDEMPOTENCY_RETENTION}).rowcount,
        "dropped_revocations": conn.execute(
            text("DELETE FROM revoked_tokens WHERE expires_at < :now"), {"now": now}).rowcount,
    }
    conn.commit()
    return done
