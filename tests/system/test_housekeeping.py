"""Housekeeping on the real database: stale pending transfers expire, old keys and revocations go."""

import uuid
from datetime import timedelta

from sqlalchemy import text

from app.api.auth import utcnow as now
from app.bank import housekeeping


def test_tidy_expires_forgets_and_drops(api, new_customer, db_engine):
    customer = new_customer()
    token = api.login(customer["email"], customer["password"])
    stale = api.create_transfer(token, "AT691000100000000002", "1.00").json()["id"]
    fresh = api.create_transfer(token, "AT691000100000000002", "2.00").json()["id"]
    old_jti, live_jti = str(uuid.uuid4()), str(uuid.uuid4())
    with db_engine.connect() as conn:
        conn.execute(text("UPDATE transfers SET expires_at = :t WHERE id = :id"),
                     {"t": now() - timedelta(seconds=1), "id": stale})
        conn.execute(text("UPDATE idempotency_keys SET created_at = :t WHERE transfer_id = :id"),
                     {"t": now() - timedelta(hours=25), "id": stale})
        conn.execute(text("INSERT INTO revoked_tokens (jti, expires_at) VALUES (:a, :past), (:b, :future)"),
                     {"a": old_jti, "past": now() - timedelta(minutes=1), "b": live_jti,
                      "future": now() + timedelta(minutes=10)})
        conn.commit()
        done = housekeeping.tidy(conn, now())
        assert done["expired_transfers"] >= 1 and done["forgotten_keys"] >= 1 and done["dropped_revocations"] >= 1
        keys = set(conn.execute(text("SELECT transfer_id FROM idempotency_keys WHERE transfer_id IN (:a, :b)"),
                                {"a": stale, "b": fresh}).scalars())
        revoked = set(conn.execute(text("SELECT jti FROM revoked_tokens WHERE jti IN (:a, :b)"),
                                   {"a": old_jti, "b": live_jti}).scalars())
    assert api.get(f"/api/transfers/{stale}", token).json()["status"] == "expired"
    assert api.get(f"/api/transfers/{fresh}", token).json()["status"] == "pending"
    assert keys == {fresh} and revoked == {live_jti}
