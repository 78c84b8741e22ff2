"""app/log.py: the access line, written by hand for its cost, has the shape python-json-logger
gives every other line: the same keys in the same order, the same time format, on the same stream."""

import io
import json
import logging
import re
import sys

import pytest
from flask import Flask

from app import log


@pytest.fixture
def stream(monkeypatch):
    captured = io.StringIO()
    monkeypatch.setattr(sys, "stderr", captured)
    saved = logging.getLogger().handlers[:], logging.getLogger().level
    log.configure("appserver7")
    yield captured
    logging.getLogger().handlers[:], level = saved
    logging.getLogger().setLevel(level)
    log.access_log.stream = log.access_log.instance = None


def served(path: str, headers: dict | None = None) -> Flask:
    app = Flask("t")
    log.init_app(app)
    app.add_url_rule("/<path:_p>", "any", lambda _p: ("nope", 404))
    app.test_client().get(path, headers=headers or {})
    return app


def lines(stream) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_the_access_line_has_the_keys_time_format_and_order_of_the_librarys_lines(stream):
    app = served("/api/user/%C3%A9", {"X-Request-ID": "r-1"})
    with app.test_request_context("/x"):
        from flask import request
        request.environ[log.REQUEST_ID] = "r-2"
        logging.getLogger(log.ACCESS_LOGGER).info("request", extra={
            "method": "GET", "path": "/api/user/é", "status": 404, "duration_ms": 1.5})
    by_hand, by_library = lines(stream)
    assert list(by_hand) == list(by_library)
    assert {**by_hand, "time": None, "duration_ms": None, "request_id": None} == {
        **by_library, "time": None, "duration_ms": None, "request_id": None}
    assert by_hand["request_id"] == "r-1" and by_hand["instance"] == "appserver7"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}", by_hand["time"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}", by_library["time"])
    raw_hand, raw_library = stream.getvalue().splitlines()
    assert "\\u00e9" in raw_hand and "\\u00e9" in raw_library  # both escape non-ASCII alike


def test_polled_paths_are_not_logged_and_a_request_without_an_id_gets_one(stream):
    served("/api/healthcheck")
    served("/metrics")
    served("/api/anything")
    (line,) = lines(stream)
    assert line["path"] == "/api/anything" and re.fullmatch(r"[0-9a-f]{32}", line["request_id"])


def test_the_access_line_follows_the_log_level(stream):
    logging.getLogger().setLevel(logging.WARNING)
    served("/api/anything")
    assert stream.getvalue() == ""


def test_without_configure_there_are_no_access_lines(capsys):
    served("/api/anything")
    assert capsys.readouterr().err == ""


def test_the_request_id_is_on_the_answer_and_on_every_line_logged_while_answering(stream):
    app = Flask("t")
    log.init_app(app)

    @app.route("/api/x")
    def view():
        logging.getLogger("piggybank.t").warning("while answering")
        return "ok"

    client = app.test_client()
    given = client.get("/api/x", headers={"X-Request-ID": "r-3"})
    made = client.get("/api/x")
    assert given.headers["X-Request-ID"] == "r-3"
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["X-Request-ID"])
    warning, access, _, _ = lines(stream)
    assert warning["message"] == "while answering" and warning["request_id"] == "r-3"
    assert access["request_id"] == "r-3" and access["status"] == 200 and access["method"] == "GET"
