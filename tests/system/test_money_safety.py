"""Money is never lost or doubled: concurrent transfers on both app servers, retries that cross
app servers, a retry after the app server that took the first attempt was killed, and POSTs that
HAProxy resent from a hung app server, whose late copies run when it wakes up."""

import json
import os
import random
import re
import signal
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from sqlalchemy import bindparam, text

from tests.api_client import SEED_IBANS, ApiClient
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


def haproxy_retried(stack, since: int) -> dict[str, str]:
    """Requests HAProxy resent since a log offset: request id -> "METHOD path" (it logs only what went
    wrong, dontlog-normal: a resent request is logged with its retry count, "+" when redispatched)."""
    with (stack.logs / "haproxy.log").open() as log:
        log.seek(since)
        lines = log.read().splitlines()
    found = {}
    for line in lines:
        match = re.search(r" \d+/\d+/\d+/\d+/\+?([1-9]\d*) \S+ \{([0-9a-f]+)\} \"(\w+) (\S+) ", line)
        if match:
            found[match.group(2)] = f"{match.group(3)} {match.group(4)}"
    return found


def answered_by(stack, server: str, request_ids: set[str]) -> set[str]:
    """The request ids of `request_ids` that the app server logged as answered."""
    seen = set()
    for line in stack.logfile(server).read_text().splitlines():
        if '"request_id"' in line:
            record = json.loads(line)
            if record.get("request_id") in request_ids and record.get("path"):
                seen.add(record["request_id"])
    return seen


def posts_at(stack, server: str) -> int:
    """The POSTs HAProxy has sent (or queued) for `server` and not yet answered, from its streams
    (`show sess all`: `meth=3` is POST). Its session count would not do: the site's blackbox probe (a
    GET every 2 s) and leftovers of earlier tests are sessions on the server too."""
    from stack import haproxy

    streams = re.split(r"(?m)^0x[0-9a-f]+: ", haproxy.command(stack, "show sess all"))
    return sum(1 for stream in streams if re.search(rf"(?m)^  server={server} ", stream)
               and re.search(r"(?m)^  txn=\S+ flags=\S+ meth=3 ", stream))


