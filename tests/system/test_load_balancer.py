"""HAProxy between nginx and the app servers: its checks see the app server only (not the database,
not a slow request, not a sign-in's bcrypt), its timeouts let a healthy slow request finish, its own
answers are JSON in the API's shape, and WebSockets pass through it."""

import json
import re
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import text

from stack import haproxy
from tests.api_client import SEED_IBANS
from tests.polling import wait_until
from tests.ws_client import connect_notifications


def liveness_ms(port: int) -> float:
    started = time.perf_counter()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/liveness", timeout=10) as response:
        assert json.load(response)["status"] == "alive"
    return (time.perf_counter() - started) * 1000


def test_liveness_needs_no_database_and_is_what_haproxy_checks(stack):
    for server in stack.app_servers:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/api/liveness", timeout=5) as response:
            assert json.load(response) == {"status": "alive", "instance": server.name,
                                           "pid": int(stack.pidfile(server.name).read_text())}
    config = (stack.conf / "haproxy.cfg").read_text()
    assert "http-check send meth GET uri /api/liveness" in config
    assert "GET /api/liveness" not in (stack.logs / "appserver1.log").read_text()  # polled 4x a second: not logged


def test_liveness_answers_fast_while_sign_ins_hash_passwords(stack):
    """bcrypt (~250 ms a hash at 12 rounds) runs in gevent's thread pool: the event loop stays free,
    so the checks keep passing during a burst of sign-ins. Were it run on the loop, ten sign-ins on
    one server would stall it for seconds."""
    from tests.api_client import ApiClient

    server = stack.app_servers[0]
    direct = ApiClient(f"http://127.0.0.1:{server.port}")
    # the seed customers have 12-round hashes (the tests' own customers have 4)
    with ThreadPoolExecutor(10) as pool:
        sign_ins = [pool.submit(direct.login_seed, "max") for _ in range(10)]
        time.sleep(0.1)
        timings = []
        while not all(f.done() for f in sign_ins):
            timings.append(liveness_ms(server.port))
            time.sleep(0.05)
        for future in sign_ins:
            assert future.result()
    assert timings, "the sign-ins were over before liveness was asked"
    assert max(timings) < 1000, f"liveness took up to {max(timings):.0f} ms while sign-ins hashed: {timings}"


def test_a_slow_healthy_request_is_answered_and_keeps_its_server_in_rotation(stack, api, new_customer, db_engine):
    """A transfer that waits 2.5 s for a database row lock (held here) is answered once, not cut by a
    timeout, not resent, and its app server stays in rotation all along."""
    customer = new_customer(balance="50.00")
    token = api.login(customer["email"], customer["password"])
    before = {name: (row["wretr"], row["wredis"]) for name, row in haproxy.servers(stack).items()}
    answer = {}

    def create():
        started = time.monotonic()
        answer["response"] = api.create_transfer(token, SEED_IBANS["interspar"], "5.00", "Interspar")
        answer["seconds"] = time.monotonic() - started

    with db_engine.connect() as conn:
        conn.execute(text("SELECT id FROM accounts WHERE id = :a FOR UPDATE"), {"a": customer["accountId"]})
        request = threading.Thread(target=create)
        request.start()
        states = []
        deadline = time.monotonic() + 2.5
        while time.monotonic() < deadline:
            states.append(haproxy.states(stack))
            time.sleep(0.1)
        conn.rollback()  # releases the lock
    request.join(30)
    assert answer["response"].status_code == 201, answer["response"].text
    assert answer["seconds"] >= 2.4, "the request did not wait for the lock: the test proves nothing"
    assert all(set(s.values()) == {"UP"} for s in states), [s for s in states if set(s.values()) != {"UP"}][:3]
    after = {name: (row["wretr"], row["wredis"]) for name, row in haproxy.servers(stack).items()}
    assert after == before, "HAProxy resent a request that was only slow"
    with db_engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM transfers WHERE sender_account_id = :a"),
                            {"a": customer["accountId"]}).scalar_one() == 1


def test_haproxys_own_answers_are_json_in_the_api_shape(stack, api):
    # every app server out of rotation (and its fallback): HAProxy itself answers, through nginx
    for server in stack.app_servers:
        haproxy.set_state(stack, server.name, "maint")
    try:
        response = api.get("/api/user")
    finally:
        for server in stack.app_servers:
            haproxy.set_state(stack, server.name, "ready")
    assert response.status_code == 503
    assert response.headers["Content-Type"] == "application/json" and response.headers["Retry-After"] == "1"
    assert response.json() == {"error": {"code": "service_unavailable",
                                         "message": "No app server can answer right now. Please retry."}}
    # every answer HAProxy makes itself is declared in the same shape, with its content type
    declared = dict(re.findall(r"http-error status (\d+) content-type application/json string '([^']+)'",
                               (stack.conf / "haproxy.cfg").read_text()))
    assert set(declared) >= {"400", "403", "408", "500", "502", "503", "504"}
    for status, body in ((s, b) for s, b in declared.items() if s != "200"):  # 200: its own /healthz
        assert set(json.loads(body)["error"]) == {"code", "message"}, status
    wait_until("every app server back in rotation", lambda: haproxy.in_rotation(stack) == {
        s.name for s in stack.app_servers}, timeout=30)


def test_a_websocket_through_nginx_and_haproxy_gets_notifications(stack, api, new_customer):
    sender, recipient = new_customer(), new_customer(balance="0.00")
    sender_token = api.login(sender["email"], sender["password"])
    ws = connect_notifications(f"wss://localhost:{stack.ports['https']}/api/ws",
                               api.login(recipient["email"], recipient["password"]))
    try:
        assert ws.inbox[0]["type"] == "welcome"
        booked = api.send_money(sender_token, recipient["iban"], "2.50", "R")
        assert ws.wait_for(lambda m: m.get("type") == "transfer_received")["transferId"] == booked["id"]
    finally:
        ws.close()
    config = (stack.conf / "haproxy.cfg").read_text()
    assert "timeout tunnel 1h" in config  # an open socket outlives every request timeout
