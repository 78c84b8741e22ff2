"""POST /auth (e-mail and password → JWT), POST /auth/logout, and the token rules.

Tokens are sent as `Authorization: JWT <token>`, as the original documented. A token is refused
once its user is gone or it was logged out; both are checked in the database, so a logout on one
app server holds on the other.
"""

from datetime import UTC, datetime
from functools import wraps

from flask import current_app
from flask_jwt_extended import JWTManager, create_access_token, get_jwt, get_jwt_identity, verify_jwt_in_request
from flask_openapi3 import APIBlueprint, Tag
from sqlalchemy import text

from app import db, metrics
from app.api import operation_id, responses
from app.api.errors import WWW_AUTHENTICATE, error_response
from app.api.schemas import LoginIn, LogoutOut, TokenOut
from app.bank import users
from app.bank.errors import AccountLocked, InvalidCredentials

jwt = JWTManager()
SECURITY = [{"jwt": []}]
tag = Tag(name="auth", description="Sign in and out")
bp = APIBlueprint("auth", __name__, url_prefix="/auth", abp_tags=[tag], operation_id_callback=operation_id)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def login_required(view):
    """Like flask-jwt-extended's jwt_required, with the caller's id as `user_id` for the view."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        verify_jwt_in_request()
        return view(*args, user_id=int(get_jwt_identity()), **kwargs)
    return wrapper


@bp.post("", responses=responses(200, TokenOut, 401, 429))
def login(body: LoginIn):
    """Sign in with e-mail and password; answers a JWT for the Authorization header."""
    policy = users.LoginPolicy(current_app.config["LOGIN_MAX_FAILURES"], current_app.config["LOGIN_LOCK_SECONDS"])
    try:
        user_id = users.authenticate(db.unit_of_work, body.username, body.password, policy, utcnow())
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
def logout(user_id: int):
    """Revoke the token the request carries, on every app server."""
    claims = get_jwt()
    with db.unit_of_work() as conn:
        conn.execute(text("INSERT IGNORE INTO revoked_tokens (jti, expires_at) VALUES (:j, FROM_UNIXTIME(:e))"),
                     {"j": claims["jti"], "e": claims["exp"]})
        conn.commit()
    return {"revoked": True}


def is_refused(claims: dict) -> bool:
    """True when the token's user no longer exists or the token was logged out (one query)."""
    with db.unit_of_work() as conn:
        row = conn.execute(
            text("SELECT EXISTS(SELECT 1 FROM users WHERE id = :u) AS user_exists,"
                 " EXISTS(SELECT 1 FROM revoked_tokens WHERE jti = :j) AS revoked"),
            {"u": int(claims["sub"]), "j": claims["jti"]}).one()
    return not row.user_exists or bool(row.revoked)


@jwt.token_in_blocklist_loader
def _refused(_header, claims):
    return is_refused(claims)


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


@jwt.revoked_token_loader
def _revoked(_header, _claims):
    return _unauthorized("This token was signed out. Please sign in again.")


def init_app(app) -> None:
    app.config.setdefault("JWT_HEADER_TYPE", "JWT")
    app.config.setdefault("JWT_TOKEN_LOCATION", ["headers"])
    jwt.init_app(app)
