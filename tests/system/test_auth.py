"""Sign-in, the JWT header rules, lock-out and logout, through nginx on the test stack."""

import pytest

from tests.api_client import SEED_USERS


@pytest.mark.parametrize("who", sorted(SEED_USERS))
def test_each_seed_user_signs_in(api, who):
    response = api.post("/auth", json={"username": SEED_USERS[who][0], "password": SEED_USERS[who][1]})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "JWT" and body["expires_in"] == 900
    assert api.get("/api/user", body["access_token"]).status_code == 200


@pytest.mark.parametrize("body", [
    {"username": "maxmustermann@gmail.com", "password": "wrong"},
    {"username": "nobody@example.com", "password": "maxmustermann"},
    {"username": "maxmustermann@gmail.com", "password": "密" * 100},  # over bcrypt's 72 bytes
    {"username": "密" * 200, "password": "x"},
])
def test_wrong_password_and_unknown_user_are_401(api, body):
    response = api.post("/auth", json=body)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"


@pytest.mark.parametrize("body", [None, "not json", {}, {"username": "a@b.c"}, {"username": 1, "password": 2},
                                  {"username": "a@b.c", "password": "x", "extra": 1}])
def test_malformed_login_is_400_json(api, body):
    kwargs = {"data": body} if isinstance(body, str) else {"json": body}
    response = api.post("/auth", **kwargs)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"


def test_bearer_prefix_is_refused(api):
    token = api.login_seed("max")
    response = api.get("/api/user", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("header", [None, "JWT", "JWT not.a.token", "JWT a b"])
def test_missing_or_garbled_token_is_401(api, header):
    headers = {"Authorization": header} if header else {}
    response = api.get("/api/user", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_tampered_token_is_401(api):
    token = api.login_seed("gabi")
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{signature[:-4]}AAAA"
    assert api.get("/api/user", forged).status_code == 401


def test_expired_token_is_401(api, app_config):
    import datetime

    import jwt

    claims = {"sub": "1", "jti": "00000000-0000-0000-0000-000000000000", "type": "access", "fresh": False,
              "iat": datetime.datetime(2020, 1, 1), "nbf": datetime.datetime(2020, 1, 1),
              "exp": datetime.datetime(2020, 1, 1, 0, 15)}
    expired = jwt.encode(claims, app_config["JWT_SECRET_KEY"], algorithm="HS256")
    response = api.get("/api/user", expired)
    assert response.status_code == 401
    assert "expired" in response.json()["error"]["message"]


def test_logout_revokes_the_token_on_both_app_servers(api):
    token = api.login_seed("erika")
    assert api.post("/auth/logout", token).status_code == 200
    # round-robin spreads these over both app servers; the revocation lives in the database
    assert {api.get("/api/user", token).status_code for _ in range(6)} == {401}


def test_repeated_failures_lock_the_account_and_then_it_recovers(api, new_customer, db_engine):
    from sqlalchemy import text

    customer = new_customer()
    for _ in range(5):
        assert api.post("/auth", json={"username": customer["email"], "password": "wrong"}).status_code == 401
    locked = api.post("/auth", json={"username": customer["email"], "password": customer["password"]})
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "account_locked"
    assert int(locked.headers["Retry-After"]) > 0
    with db_engine.connect() as conn:  # let the lock run out instead of waiting a minute
        conn.execute(text("UPDATE users SET locked_until = UTC_TIMESTAMP() - INTERVAL 1 SECOND WHERE email = :e"),
                     {"e": customer["email"]})
        conn.commit()
    assert api.post("/auth", json={"username": customer["email"], "password": customer["password"]}).status_code == 200
