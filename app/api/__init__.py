"""HTTP routes: one blueprint per feature; each parses, calls app.bank, and answers."""

from app.api.schemas import ErrorOut


def responses(ok_status: int, ok_model, *error_statuses: int) -> dict:
    """The documented responses of a route: its success, its errors, and 503 (database down)."""
    return {ok_status: ok_model, **{status: ErrorOut for status in (*error_statuses, 503)}}


def init_app(app) -> None:
    from app.api import account, auth, errors, health, notifications, stats, transfers, user

    errors.init_app(app)
    auth.init_app(app)
    for module in (auth, user, account, transfers, stats, notifications, health):
        app.register_api(module.bp)
    # The document is generated from the same pydantic models that validate the requests.
    app.add_url_rule("/api/openapi.json", "openapi_document", lambda: app.api_doc)
