"""Transfers through nginx on the real stack: the flow, every rejection, idempotency, mTAN rules."""

import uuid

import pytest
from sqlalchemy import text

from tests.api_client import SEED_IBANS


def error_code(response) -> str:
    return response.json()["error"]["code"]


@pytest.mark.parametrize("sender, recipient, amount", [
    ("max", "gabi", "10.00"),
    ("gabi", "erika", "7.35"),
    ("erika", "interspar", "5.00"),
])
def test_full_flow_for_each_seed_user(api, ledger_audit, sender, recipient, amount):
    token = api.login_seed(sender)
    before = api.get("/api/user", token).json()
    created = api.create_transfer(token, SEED_IBANS[recipient], amount, "Someone", comment="Rent", tags=["Utility"])
    assert created.status_code == 201
    pending = created.json()
    assert pending["status"] == "pending" and pending["amount"] == amount and pending["tanAttemptsLeft"] == 3
    assert pending["tags"] == [{"title": "Utility", "color": "pink accent-3", "icon": "fa fa-wrench"}]
    sms = api.get("/api/demo/sms", token).json()["messages"][0]["body"]
    assert f"transfer #{pending['id']} of {amount} EUR" in sms and SEED_IBANS[recipient] in sms  # dynamic linking
    booked = api.confirm(token, pending["id"], api.tan_for(token, pending["id"]))
    assert booked.status_code == 200
    assert booked.json()["status"] == "booked" and booked.json()["bookedAt"]
    after = api.get("/api/user", token).json()
    assert float(before["balance"]) - float(after["balance"]) == pytest.approx(float(amount))
    assert float(before["remaining"]) - float(after["remaining"]) == pytest.approx(float(amount))
    newest = api.get("/api/account/activity?limit=1", token).json()["items"][0]
    assert newest["id"] == pending["id"] and newest["direction"] == "out" and newest["amount"] == amount
    assert api.get(f"/api/transfers/{pending['id']}", token).json()["status"] == "booked"
    assert ledger_audit() == []


def test_the_recipient_sees_the_money_and_a_notification(api, new_customer):
    sender, recipient = new_customer(), new_customer(balance="0.00")
    sender_token, recipient_token = api.login(sender["email"], sender["password"]), api.login(
        recipient["email"], recipient["password"])
    booked = api.send_money(sender_token, recipient["iban"], "12.50", "R. Customer", comment="Thanks")
    assert api.get("/api/account", recipient_token).json() == {
        "iban": recipient["iban"], "bic": "BANKATW1", "balance": "12.50", "currency": "EUR"}
    incoming = api.get("/api/account/activity", recipient_token).json()["items"][0]
    assert incoming["direction"] == "in" and incoming["counterpartyName"] == sender["name"]
    assert incoming["counterpartyIban"] == sender["iban"] and incoming["comment"] == "Thanks"
    notes = api.get("/api/notifications", recipient_token).json()
    assert notes["unread"] == 1
    note = notes["items"][0]
    assert note["type"] == "transfer_received" and note["transferId"] == booked["id"] and note["amount"] == "12.50"
    assert note["from"] == sender["name"] and note["read"] is False
    read = api.post("/api/notifications/read", recipient_token, json={"upTo": note["id"]}).json()
    assert read == {"marked": 1, "unread": 0}
    assert api.get(f"/api/notifications?after={note['id']}", recipient_token).json()["items"] == []


