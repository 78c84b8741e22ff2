"""Money is never lost or doubled: concurrent transfers on both app servers, retries that cross
app servers, and a retry after the app server that took the first attempt was killed."""

import os
import random
import signal
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from sqlalchemy import bindparam, text

from tests.api_client import ApiClient
from tests.polling import wait_until


def direct_clients(stack) -> list[ApiClient]:
    """One client per app server, bypassing nginx, to choose which server takes a request."""
    return [ApiClient(f"http://127.0.0.1:{server.port}") for server in stack.app_servers]


def test_hundreds_of_concurrent_transfers_keep_the_books_exact(stack, api, new_customer, db_engine, ledger_audit):
    customers = [new_customer(balance="150.00", first=f"Racer{i}") for i in range(3)]
    tokens = [api.login(c["email"], c["password"]) for c in customers]
    servers = direct_clients(stack)
    rng = random.Random(20170519)
    plans = []
    for n in range(240):
        sender = rng.randrange(3)
        recipient = rng.choice([i for i in range(3) if i != sender])
        plans.append((n, sender, recipient, f"{rng.randint(1, 4000) / 100:.2f}", str(uuid.uuid4())))

    def run(plan):
        n, sender, recipient, amount, key = plan
        token, first, second = tokens[sender], servers[n % 2], servers[(n + 1) % 2]
        body = {"recipientIban": customers[recipient]["iban"], "recipientName": "Racer", "amount": amount}
        created = first.post("/api/transfers", token, json=body, headers={"Idempotency-Key": key})
        retried = second.post("/api/transfers", token, json=body, headers={"Idempotency-Key": key})
        assert created.status_code == retried.status_code == 201, (created.text, retried.text)
        assert created.json()["id"] == retried.json()["id"]
        transfer_id = created.json()["id"]
        tan = first.tan_for(token, transfer_id)
        outcomes = [first.confirm(token, transfer_id, tan), second.confirm(token, transfer_id, tan)]
        codes = sorted(r.status_code for r in outcomes)
        return transfer_id, key, codes, [r.json() for r in outcomes]

    with ThreadPoolExecutor(24) as pool:
        results = list(pool.map(run, plans))

    booked = rejected = 0
    for transfer_id, _key, codes, bodies in results:
        if codes == [200, 200]:
            assert bodies[0] == bodies[1] and bodies[0]["status"] == "booked"
            booked += 1
        else:  # refused at booking: the same reason both times, never a 5xx
            assert codes == [409, 409], (transfer_id, codes, bodies)
            assert {b["error"]["code"] for b in bodies} == {"insufficient_funds"}
            rejected += 1
    assert booked + rejected == len(plans) and booked > 50 and rejected > 0
    assert ledger_audit() == []
    account_ids = [c["accountId"] for c in customers]
    with db_engine.connect() as conn:
        balances = conn.execute(text("SELECT SUM(balance) FROM accounts WHERE id IN :ids").bindparams(
            bindparam("ids", expanding=True)), {"ids": account_ids}).scalar_one()
        per_key = conn.execute(text(
            "SELECT COUNT(*) FROM idempotency_keys k JOIN transfers t ON t.id = k.transfer_id"
            " WHERE k.user_id IN :users GROUP BY k.user_id, k.idem_key HAVING COUNT(*) > 1").bindparams(
            bindparam("users", expanding=True)),
            {"users": [c["userId"] for c in customers]}).all()
        ledger_rows = conn.execute(text("SELECT COUNT(*) FROM ledger_entries l JOIN transfers t ON t.id = l.transfer_id"
                                        " WHERE t.sender_account_id IN :ids").bindparams(
            bindparam("ids", expanding=True)), {"ids": account_ids}).scalar_one()
    assert balances == Decimal("450.00")  # money only moved between the three
    assert per_key == []
    assert ledger_rows == 2 * booked


def test_a_retry_on_the_other_app_server_answers_the_first_attempt(stack, api):
    first, second = direct_clients(stack)
    token = api.login_seed("gabi")
    key = str(uuid.uuid4())
    body = {"recipientIban": "AT421000100000000003", "recipientName": "Erika", "amount": "2.22"}
    created = first.post("/api/transfers", token, json=body, headers={"Idempotency-Key": key})
    again = second.post("/api/transfers", token, json=body, headers={"Idempotency-Key": key})
    assert created.status_code == again.status_code == 201 and created.json() == again.json()
    tan = first.tan_for(token, created.json()["id"])
    assert first.confirm(token, created.json()["id"], tan).json() == second.confirm(
        token, created.json()["id"], tan).json()


