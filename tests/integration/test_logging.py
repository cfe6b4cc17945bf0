"""Sign-in events are logged with the username, safely, and never with secrets."""

import logging
import secrets

import pytest

from bastion.logs.events import record_event, unknown_name_pseudonym
from tests.helpers import events, login, register

FORGED_PATH = "/files/report%0D%1B[2K2026-01-01 INFO forged entry"
PASSWORD_CANARY = "canary-password-7d3f1a2b"
WRONG_CANARY = "canary-wrong-password-9e8c"
SECURITY_LOGGER = "bastion.security"


@pytest.fixture
def logged(caplog):
    """Capture every record of every logger, SQLAlchemy's included, at DEBUG."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")
    return caplog


def _everything_logged(caplog, capfd) -> str:
    captured = capfd.readouterr()
    records = [f"{record.getMessage()} {vars(record)!r}" for record in caplog.records]
    return "\n".join([*records, caplog.text, captured.out, captured.err])


def _security_messages(caplog) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == SECURITY_LOGGER
    ]


def test_passwords_and_secret_key_are_never_logged(make_app, logged, capfd):
    """Registration and both kinds of sign-in log no password and no SECRET_KEY."""
    secret_key = "SKCANARY" + secrets.token_hex(24)
    client = make_app(LOG_LEVEL="DEBUG", SECRET_KEY=secret_key).test_client()

    assert register(client, "alice", PASSWORD_CANARY).status_code == 302
    assert login(client, "alice", WRONG_CANARY).status_code == 200
    assert login(client, "nobody", WRONG_CANARY).status_code == 200
    assert login(client, "alice", PASSWORD_CANARY).status_code == 302

    text = _everything_logged(logged, capfd)
    assert "auth.login.succeeded" in text
    assert PASSWORD_CANARY not in text
    assert WRONG_CANARY not in text
    assert secret_key not in text


def test_sign_in_outcomes_name_the_user_and_the_reason(app, logged):
    """Each failure and success is logged once, with the username and why."""
    client = app.test_client()
    register(client, "alice")

    login(client, "nobody", "not the password")
    login(client, "alice", "not the password")
    login(client, "alice")

    failures = events(logged, "auth.login.failed")
    with app.app_context():
        nobody = unknown_name_pseudonym("nobody")
    assert [(e.username, e.user_id, e.reason) for e in failures] == [
        (nobody, None, "unknown_user"),
        ("alice", 1, "wrong_password"),
    ]
    [success] = events(logged, "auth.login.succeeded")
    assert (success.username, success.user_id, success.method) == (
        "alice",
        1,
        "password",
    )
    assert success.getMessage().startswith(
        "auth.login.succeeded outcome=success user_id=1 ip=127.0.0.1 method=password "
        "username=alice user_agent=Werkzeug/"
    )


def test_registration_is_logged_with_the_username(app, logged):
    """A new account is logged with its id and username."""
    register(app.test_client(), "alice")

    [registered] = events(logged, "account.registered")
    assert (registered.user_id, registered.username) == (1, "alice")


@pytest.mark.parametrize(
    ("injected", "escaped"),
    [
        ("\r\n", "\\x0d\\x0a"),
        ("\x1b[31m", "\\x1b[31m"),
        ("\u2028", "\\u2028"),
        ("\x85", "\\x85"),
    ],
    ids=["crlf", "ansi", "line-separator", "next-line"],
)
def test_username_cannot_forge_log_lines(app, logged, capfd, injected, escaped):
    """Line breaks and escape codes in a username are escaped in the log."""
    username = f"mallory{injected}INFO forged entry"
    capfd.readouterr()

    # Recorded as an app using the toolkit would for a name it found: Bastion's own
    # app writes a name that matches no account only as its keyed hash.
    with app.test_request_context("/login", method="POST"):
        record_event("auth.login.failed", username=username, reason="wrong_password")

    shown = f'username="mallory{escaped}INFO forged entry"'
    for message in _security_messages(logged):
        assert injected not in message
        assert shown in message

    stderr = capfd.readouterr().err
    assert injected not in stderr
    lines = [line for line in stderr.splitlines() if "forged entry" in line]
    assert len(lines) == 1
    assert shown in lines[0]
    assert " bastion.security: auth.login.failed " in lines[0]


def _fail(name: str):
    raise RuntimeError("failed on purpose")


def test_request_path_in_error_log_is_escaped(make_app, capfd):
    """A failing request's path is logged with control characters escaped."""
    app = make_app(
        APP_ENV="production", SECRET_KEY=secrets.token_hex(32), FORCE_HTTPS="false"
    )
    app.add_url_rule("/files/<path:name>", "files", _fail)
    capfd.readouterr()

    assert app.test_client().get(FORGED_PATH).status_code == 500
    stderr = capfd.readouterr().err
    assert "forged entry" in stderr
    assert "\r" not in stderr
    assert "\x1b" not in stderr
