"""The canary ledger that guards the whole run finds what it is there to find."""

import logging

from flask import Flask, Response

from tests.canary import CANARY_COOKIE, CANARY_COOKIE_NAME, LEDGER, CanaryLedger

SECRET = "planted-canary-0123456789"


def _ledger_with_logger(name: str) -> tuple[CanaryLedger, logging.Logger]:
    ledger = CanaryLedger([SECRET])
    logger = logging.getLogger(f"tests.canary.{name}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(ledger.log_handler())
    return ledger, logger


def test_a_canary_in_a_message_argument_or_extra_is_found():
    """A canary anywhere in a record, or in its traceback, is reported."""
    ledger, logger = _ledger_with_logger("records")

    logger.info("clean")
    assert ledger.leaks() == []
    logger.info("value %s", SECRET)
    logger.info("clean", extra={"field": SECRET})
    try:
        raise ValueError(SECRET)
    except ValueError:
        logger.exception("failed")

    assert len(ledger.leaks()) == 3


def test_cookies_and_tokens_issued_may_not_reach_a_log():
    """A session cookie or CSRF token the app sent is a secret for the logs."""
    ledger, logger = _ledger_with_logger("issued")
    response = Response('<input name="csrf_token" type="hidden" value="tok-abcdefgh">')
    response.set_cookie("session", "session-value-abcdefghijkl")
    ledger.watch_response(response)
    assert ledger.leaks() == []

    logger.info("cookie session-value-abcdefghijkl and token tok-abcdefgh")

    assert len(ledger.leaks()) == 2


def test_a_canary_in_a_response_body_is_found():
    """A response that shows a canary is reported; issued tokens in pages are fine."""
    ledger = CanaryLedger([SECRET])
    ledger.watch_response(Response(f"<p>{SECRET}</p>"))

    assert ledger.leaks() == [
        "response body in tests/unit/test_canary_ledger.py::"
        "test_a_canary_in_a_response_body_is_found contains planted-cana..."
    ]


def test_the_run_sends_the_canary_cookie_and_watches_responses(app):
    """Test clients of make_app send the canary cookie and report each response."""
    seen = []
    app.add_url_rule("/echo", "echo", lambda: seen.append(dict(_cookies())) or "ok")
    before = len(LEDGER.answered)

    app.test_client().get("/echo")

    assert seen == [{CANARY_COOKIE_NAME: CANARY_COOKIE}]
    assert len(LEDGER.answered) == before + 1


def _cookies():
    from flask import request

    return request.cookies


def test_flask_app_without_make_app_is_not_watched():
    """Only make_app's apps use the canary client; a bare Flask app is untouched."""
    assert Flask(__name__).test_client_class is None