def test_a_retry_after_the_first_app_server_was_killed_books_once(stack, api, new_customer, db_engine, ledger_audit):
    customer = new_customer(balance="100.00")
    token = api.login(customer["email"], customer["password"])
    first, _ = direct_clients(stack)
    key = str(uuid.uuid4())
    body = {"recipientIban": "AT151000100000000004", "recipientName": "Interspar", "amount": "42.00"}
    created = first.post("/api/transfers", token, json=body, headers={"Idempotency-Key": key})
    assert created.status_code == 201
    os.kill(int(stack.pidfile("appserver1").read_text()), signal.SIGKILL)  # the server that took it dies
    retried = api.post("/api/transfers", token, json=body, headers={"Idempotency-Key": key})  # via nginx
    assert retried.status_code == 201 and retried.json()["id"] == created.json()["id"]
    transfer_id = created.json()["id"]
    tan = api.tan_for(token, transfer_id)
    assert api.confirm(token, transfer_id, tan).status_code == 200
    assert api.confirm(token, transfer_id, tan).status_code == 200
    assert api.get("/api/account", token).json()["balance"] == "58.00"
    with db_engine.connect() as conn:
        count = conn.execute(text("SELECT COUNT(*) FROM transfers t JOIN accounts a ON a.id = t.sender_account_id"
                                  " WHERE a.user_id = :u"), {"u": customer["userId"]}).scalar_one()
    assert count == 1
    assert ledger_audit() == []
    wait_until("appserver1 to be back for the next test", lambda: first.get("/api/healthcheck").status_code == 200)


def test_nginx_retries_a_post_from_a_hung_server_and_the_late_copy_books_nothing(stack, api, new_customer,
                                                                                  db_engine, ledger_audit):
    """nginx retries POSTs on the other app server (non_idempotent). A hung server that wakes up
    later still processes its copy of each request: the idempotency key and the transfer's state
    must turn that copy into a no-op."""
    from stack import control

    customer = new_customer(balance="100.00")
    token = api.login(customer["email"], customer["password"])
    # nginx skips a server for its fail_timeout (5 s) after a failure (the previous test's kill -9),
    # and once the hung server has timed out a request, the rest of this test goes by within that
    # window: wait until nginx alternates again and its next request goes to appserver1, so that
    # the first request the hung server gets is the first POST.
    answered = []
    wait_until("nginx to send the next request to appserver1", lambda: answered.append(
        api.get("/api/healthcheck").json()["instance"]) or answered[-2:] == ["appserver1", "appserver2"],
        timeout=20, interval=0.05)
    control.monit(stack, "unmonitor", "appserver1")  # keep Monit from restarting the hung server
    pid = int(stack.pidfile("appserver1").read_text())
    os.kill(pid, signal.SIGSTOP)
    try:
        booked = []
        for amount in ("1.00", "2.00", "3.00"):
            booked.append(api.send_money(token, "AT151000100000000004", amount, "Interspar"))
    finally:
        os.kill(pid, signal.SIGCONT)
        control.monit(stack, "monitor", "appserver1")
    time.sleep(2)  # the woken server works through the requests it had received
    assert [b["status"] for b in booked] == ["booked"] * 3
    assert api.get("/api/account", token).json()["balance"] == "94.00"
    with db_engine.connect() as conn:
        count = conn.execute(text("SELECT COUNT(*) FROM transfers t JOIN accounts a ON a.id = t.sender_account_id"
                                  " WHERE a.user_id = :u"), {"u": customer["userId"]}).scalar_one()
    assert count == 3
    assert ledger_audit() == []
    access_log = (stack.logs / "nginx" / "access.log").read_text().splitlines()
    retried = [line for line in access_log if f":{stack.ports['app1']}, " in line and '"method":"POST"' in line]
    assert retried, "no POST was retried from the hung server to the other one"


def test_the_monthly_limit_holds_for_confirmations_that_wait_for_each_other(stack, api, new_customer, db_engine,
                                                                           ledger_audit):
    """Two confirmations, each within the limit, together over it, both waiting for the sender's
    account lock (held here): the second to get it must count the first one's booking, although
    that was committed after the second's transaction took its snapshot."""
    from concurrent.futures import ThreadPoolExecutor

    from stack.database import root_sql

    customer = new_customer(balance="1000.00", limit="50.00")
    token = api.login(customer["email"], customer["password"])
    first, second = direct_clients(stack)
    transfers = []
    for _ in range(2):
        created = api.create_transfer(token, "AT151000100000000004", "30.00", "Interspar")
        assert created.status_code == 201
        transfers.append((created.json()["id"], api.tan_for(token, created.json()["id"])))
    with db_engine.connect() as holder, ThreadPoolExecutor(2) as pool:
        holder.execute(text("SELECT id FROM accounts WHERE id = :a FOR UPDATE"), {"a": customer["accountId"]})
        answers = [pool.submit(server.confirm, token, transfer_id, tan)
                   for server, (transfer_id, tan) in zip((first, second), transfers, strict=True)]
        wait_until("both confirmations to wait for the account's lock", lambda: int(root_sql(
            stack, "SELECT COUNT(*) FROM information_schema.INNODB_LOCK_WAITS").strip()) >= 2, timeout=20,
            interval=0.05)
        holder.commit()
        outcomes = sorted((a.result().status_code, a.result().json().get("error", {}).get("code")) for a in answers)
    assert outcomes == [(200, None), (409, "monthly_limit_exceeded")], outcomes
    assert api.get("/api/account", token).json()["balance"] == "970.00"
    assert ledger_audit() == []