@pytest.mark.parametrize("body, headers, status, code", [
    ({"recipientIban": SEED_IBANS["gabi"], "recipientName": "G", "amount": "1.00"}, {}, 400, "invalid_request"),
    ({"recipientIban": SEED_IBANS["gabi"], "recipientName": "G", "amount": "1.00"},
     {"Idempotency-Key": "short"}, 400, "invalid_request"),
    ({"recipientIban": SEED_IBANS["gabi"], "recipientName": "G", "amount": "1.234"}, None, 400, "invalid_request"),
    ({"recipientIban": SEED_IBANS["gabi"], "recipientName": "G", "amount": "-5"}, None, 400, "invalid_request"),
    ({"recipientIban": SEED_IBANS["gabi"], "recipientName": "G", "amount": 5}, None, 400, "invalid_request"),
    ({"recipientIban": SEED_IBANS["gabi"], "recipientName": "G", "amount": "abc"}, None, 400, "invalid_request"),
    ({"recipientIban": SEED_IBANS["gabi"], "recipientName": " ", "amount": "1.00"}, None, 400, "invalid_request"),
    ({"recipientIban": SEED_IBANS["gabi"], "amount": "1.00"}, None, 400, "invalid_request"),
    ({"recipientIban": SEED_IBANS["gabi"], "recipientName": "G", "amount": "1.00", "x": 1}, None, 400,
     "invalid_request"),
    # formats the document states are 400: a zero amount, an IBAN's alphabet, a name without a visible character
    ({"recipientIban": SEED_IBANS["gabi"], "recipientName": "G", "amount": "0.00"}, None, 400, "invalid_request"),
    ({"recipientIban": "AT69_1000_1000_0000_0002", "recipientName": "G", "amount": "1.00"}, None, 400,
     "invalid_request"),
    ({"recipientIban": SEED_IBANS["gabi"], "recipientName": "\u0085\u00a0", "amount": "1.00"}, None, 400,
     "invalid_request"),
    ({"recipientIban": SEED_IBANS["gabi"], "recipientName": "G", "amount": "100000.01"}, None, 422,
     "amount_too_large"),
    ({"recipientIban": "AT001000100000000002", "recipientName": "G", "amount": "1.00"}, None, 422, "invalid_iban"),
    ({"recipientIban": "DE89370400440532013000", "recipientName": "G", "amount": "1.00"}, None, 422,
     "unknown_recipient"),
    ({"recipientIban": SEED_IBANS["max"], "recipientName": "Me", "amount": "1.00"}, None, 422, "same_account"),
    ({"recipientIban": SEED_IBANS["gabi"], "recipientName": "G", "amount": "1.00", "tags": ["Gambling"]}, None,
     422, "unknown_tag"),
])
def test_every_bad_transfer_request_is_refused_with_its_reason(api, ledger_audit, body, headers, status, code):
    token = api.login_seed("max")
    headers = {"Idempotency-Key": str(uuid.uuid4())} if headers is None else headers
    response = api.post("/api/transfers", token, json=body, headers=headers)
    assert (response.status_code, error_code(response)) == (status, code), response.text
    assert response.json()["error"]["message"]
    assert ledger_audit() == []


def test_an_iban_with_spaces_and_lower_case_is_accepted(api, new_customer):
    sender, recipient = new_customer(), new_customer()
    token = api.login(sender["email"], sender["password"])
    spaced = " ".join(recipient["iban"][i:i + 4] for i in range(0, len(recipient["iban"]), 4)).lower()
    created = api.create_transfer(token, spaced, "1.00")
    assert created.status_code == 201 and created.json()["recipientIban"] == recipient["iban"]


def test_same_key_same_body_answers_the_same_transfer_and_a_different_body_is_refused(api):
    token = api.login_seed("gabi")
    key = str(uuid.uuid4())
    first = api.create_transfer(token, SEED_IBANS["erika"], "3.00", "Erika", key=key)
    again = api.create_transfer(token, SEED_IBANS["erika"], "3.00", "Erika", key=key)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    other = api.create_transfer(token, SEED_IBANS["erika"], "4.00", "Erika", key=key)
    assert other.status_code == 422 and error_code(other) == "idempotency_key_reused"


def test_keys_belong_to_their_user(api, new_customer):
    a, b = new_customer(), new_customer()
    key = str(uuid.uuid4())
    first = api.create_transfer(api.login(a["email"], a["password"]), SEED_IBANS["gabi"], "1.00", key=key)
    second = api.create_transfer(api.login(b["email"], b["password"]), SEED_IBANS["gabi"], "1.00", key=key)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]


