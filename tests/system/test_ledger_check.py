"""The ledger check the drills and the benchmark end with (load/ledger.py) passes on right books and
finds each kind of damage: a transfer without its idempotency key, a transfer stored under two
keys, a key the client used that is not stored, and a transfer the client saw booked that is not."""

import uuid
from datetime import UTC, datetime

from sqlalchemy import text

from load import ledger


def test_the_ledger_check_passes_right_books_and_finds_each_kind_of_damage(stack, api, new_customer, db_engine):
    since = datetime.now(UTC).replace(tzinfo=None)  # what earlier tests left (test_housekeeping purges keys) is older
    sender, recipient = new_customer(balance="50.00"), new_customer()
    token = api.login(sender["email"], sender["password"])
    key = str(uuid.uuid4())
    created = api.create_transfer(token, recipient["iban"], "5.00", key=key)
    assert created.status_code == 201, created.text
    booked = created.json()["id"]
    assert api.confirm(token, booked, api.tan_for(token, booked)).status_code == 200
    journal = {key: {"email": sender["email"], "ids": {booked}, "confirmed": booked, "amount": "5.00"}}

    right = ledger.check(stack, journal, since=since)
    assert right["ok"], right["problems"]

    with db_engine.begin() as conn:
        orphan = conn.execute(text(
            "INSERT INTO transfers (sender_account_id, recipient_account_id, recipient_name, amount, comment,"
            " status, created_at) VALUES (:s, :r, 'Orphan', 1.00, '', 'pending', UTC_TIMESTAMP(6)) RETURNING id"),
            {"s": sender["accountId"], "r": recipient["accountId"]}).scalar_one()
        conn.execute(text(
            "INSERT INTO idempotency_keys (user_id, idem_key, request_hash, response_status, response_body,"
            " transfer_id, created_at) VALUES (:u, :k, :h, 201, '{}', :t, UTC_TIMESTAMP(6))"),
            {"u": sender["userId"], "k": str(uuid.uuid4()), "h": "0" * 64, "t": booked})
    lost_key, unbooked = str(uuid.uuid4()), orphan
    damaged = {**journal, lost_key: {"email": sender["email"], "ids": {unbooked}, "confirmed": unbooked,
                                     "amount": "1.00"}}
    try:
        found = ledger.check(stack, damaged, since=since)
        assert not found["ok"]
        assert found["orphan_transfers"] == 1 and found["doubled_keys"] == 1, found
        problems = "\n".join(found["problems"])
        assert f"transfer {orphan} has no idempotency key" in problems
        assert f"transfer {booked} is stored under 2 idempotency keys" in problems
        assert f"key {lost_key}: 0 rows in idempotency_keys" in problems
        assert f"transfer {unbooked} was confirmed to a client but is pending" in problems
    finally:
        with db_engine.begin() as conn:
            conn.execute(text("DELETE FROM idempotency_keys WHERE transfer_id = :t AND request_hash = :h"),
                         {"t": booked, "h": "0" * 64})
            conn.execute(text("DELETE FROM transfers WHERE id = :t"), {"t": orphan})
