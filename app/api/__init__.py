"""HTTP routes: one blueprint per feature; each parses, calls app.bank, and answers.

`responses` declares every answer an operation can give, whichever layer gives it: the app server
(its success, validation, the business rules, the database) or nginx in front of it (an undeclared
method, a body or URL too large, the sign-in rate limit, no app server reachable), which answers
in the same JSON error shape (nginx/nginx.conf.j2).
"""

ERROR_SCHEMA = {"$ref": "#/components/schemas/ErrorOut"}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying", "required": True,
                               "schema": {"type": "string", "pattern": "^[0-9]+$"}}}
# What each error status means in this API (the message of each error says the particular reason).
MEANING = {
    400: ("The request doesn't match this document (or is malformed); details.problems names each field", {}),
    401: ("Sign in first: no token, an invalid or expired one, or one that was signed out",
          {"WWW-Authenticate": {"description": "The scheme: JWT", "required": True, "schema": {"type": "string"}}}),
    404: ("No such resource for this customer", {}),
    405: ("Not a method of this path; Allow lists the ones it has",
          {"Allow": {"description": "The methods of this path", "required": True, "schema": {"type": "string"}}}),
    409: ("A business rule closes this transfer (funds, monthly limit, cancelled after wrong mTANs)", {}),
    410: ("The mTAN has expired; start a new transfer", {}),
    413: ("The body is larger than 64 KiB", {}),
    414: ("The URL is longer than 8 KiB", {}),
    422: ("Well-formed, but a business rule refuses it; error.code names the rule", {}),
    429: ("Too many attempts; retry after Retry-After seconds", RETRY_AFTER),
    503: ("No app server or the database can't answer right now; retry after Retry-After seconds", RETRY_AFTER),
}
# Every operation can get these: from validation, from nginx, or when nothing behind nginx answers.
EVERY_OPERATION = (400, 405, 413, 414, 503)


def error_response(status: int, schema: dict | None = None) -> dict:
    description, headers = MEANING[status]
    response = {"description": description, "content": {"application/json": {"schema": schema or ERROR_SCHEMA}}}
    if headers:
        response["headers"] = headers
    return response


def responses(ok_status: int, ok_model, *error_statuses: int) -> dict:
    """The documented responses of an operation: its success, the errors of its own rules, and
    those every operation can get."""
    return {ok_status: ok_model,
            **{status: error_response(status) for status in sorted({*error_statuses, *EVERY_OPERATION})}}


def operation_id(*, name: str, path: str, method: str) -> str:
    """Operations are named after their view functions (create_transfer, get_transfer...)."""
    return name


def methods_by_rule(app) -> dict[str, list[str]]:
    """The methods of each API path (Flask's URL rules under /api and /auth), as the Allow header lists them."""
    methods: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(("/api/", "/auth")):
            methods.setdefault(rule.rule, set()).update(rule.methods or ())
    return {rule: sorted(found) for rule, found in sorted(methods.items())}


def init_app(app) -> None:
    from app.api import account, auth, errors, health, notifications, stats, transfers, user

    errors.init_app(app)
    auth.init_app(app)
    for module in (auth, user, account, transfers, stats, notifications, health):
        app.register_api(module.bp)
    # The document is generated from the same pydantic models that validate the requests.
    app.add_url_rule("/api/openapi.json", "openapi_document", lambda: app.api_doc)
