"""Live notifications: a transfer booked on one app server reaches a WebSocket held by the other,
missed ones are delivered after reconnecting, and nginx proxies the WebSocket over TLS."""

import time

from tests.api_client import ApiClient
from tests.ws_client import WebSocket, connect_notifications


def test_a_transfer_booked_on_one_server_reaches_a_socket_on_the_other(stack, api, new_customer):
    sender, recipient = new_customer(), new_customer(balance="0.00")
    sender_token = api.login(sender["email"], sender["password"])
    recipient_token = api.login(recipient["email"], recipient["password"])
    app1, app2 = (f"127.0.0.1:{s.port}" for s in stack.app_servers)
    ws = connect_notifications(f"ws://{app2}/api/ws", recipient_token)
    try:
        assert ws.inbox[0] == {"type": "welcome", "instance": "appserver2"}
        booked = ApiClient(f"http://{app1}").send_money(sender_token, recipient["iban"], "7.77", "R")
        started = time.monotonic()
        message = ws.wait_for(lambda m: m.get("type") == "transfer_received", timeout=5)
        assert time.monotonic() - started < 1.5
        assert message["transferId"] == booked["id"] and message["amount"] == "7.77"
        assert message["from"] == sender["name"] and message["fromIban"] == sender["iban"]
    finally:
        ws.close()


def test_missed_notifications_arrive_after_reconnecting(stack, api, new_customer):
    sender, recipient = new_customer(), new_customer(balance="0.00")
    sender_token = api.login(sender["email"], sender["password"])
    recipient_token = api.login(recipient["email"], recipient["password"])
    ws = connect_notifications(f"wss://localhost:{stack.ports['https']}/api/ws", recipient_token)
    api.send_money(sender_token, recipient["iban"], "1.00", "R")
    first = ws.wait_for(lambda m: m.get("type") == "transfer_received")
    ws.close()
    missed = [api.send_money(sender_token, recipient["iban"], amount, "R")["id"] for amount in ("2.00", "3.00")]
    ws = connect_notifications(f"wss://localhost:{stack.ports['https']}/api/ws", recipient_token, first["id"])
    try:
        ws.wait_for(lambda m: m.get("transferId") == missed[1])
        received = [m["transferId"] for m in ws.inbox if m.get("type") == "transfer_received"]
        assert received == missed  # in order, each once, nothing from before lastId
    finally:
        ws.close()


def test_a_socket_without_a_valid_token_is_closed(stack):
    ws = WebSocket(f"ws://127.0.0.1:{stack.ports['app1']}/api/ws")
    ws.send({"type": "auth", "token": "not-a-token"})
    assert ws.wait_for(lambda m: m.get("type") == "error")["code"] == "unauthorized"
    ws._pump_until(lambda: ws.closed is not None, 5)
    assert ws.closed == 4401


def test_a_logged_out_token_cannot_open_a_socket(stack, api):
    token = api.login_seed("erika")
    api.post("/auth/logout", token)
    ws = WebSocket(f"wss://localhost:{stack.ports['https']}/api/ws")
    ws.send({"type": "auth", "token": token})
    assert ws.wait_for(lambda m: m.get("type") == "error")["code"] == "unauthorized"
