"""POST /auth (e-mail and password → JWT), POST /auth/logout, and the token rules.

Tokens are sent as `Authorization: JWT <token>`, as the original documented. A token is refused
once its user is gone or it was logged out; both are checked in the database by the first
statement of the request's own unit of work (`run_signed_in`), so a logout on one app server holds
on the other at the very next request, at no extra round trip where the route needs the caller's
row anyway.
"""

import time
from datetime import UTC, date, datetime
from functools import lru_cache, wraps

from flask import current_app, request
from flask_jwt_extended import JWTManager, create_access_token, decode_token
from flask_jwt_extended.exceptions import InvalidHeaderError, NoAuthorizationError, WrongTokenError
from flask_openapi3 import APIBlueprint, Tag
from jwt import ExpiredSignatureError

from app import db, metrics
from app.api import operation_id, responses
from app.api.errors import WWW_AUTHENTICATE, error_response
from app.api.schemas import LoginIn, LogoutOut, TokenOut
from app.bank import users
from app.bank.errors import AccountLocked, InvalidCredentials, SessionEnded

jwt = JWTManager()
SECURITY = [{"jwt": []}]
tag = Tag(name="auth", description="Sign in and out")
bp = APIBlueprint("auth", __name__, url_prefix="/auth", abp_tags=[tag], operation_id_callback=operation_id)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@lru_cache(maxsize=2048)
def _verified_claims(token: str, secret: str) -> dict:
    """flask-jwt-extended's decode (signature, nbf, iat, its own claims), once per token and
    secret: it is a pure function of both (expiry aside, checked on every use), and PyJWT 2.15
    parses a token three times in it (~140 µs, the largest cost of a signed-in read)."""
    return decode_token(token, allow_expired=True)


def _token_from_header() -> str:
    # flask-jwt-extended's verify_jwt_in_request would decode the token again on every request and
    # run the revocation check in a database checkout of its own, before the view's.
    header = request.headers.get("Authorization", "").strip()
    if not header:
        raise NoAuthorizationError("Missing Authorization Header")
    parts = header.split()
    if parts[0] != "JWT":
        raise NoAuthorizationError("Missing 'JWT' type in 'Authorization' header. Expected 'Authorization: JWT <JWT>'")
    if len(parts) != 2:
        raise InvalidHeaderError("Bad Authorization header. Expected 'Authorization: JWT <JWT>'")
    return parts[1]


def session_of(token: str) -> users.Session:
    """The session a token stands for, if its signature holds and it has not expired (the
    database's part, whether it was logged out, is `users.signed_in`). Raises flask-jwt-extended's
    and PyJWT's errors, which JWTManager answers with the loaders below."""
    claims = _verified_claims(token, current_app.config["JWT_SECRET_KEY"])
    if claims["type"] != "access":
        raise WrongTokenError("Only non-refresh tokens are allowed")
    if claims["exp"] <= time.time():
        expired = ExpiredSignatureError("Signature has expired")
        expired.jwt_header, expired.jwt_data = None, claims
        raise expired
    return users.Session(int(claims["sub"]), claims["jti"], int(claims["exp"]))


def login_required(view):
    """The view gets the caller's `session`; its work goes through `run_signed_in`."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        return view(*args, session=session_of(_token_from_header()), **kwargs)
    return wrapper


def run_signed_in(session: users.Session, use_case, spent_in: date | None = None,
                  idempotency_key: str | None = None, outbox: bool = False, autocommit: bool = False):
    """`use_case(conn, caller)` in one unit of work (db.run) whose first statement loads the
    caller's row and checks the session (users.signed_in, which says what `spent_in`,
    `idempotency_key` and `outbox` add to it). `autocommit`: for a use case that reads nothing
    more, or only what never changes (db.run)."""
    return db.run(lambda conn: use_case(conn, users.signed_in(conn, session, spent_in, idempotency_key, outbox)),
                  autocommit=autocommit)


@bp.post("", responses=responses(200, TokenOut, 401, 429))
def login(body: LoginIn):
    """Sign in with e-mail and password; answers a JWT for the Authorization header."""
    policy = users.LoginPolicy(current_app.config["LOGIN_MAX_FAILURES"], current_app.config["LOGIN_LOCK_SECONDS"])
    try:
        user_id = users.authenticate(db.run, body.username, body.password, policy, utcnow())
    except InvalidCredentials:
        metrics.LOGINS.labels("wrong").inc()
        raise
    except AccountLocked:
        metrics.LOGINS.labels("locked").inc()
        raise
    metrics.LOGINS.labels("ok").inc()
    lifetime = current_app.config["JWT_ACCESS_TOKEN_EXPIRES"]
    return {"access_token": create_access_token(identity=str(user_id)), "token_type": "JWT",
            "expires_in": int(lifetime.total_seconds())}


@bp.post("/logout", security=SECURITY, responses=responses(200, LogoutOut, 401))
@login_required
def logout(session: users.Session):
    """Revoke the token the request carries, on every app server. It needs a verified token, not a
    live session: logging out again (a retry) answers the same."""
    db.run(lambda conn: users.revoke(conn, session))
    return {"revoked": True}


def _unauthorized(message: str):
    return error_response(401, "unauthorized", message, headers={"WWW-Authenticate": WWW_AUTHENTICATE})


@jwt.unauthorized_loader
def _missing(reason):
    return _unauthorized(f"Sign in first: {reason}. Send 'Authorization: JWT <token>'.")


@jwt.invalid_token_loader
def _invalid(reason):
    return _unauthorized(f"The token is invalid: {reason}.")


@jwt.expired_token_loader
def _expired(_header, _claims):
    return _unauthorized("The session has expired. Please sign in again.")


def _session_ended(error: SessionEnded):
    return _unauthorized(error.message)


def init_app(app) -> None:
    app.config.setdefault("JWT_HEADER_TYPE", "JWT")
    app.config.setdefault("JWT_TOKEN_LOCATION", ["headers"])
    jwt.init_app(app)
    app.register_error_handler(SessionEnded, _session_ended)
