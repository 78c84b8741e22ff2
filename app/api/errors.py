"""One JSON shape for every error: {"error": {"code", "message", "details"?}}.

Bank errors get the status that fits them; an unreachable database is a 503 the client may retry;
anything unexpected is a 500 whose text says nothing about the internals.
"""

import logging

from flask import jsonify
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from app import db
from app.bank import errors as bank

log = logging.getLogger(__name__)
WWW_AUTHENTICATE = 'JWT realm="PiggyBank"'

STATUS_OF = {
    bank.InvalidCredentials: 401,
    bank.NotFound: 404,
    bank.TransferClosed: 409,
    bank.TanExpired: 410,
    bank.InvalidRequest: 422,
    bank.IdempotencyMismatch: 422,
    bank.InvalidTan: 422,
    bank.AccountLocked: 429,
}


def error_response(status: int, code: str, message: str, details: dict | None = None, headers=None):
    body = {"error": {"code": code, "message": message}}
    if details:
        body["error"]["details"] = details
    response = jsonify(body)
    response.status_code = status
    response.headers.update(headers or {})
    return response


def validation_error_response(error: ValidationError):
    """flask-openapi3 calls this for a request that doesn't match its schema."""
    problems = [{"field": ".".join(str(p) for p in e["loc"]) or "body", "problem": e["msg"]}
                for e in error.errors(include_url=False, include_input=False, include_context=False)]
    first = problems[0] if problems else {"field": "body", "problem": "is invalid"}
    return error_response(400, "invalid_request", f"{first['field']}: {first['problem']}", {"problems": problems})


def _bank_error(error: bank.BankError):
    status = next(s for cls, s in STATUS_OF.items() if isinstance(error, cls))
    headers = {"Retry-After": str(error.details["retryAfter"])} if "retryAfter" in error.details else {}
    if status == 401:  # a 401 names the scheme that would be accepted (RFC 9110)
        headers["WWW-Authenticate"] = WWW_AUTHENTICATE
    return error_response(status, error.code, error.message, error.details or None, headers)


def _http_error(error: HTTPException):
    code = (error.name or "error").lower().replace(" ", "_")
    response = error_response(error.code or 500, code, error.description or error.name)
    if error.code == 405 and error.response is None:
        response.headers["Allow"] = ", ".join(sorted(error.valid_methods or []))  # as nginx's own 405 lists them
    return response


def _database_error(error: SQLAlchemyError):
    if isinstance(error, PoolTimeout):  # the database is fine; this app server's pool is exhausted
        log.warning("no database connection free within the pool timeout")
        return error_response(503, "server_busy", "This server is busy right now. Please retry.",
                              headers={"Retry-After": "1"})
    if db.is_unavailable(error):
        log.warning("database unavailable: %s", error.__class__.__name__)
        return error_response(503, "database_unavailable",
                              "The bank's database can't be reached right now. Please retry.",
                              headers={"Retry-After": "1"})
    return _unexpected(error)


def _unexpected(error: Exception):
    log.exception("unhandled error", exc_info=error)
    return error_response(500, "internal_error", "Something went wrong on our side. Please retry.")


def init_app(app) -> None:
    app.register_error_handler(bank.BankError, _bank_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(SQLAlchemyError, _database_error)
    app.register_error_handler(Exception, _unexpected)