def test_three_wrong_tans_cancel_the_transfer(api, new_customer, ledger_audit):
    customer = new_customer()
    token = api.login(customer["email"], customer["password"])
    transfer_id = api.create_transfer(token, SEED_IBANS["gabi"], "9.99").json()["id"]
    right = api.tan_for(token, transfer_id)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for left in (2, 1, 0):
        response = api.confirm(token, transfer_id, wrong)
        assert response.status_code == 422 and error_code(response) == "invalid_tan"
        assert response.json()["error"]["details"]["attemptsLeft"] == left
    after = api.confirm(token, transfer_id, right)
    assert after.status_code == 409 and error_code(after) == "transfer_cancelled"
    assert api.get(f"/api/transfers/{transfer_id}", token).json()["status"] == "cancelled"
    assert api.get("/api/account", token).json()["balance"] == "1000.00"
    assert ledger_audit() == []


def test_a_tan_is_bound_to_its_transfer(api, new_customer):
    customer = new_customer()
    token = api.login(customer["email"], customer["password"])
    first = api.create_transfer(token, SEED_IBANS["gabi"], "1.00").json()["id"]
    second = api.create_transfer(token, SEED_IBANS["gabi"], "2.00").json()["id"]
    response = api.confirm(token, second, api.tan_for(token, first))
    assert response.status_code == 422 and error_code(response) == "invalid_tan"


def test_malformed_tan_is_400_and_costs_no_attempt(api, new_customer):
    customer = new_customer()
    token = api.login(customer["email"], customer["password"])
    transfer_id = api.create_transfer(token, SEED_IBANS["gabi"], "1.00").json()["id"]
    for tan in ("12345", "abcdef", "1234567", ""):
        assert api.confirm(token, transfer_id, tan).status_code == 400
    assert api.get(f"/api/transfers/{transfer_id}", token).json()["tanAttemptsLeft"] == 3


def test_an_expired_tan_is_410(api, new_customer, db_engine):
    customer = new_customer()
    token = api.login(customer["email"], customer["password"])
    transfer_id = api.create_transfer(token, SEED_IBANS["gabi"], "1.00").json()["id"]
    with db_engine.connect() as conn:  # five minutes pass
        conn.execute(text("UPDATE transfers SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND WHERE id = :id"),
                     {"id": transfer_id})
        conn.commit()
    response = api.confirm(token, transfer_id, api.tan_for(token, transfer_id))
    assert response.status_code == 410 and error_code(response) == "tan_expired"
    assert api.get(f"/api/transfers/{transfer_id}", token).json()["status"] == "expired"


def test_confirming_twice_books_once(api, new_customer, ledger_audit):
    customer = new_customer()
    token = api.login(customer["email"], customer["password"])
    transfer_id = api.create_transfer(token, SEED_IBANS["interspar"], "20.00").json()["id"]
    tan = api.tan_for(token, transfer_id)
    first, second = api.confirm(token, transfer_id, tan), api.confirm(token, transfer_id, tan)
    assert first.status_code == second.status_code == 200 and first.json() == second.json()
    assert api.get("/api/account", token).json()["balance"] == "980.00"
    assert ledger_audit() == []


def test_insufficient_funds_is_409_and_moves_nothing(api, new_customer, ledger_audit):
    customer = new_customer(balance="5.00")
    token = api.login(customer["email"], customer["password"])
    transfer_id = api.create_transfer(token, SEED_IBANS["gabi"], "5.01").json()["id"]
    response = api.confirm(token, transfer_id, api.tan_for(token, transfer_id))
    assert response.status_code == 409 and error_code(response) == "insufficient_funds"
    assert api.get(f"/api/transfers/{transfer_id}", token).json()["rejectReason"] == "insufficient_funds"
    assert api.get("/api/account", token).json()["balance"] == "5.00"
    assert ledger_audit() == []


def test_the_monthly_limit_is_enforced_at_booking(api, new_customer, ledger_audit):
    customer = new_customer(balance="500.00", limit="50.00")
    token = api.login(customer["email"], customer["password"])
    api.send_money(token, SEED_IBANS["gabi"], "30.00")
    assert api.get("/api/user", token).json()["remaining"] == "20.00"
    transfer_id = api.create_transfer(token, SEED_IBANS["gabi"], "20.01").json()["id"]
    response = api.confirm(token, transfer_id, api.tan_for(token, transfer_id))
    assert response.status_code == 409 and error_code(response) == "monthly_limit_exceeded"
    api.send_money(token, SEED_IBANS["gabi"], "20.00")  # exactly up to the limit is fine
    assert api.get("/api/user", token).json()["remaining"] == "0.00"
    assert ledger_audit() == []