def test_posts_resent_after_a_hang_book_once_and_the_late_copies_book_nothing(stack, api, new_customer, db_engine,
                                                                             ledger_audit):
    """HAProxy cuts the requests it had sent to a hung app server as soon as its checks mark it
    down, and resends them to another one. The hung server still has each request in its socket and
    runs it when it wakes up: the Idempotency-Key (new transfers) and the transfer's state
    (confirmations) must turn every such late copy into a no-op.

    So that the requests surely reach the hung server before its checks notice (on a busy machine
    they could arrive later than the checks' 0.6 s), its checks are paused and it is the only server
    in rotation while they are sent; then the other server comes back and the checks resume."""
    from stack import control, haproxy

    # A server that a test before this one killed may be healthy again but not yet back in HAProxy's
    # rotation (two passed checks), or still in its slow start, when HAProxy holds requests back in a
    # queue and sends them on later, even to a server that has meanwhile hung. Disabling its checks
    # now would keep it out or make the requests wait for their timeout.
    slowstart = int(re.search(r" slowstart (\d+)s ", (stack.conf / "haproxy.cfg").read_text()).group(1))
    wait_until("every app server in HAProxy's rotation, past its slow start", lambda: all(
        row["status"] == "UP" and int(row["lastchg"]) > slowstart for row in haproxy.servers(stack).values()))
    customer = new_customer(balance="100.00")
    token = api.login(customer["email"], customer["password"])
    pending = [api.create_transfer(token, SEED_IBANS["interspar"], amount, "Interspar").json()["id"]
               for amount in ("1.00", "2.00", "3.00")]
    tans = {transfer_id: api.tan_for(token, transfer_id) for transfer_id in pending}
    requests = [("confirm", transfer_id) for transfer_id in pending] + [("create", amount)
                                                                        for amount in ("4.00", "5.00", "6.00")]

    def send(request):
        kind, value = request
        if kind == "confirm":
            return api.confirm(token, value, tans[value])
        return api.create_transfer(token, SEED_IBANS["interspar"], value, "Interspar")

    def admin(line):
        assert haproxy.command(stack, line).strip() == "", line

    others = [s.name for s in stack.app_servers if s.name != "appserver1"]
    log_offset = (stack.logs / "haproxy.log").stat().st_size
    control.monit(stack, "unmonitor", "appserver1")  # keep Monit from replacing the hung server
    pid = int(stack.pidfile("appserver1").read_text())
    for name in others:
        haproxy.set_state(stack, name, "maint")
    admin("set server appservers/fallback-appserver1 state maint")
    admin("disable health appservers/appserver1")
    os.kill(pid, signal.SIGSTOP)
    try:
        with ThreadPoolExecutor(len(requests)) as pool:
            sent = [pool.submit(send, request) for request in requests]
            wait_until("HAProxy to have sent all six POSTs to the hung appserver1",
                       lambda: posts_at(stack, "appserver1") == len(requests), timeout=30, interval=0.05)
            for name in others:
                haproxy.set_state(stack, name, "ready")
            wait_until("the other app servers back in rotation", lambda: set(others) <= haproxy.in_rotation(stack))
            admin("enable health appservers/appserver1")  # now the checks find it hung
            answers = [future.result() for future in sent]
        assert haproxy.states(stack)["appserver1"] != "UP", "HAProxy did not take the hung server out"
        assert [a.status_code for a in answers] == [200, 200, 200, 201, 201, 201], [a.text for a in answers]
        created = [a.json()["id"] for a in answers[3:]]
        for transfer_id in created:  # with appserver1 out of rotation
            assert api.confirm(token, transfer_id, api.tan_for(token, transfer_id)).json()["status"] == "booked"
    finally:
        os.kill(pid, signal.SIGCONT)
        admin("enable health appservers/appserver1")
        admin("set server appservers/fallback-appserver1 state ready")
        for name in others:
            haproxy.set_state(stack, name, "ready")
        control.monit(stack, "monitor", "appserver1")
    resent = {rid: what for rid, what in haproxy_retried(stack, log_offset).items() if what.startswith("POST")}
    assert len(resent) == len(requests), f"HAProxy resent {resent}, not the six POSTs"
    # The woken server works through the copies it had received (answering into closed connections).
    wait_until("the woken appserver1 to have run the late copy of every resent POST",
               lambda: answered_by(stack, "appserver1", set(resent)) == set(resent), timeout=20)
    assert api.get("/api/account", token).json()["balance"] == "79.00"  # 100 - (1 + 2 + ... + 6), once each
    with db_engine.connect() as conn:
        transfers = conn.execute(text("SELECT t.status, COUNT(*) FROM transfers t JOIN accounts a"
                                      " ON a.id = t.sender_account_id WHERE a.user_id = :u GROUP BY t.status"),
                                 {"u": customer["userId"]}).all()
    assert dict(transfers) == {"booked": 6}
    assert ledger_audit() == []
    wait_until("appserver1 back in rotation", lambda: haproxy.states(stack)["appserver1"] == "UP", timeout=30)


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
    for server in (first, second):
        wait_until(f"{server.base} to be healthy", lambda s=server: s.get("/api/healthcheck").status_code == 200)
    transfers = []
    for _ in range(2):
        created = api.create_transfer(token, "AT151000100000000004", "30.00", "Interspar")
        assert created.status_code == 201
        transfers.append((created.json()["id"], api.tan_for(token, created.json()["id"])))
    with db_engine.connect() as holder, ThreadPoolExecutor(2) as pool:
        holder.execute(text("SELECT id FROM accounts WHERE id = :a FOR UPDATE"), {"a": customer["accountId"]})
        answers = [pool.submit(server.confirm, token, transfer_id, tan)
                   for server, (transfer_id, tan) in zip((first, second), transfers, strict=True)]

        def both_waiting() -> bool:
            for answer in answers:  # an answer now means it never waited: say what it was
                if answer.done():
                    pytest.fail(f"a confirmation answered while the lock was held: {answer.result().status_code}"
                                f" {answer.result().text}")
            return int(root_sql(stack, "SELECT COUNT(*) FROM information_schema.INNODB_LOCK_WAITS").strip()) >= 2

        wait_until("both confirmations to wait for the account's lock", both_waiting, timeout=20, interval=0.05)
        holder.commit()
        outcomes = sorted((a.result().status_code, a.result().json().get("error", {}).get("code")) for a in answers)
    assert outcomes == [(200, None), (409, "monthly_limit_exceeded")], outcomes
    assert api.get("/api/account", token).json()["balance"] == "970.00"
    assert ledger_audit() == []
