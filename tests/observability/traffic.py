"""Known traffic, sent to each app server directly (its own port, no nginx), so that every metric a
dashboard shows exists on both app servers: sign-ins of each result, reads, a transfer created,
refused, confirmed with a wrong and then the right mTAN, and booked."""

import uuid
from decimal import Decimal

from tests.api_client import ApiClient


def new_customers(db_engine, count: int, balance: str = "100.00") -> list[dict]:
    from app.bank import users

    made = []
    with db_engine.connect() as conn:
        for _ in range(count):
            email = f"observer-{uuid.uuid4().hex[:10]}@example.com"
            password = uuid.uuid4().hex
            customer = users.create_customer(conn, "Observer", "Customer", email, password,
                                             balance=Decimal(balance), monthly_limit=Decimal("1000.00"), rounds=4)
            made.append({**customer, "email": email, "password": password})
    return made


def wrong_tan(tan: str) -> str:
    return f"{(int(tan) + 1) % 1_000_000:06d}"


def drive(stack, sender: dict, recipient: dict) -> None:
    """One round of every kind of request on each app server; asserts each answer."""
    for server in stack.app_servers:
        api = ApiClient(f"http://127.0.0.1:{server.port}")
        assert api.post("/auth", json={"username": f"nobody-{uuid.uuid4().hex[:8]}@example.com",
                                       "password": "wrong"}).status_code == 401
        token = api.login(sender["email"], sender["password"])
        for _ in range(3):
            assert api.get("/api/user", token).status_code == 200
        assert api.get("/api/account", token).status_code == 200
        refused = api.create_transfer(token, recipient["iban"], "0.00")
        assert refused.status_code == 422, refused.text
        created = api.create_transfer(token, recipient["iban"], "0.01", "Observer")
        assert created.status_code == 201, created.text
        transfer_id = created.json()["id"]
        tan = api.tan_for(token, transfer_id)
        assert api.confirm(token, transfer_id, wrong_tan(tan)).status_code == 422
        assert api.confirm(token, transfer_id, tan).status_code == 200


def drive_until_scraped(stack, db_engine, prometheus) -> None:
    """One round of drive() with new customers, then wait until Prometheus has scraped a booked
    transfer from every app server."""
    from tests.polling import wait_until

    sender, recipient = new_customers(db_engine, 2)
    drive(stack, sender, recipient)
    wait_until("Prometheus to have scraped a booked transfer on every app server", lambda: {
        r["metric"]["appserver"] for r in prometheus.query('piggybank_transfers_booked_total{job="app"} > 0')
    } == {server.name for server in stack.app_servers}, timeout=30)
