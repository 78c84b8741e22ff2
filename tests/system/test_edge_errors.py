"""Errors nginx answers itself, through the real nginx of the test stack: under /api and /auth they
have the API's JSON shape, the right Content-Type and the headers they promise (405 with Allow, 429
and 503 with Retry-After), and the API's document lists them; the browser app's pages keep HTML."""

import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from stack import control, drill
from tests.api_client import SEED_IBANS, new_session
from tests.polling import wait_until

ALLOW_OF_USER = "GET, HEAD, OPTIONS"  # GET /api/user (Flask adds HEAD and OPTIONS to every GET rule)


def assert_json_error(response, status: int, code: str):
    assert response.status_code == status, (response.status_code, response.headers, response.text[:300])
    assert response.headers["Content-Type"] == "application/json", response.headers
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"], body


@pytest.fixture(scope="module")
def document(api) -> dict:
    return api.get("/api/openapi.json").json()


@pytest.mark.parametrize("method", ["TRACE", "PROPFIND", "DELETE"])
def test_an_undeclared_method_is_405_json_with_the_paths_methods(api, method):
    """TRACE is refused by nginx itself, before it picks a location; PROPFIND and DELETE reach the app."""
    response = api.request(method, "/api/user", api.login_seed("erika"))
    assert_json_error(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == ALLOW_OF_USER


def test_nginx_and_the_app_list_the_same_methods_for_every_path(api, document):
    """nginx's Allow is rendered from the app's URL rules: for every path of the document, its answer
    to TRACE (its own) names the methods the app names for PROPFIND."""
    for path in document["paths"]:
        concrete = path.replace("{transfer_id}", "1")
        by_nginx, by_app = api.request("TRACE", concrete), api.request("PROPFIND", concrete)
        assert_json_error(by_nginx, 405, "method_not_allowed")
        assert by_app.status_code == 405, (path, by_app.status_code, by_app.text)
        assert by_nginx.headers["Allow"] == by_app.headers["Allow"], path
        assert {m.lower() for m in document["paths"][path]} <= {
            m.strip().lower() for m in by_nginx.headers["Allow"].split(",")}, path


def test_a_2_mb_body_is_413_json(api):
    token = api.login_seed("erika")
    body = '{"recipientName": "' + "x" * 2_000_000 + '"}'
    response = api.post("/api/transfers", token, data=body, headers={
        "Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())})
    assert_json_error(response, 413, "payload_too_large")


def test_a_20_kb_url_is_414_json_over_http_1_1_and_http_2(api, stack):
    url = "/api/user?filler=" + "a" * 20_000
    assert_json_error(api.get(url, api.login_seed("erika")), 414, "uri_too_long")  # requests: HTTP/1.1
    done = subprocess.run(["curl", "-sk", "--http2", "-o", "/dev/null", "-w",
                           "%{http_version} %{http_code} %{content_type}", stack.url(url)],
                          capture_output=True, text=True, timeout=15)
    assert done.stdout == "2 414 application/json", done


def test_the_sign_in_rate_limit_is_429_json_with_retry_after(api):
    """nginx answers 429 once a client exceeds the sign-in rate (the test stack allows 50/s, burst 100)."""
    session = new_session()

    def attempt(_):
        return session.post(api.base + "/auth", data="not json", timeout=10)

    with ThreadPoolExecutor(16) as pool:
        responses = list(pool.map(attempt, range(600)))
    statuses = {r.status_code for r in responses}
    assert 429 in statuses and statuses <= {400, 429}, statuses
    limited = next(r for r in responses if r.status_code == 429)
    assert_json_error(limited, 429, "rate_limited")
    assert limited.headers["Retry-After"] == "1"
    time.sleep(3)  # let the bucket refill for the tests that follow


def test_with_both_app_servers_stopped_the_api_is_503_json_and_pages_still_load(stack, api):
    token = api.login_seed("erika")
    for server in stack.app_servers:
        control.monit(stack, "stop", server.name)
    try:
        wait_until("both app servers to be stopped", lambda: not any(
            control.port_open(server.port) for server in stack.app_servers), timeout=30)
        for response in (api.get("/api/user", token), api.create_transfer(token, SEED_IBANS["gabi"], "1.00"),
                         api.post("/auth", json={"username": "erikatest@gmail.com", "password": "erikatest"})):
            assert_json_error(response, 503, "service_unavailable")
            assert response.headers["Retry-After"] == "1"
        page = api.get("/overview")
        assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    finally:
        for server in stack.app_servers:
            control.monit(stack, "start", server.name)
    # as the tests after this one expect them: each healthy on its own port (as the drill checks), and
    # both reached through nginx again
    healthy_in_a_row = []
    wait_until("both app servers to be healthy three times in a row", lambda: healthy_in_a_row.append(
        all(drill.healthy(stack, server.name) for server in stack.app_servers)) or healthy_in_a_row[-3:] == [True] * 3,
        timeout=90, interval=0.3)
    seen = set()
    wait_until("nginx to reach both app servers again", lambda: seen.add(
        api.get("/api/healthcheck").json().get("instance")) or len(seen - {None}) == 2, timeout=60, interval=0.1)


def test_the_browser_apps_pages_keep_html_errors(api, stack):
    for response in (api.request("TRACE", "/overview"), api.post("/", data="x" * 2_000_000),
                     api.get("/overview?filler=" + "a" * 40_000)):
        assert response.status_code in {405, 413, 414}, response.status_code
        assert response.headers["Content-Type"] == "text/html", response.headers
        assert response.text.startswith("<!doctype html>")


def test_the_document_lists_what_nginx_answers(document):
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            label = f"{method.upper()} {path}"
            for status in ("400", "405", "413", "414", "503"):
                assert status in responses, f"{label} does not list {status}"
            assert responses["405"]["headers"]["Allow"]["required"] is True, label
            assert responses["503"]["headers"]["Retry-After"]["required"] is True, label
            assert responses["400"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorOut"}, f"{label}: 400 is one error object, not a list"
    login = document["paths"]["/auth"]["post"]["responses"]
    assert "Retry-After" in login["429"]["headers"]