def test_changing_the_limit(api, new_customer):
    customer = new_customer(limit="1000.00")
    token = api.login(customer["email"], customer["password"])
    updated = api.request("PUT", "/api/user/limit", token, json={"limit": "250.50"})
    assert updated.status_code == 200 and updated.json()["limit"] == "250.50"
    assert updated.json()["remaining"] == "250.50"
    for bad in ("-1.00", "1.001", "abc", 5, None):
        response = api.request("PUT", "/api/user/limit", token, json={"limit": bad})
        assert response.status_code == 400, bad
    assert api.get("/api/user", token).json()["limit"] == "250.50"


def test_other_users_transfers_are_not_found(api):
    max_token, gabi_token = api.login_seed("max"), api.login_seed("gabi")
    transfer_id = api.create_transfer(max_token, SEED_IBANS["erika"], "1.00").json()["id"]
    assert api.get(f"/api/transfers/{transfer_id}", gabi_token).status_code == 404
    stolen = api.confirm(gabi_token, transfer_id, api.tan_for(max_token, transfer_id))
    assert stolen.status_code == 404
    assert f"#{transfer_id} " not in str(api.get("/api/demo/sms", gabi_token).json())
    assert api.get("/api/transfers/999999999", max_token).status_code == 404


def test_what_was_spent_in_an_earlier_month_does_not_count(api, new_customer, db_engine, ledger_audit):
    customer = new_customer(balance="500.00", limit="50.00")
    with db_engine.begin() as conn:  # 45.00 spent, as the account keeps it, but last month
        conn.execute(text("UPDATE accounts SET spent_month = DATE_FORMAT(UTC_TIMESTAMP() - INTERVAL 1 MONTH,"
                          " '%Y-%m-01'), spent_in_month = 45.00 WHERE id = :id"), {"id": customer["accountId"]})
    token = api.login(customer["email"], customer["password"])
    assert api.get("/api/user", token).json()["remaining"] == "50.00"
    api.send_money(token, SEED_IBANS["gabi"], "50.00")  # the whole limit: this month starts at 0
    assert api.get("/api/user", token).json()["remaining"] == "0.00"
    assert ledger_audit() == []


def test_a_booking_that_loses_a_race_across_the_month_end_joins_the_new_month(api, new_customer, db_engine,
                                                                              app_config, ledger_audit):
    from datetime import UTC, datetime, timedelta

    from app.bank import transfers, users

    customer = new_customer(balance="500.00", limit="100.00")
    token = api.login(customer["email"], customer["password"])
    first, second = (api.create_transfer(token, SEED_IBANS["gabi"], amount).json()["id"]
                     for amount in ("10.00", "20.00"))
    codes = {t: api.tan_for(token, t) for t in (first, second)}
    now = datetime.now(UTC).replace(tzinfo=None)
    month = users.month_of(now)
    rules = transfers.TransferRules(tan_secret=app_config["TAN_SECRET"])
    session = users.Session(customer["userId"], uuid.uuid4().hex)
    with db_engine.connect() as conn:
        transfers.confirm(conn, users.signed_in(conn, session), first, codes[first], rules, now)
    # The second request's clock read the last second of the previous month, but it got the lock after
    # the first one booked in this month: it is booked at the start of this month, and counts in it.
    late = datetime.combine(month, datetime.min.time()) - timedelta(seconds=1)
    with db_engine.connect() as conn:
        booked, _ = transfers.confirm(conn, users.signed_in(conn, session), second, codes[second], rules, late)
    assert booked["status"] == "booked" and booked["bookedAt"] == f"{month.isoformat()}T00:00:00Z"
    assert api.get("/api/user", token).json()["remaining"] == "70.00"
    assert ledger_audit() == []
