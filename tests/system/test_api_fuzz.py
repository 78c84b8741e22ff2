"""Property-based fuzz of every operation in the OpenAPI document (schemathesis + hypothesis),
against the running test stack: no 5xx, and every response (status code, content type, headers,
body) matches the document. Valid and invalid inputs are both generated."""

import time
import uuid

import jwt
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.api_client import new_session

EXAMPLES_PER_OPERATION = 25


def fuzzer(operation, base_url: str, ca_file: str, token_for):
    """A hypothesis test that calls one operation with generated cases and validates the answers."""
    session = new_session()

    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def fuzz(case):
        case.call_and_validate(base_url=base_url, session=session, verify=ca_file,
                               headers={"Authorization": f"JWT {token_for(operation.path)}"},
                               # business rules rightly refuse some schema-valid input (an unknown IBAN, a
                               # wrong mTAN) with a documented 4xx; everything else is checked
                               excluded_checks=[positive_data_acceptance])

    return fuzz


def fresh_token(secret: str, user_id: int) -> str:
    """A token as the server issues it, without a bcrypt-priced sign-in per generated case."""
    now = int(time.time())
    claims = {"sub": str(user_id), "jti": str(uuid.uuid4()), "type": "access", "fresh": False,
              "iat": now, "nbf": now, "exp": now + 600}
    return jwt.encode(claims, secret, algorithm="HS256")


def test_every_operation_honours_the_document(stack, api, app_config, new_customer):
    schema = schemathesis.openapi.from_dict(api.get("/api/openapi.json").json())
    customer = new_customer()  # the fuzz changes its limit and more: not a seed user other tests rely on
    token = api.login(customer["email"], customer["password"])

    def token_for(path: str) -> str:
        # logging out revokes the token it carries, so that operation gets a token of its own
        return fresh_token(app_config["JWT_SECRET_KEY"], customer["userId"]) if path == "/auth/logout" else token

    failures, operations = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        try:
            fuzzer(operation, stack.url(""), str(stack.tls / "cert.pem"), token_for)()
        except Exception as error:  # noqa: BLE001 - collect every operation's failure, then report all
            failures.append(f"{operation.label}: {error}")
    assert operations >= 15
    assert not failures, "\n\n".join(failures)
