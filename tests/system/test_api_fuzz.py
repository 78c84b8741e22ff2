"""The API against its own document (schemathesis), through nginx on the test stack.

1. The fuzz of `make fuzz` (load/fuzz.py), short and reproducible: a fixed seed, deterministic
   generation and a bounded number of cases per operation, every check and every phase. A red run
   is a change in the code, never the luck of the draw; the output names the case to replay.
2. The cases that explorations found, fixed: each request, its status, and that the answer
   conforms to the document (status, content type, headers, body). A new finding of `make fuzz`
   gets a line in FOUND.
"""

import json
import os
import subprocess
import uuid

import pytest
import schemathesis

from tests.api_client import SEED_IBANS

FUZZ_SEED = 20261201
FUZZ_CASES = 5  # per operation and phase: about a minute on a quiet machine


def test_the_fuzz_with_a_fixed_seed_finds_nothing(stack, tmp_path):
    env = {**os.environ, "PIGGY_RUN_DIR": str(stack.run), "PIGGY_PORT_OFFSET": stack.env["PIGGY_PORT_OFFSET"],
           "PYTHONPATH": str(stack.root)}
    done = subprocess.run([str(stack.python), "-m", "load.fuzz", "--seed", str(FUZZ_SEED), "--max-time", "0",
                           "--max-examples", str(FUZZ_CASES), "--out", str(tmp_path)],
                          cwd=stack.root, env=env, capture_output=True, text=True, timeout=900)
    (summary_file,) = tmp_path.glob("fuzz-*/summary.json")
    summary = json.loads(summary_file.read_text())
    assert done.returncode == 0 and summary["failures"] == [], done.stdout[-12000:] + done.stderr[-3000:]
    assert summary["seed"] == FUZZ_SEED and len(summary["operations"]) >= 15 and summary["stateful_scenarios"] > 0
    assert {"positive_data_acceptance", "negative_data_rejection", "unsupported_method", "ignored_auth",
            "object_level_authorization", "response_schema_conformance"} <= set(summary["checks"])


def key() -> dict:
    return {"Idempotency-Key": str(uuid.uuid4())}


TRANSFER = {"recipientIban": SEED_IBANS["gabi"], "recipientName": "Gabi", "amount": "1.00"}
# (what was found, method, path, request, status): each a request an exploration answered wrongly once.
FOUND = [
    # The first failure of the issue: the 400 body is one error object, and the document says so.
    ("a name that is only U+0085 (NEL)", "POST", "/api/transfers",
     {"body": {**TRANSFER, "recipientName": "\u0085"}, "headers": key}, 400),
    ("a zero amount is a format error, not a business rule", "POST", "/api/transfers",
     {"body": {**TRANSFER, "amount": "0"}, "headers": key}, 400),
    ("an IBAN with a character no IBAN has", "POST", "/api/transfers",
     {"body": {**TRANSFER, "recipientIban": "AT69-1000-1000-0000-0002"}, "headers": key}, 400),
    ("a cursor of the right form that was never handed out is just a position", "GET", "/api/account/activity",
     {"query": {"cursor": "0-0"}}, 200),
    ("a cursor of the wrong form", "GET", "/api/account/activity", {"query": {"cursor": "bm90IGEgY3Vyc29y"}}, 400),
    ("a day given as a number of seconds", "GET", "/api/account/activity", {"query": {"to": "0"}}, 400),
    ("a day given as a number of seconds", "GET", "/api/stats", {"query": {"to": "0"}}, 400),
    ("false is not an id", "POST", "/api/notifications/read", {"body": {"upTo": False}}, 400),
    ("116627.0 is an integer to JSON Schema (seed 11394191144590755530)", "POST", "/api/notifications/read",
     {"body": {"upTo": 116627.0}}, 200),
    ("a wrong password names the scheme (WWW-Authenticate)", "POST", "/auth",
     {"body": {"username": "nobody@example.com", "password": "x"}}, 401),
]


@pytest.fixture(scope="module")
def schema(api):
    return schemathesis.openapi.from_dict(api.get("/api/openapi.json").json())


@pytest.mark.parametrize("found, method, path, request_parts, status", FOUND, ids=[f[0] for f in FOUND])
def test_what_explorations_found(stack, api, schema, new_customer, found, method, path, request_parts, status):
    customer = new_customer()
    token = api.login(customer["email"], customer["password"])
    parts = {name: value() if callable(value) else value for name, value in request_parts.items()}
    case = schema[path][method].Case(**parts)
    response = case.call_and_validate(base_url=stack.url("").rstrip("/"), verify=str(stack.tls / "cert.pem"),
                                      headers={"Authorization": f"JWT {token}", **parts.get("headers", {})})
    assert response.status_code == status, response.text
    if status >= 400:
        assert response.headers["content-type"] == ["application/json"]  # schemathesis: lists, lower case
        assert set(response.json()["error"]) >= {"code", "message"}
