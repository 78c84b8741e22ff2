"""PiggyBank application server: `create_app` builds one Flask app; `python -m app` serves it."""

from datetime import timedelta

from flask_openapi3 import Info, OpenAPI

from app.config import Config

SECURITY_SCHEMES = {"jwt": {"type": "apiKey", "in": "header", "name": "Authorization",
                            "description": "`JWT <token>` with the access_token from POST /auth"}}


class PiggyBank(OpenAPI):
    """flask-openapi3's app, with Flask's check of each view and hook for a coroutine made once per
    function instead of on every call (inspect's iscoroutinefunction, several times a request;
    callgrind, docs/benchmarks.md "Seventh pass"). `ensure_sync` is Flask's documented place for it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._synced: dict = {}

    def ensure_sync(self, func):
        synced = self._synced.get(func)
        if synced is None:
            synced = self._synced[func] = super().ensure_sync(func)
        return synced


def create_app(test_config: dict | None = None) -> OpenAPI:
    from app import db, live, log, metrics
    from app.api import init_app as init_api
    from app.api.errors import validation_error_response
    from app.api.schemas import ErrorOut

    app = PiggyBank(
        __name__,
        info=Info(title="PiggyBank API", version="1.0.0",
                  description="Accounts, activity, mTAN-confirmed transfers, statistics and notifications."),
        security_schemes=SECURITY_SCHEMES,
        doc_prefix="/api", doc_url="/openapi.json", doc_ui=False,
        validation_error_status=400, validation_error_model=ErrorOut,
        validation_error_callback=validation_error_response,
    )
    app.config.update(Config.from_env() if test_config is None else test_config)
    app.config["TAN_LIFETIME"] = timedelta(seconds=app.config["TAN_LIFETIME_SECONDS"])
    app.json.sort_keys = False
    if not app.config.get("JWT_SECRET_KEY"):
        raise RuntimeError("PIGGY_JWT_SECRET is not set (the launcher writes it to the secrets file)")

    db.init_app(app)
    log.init_app(app)
    metrics.init_app(app)
    init_api(app)
    live.init_app(app)
    return app
