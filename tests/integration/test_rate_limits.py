"""Password guessing is rate limited before any hash is computed."""

import logging
import os
import uuid

import pytest

from tests.helpers import PASSWORD, csrf_token, events, login, register


def _guess(client, username: str, token: str):
    return client.post(
        "/login",
        data={"csrf_token": token, "username": username, "password": "wrong guess 1"},
    )


def test_account_limit_returns_429_before_hashing(make_app, monkeypatch, caplog):
    """The attempt past the per-account limit gets 429 and no password check."""
    app = make_app(RATELIMIT_SIGN_IN_PER_ACCOUNT="3 per minute")
    client = app.test_client()
    register(client, "guessed")
    token = csrf_token(client, "/login")
    for _ in range(3):
        assert _guess(client, "guessed", token).status_code == 200

    checks = []
    passwords = app.extensions["passwords"]
    monkeypatch.setattr(passwords, "verify", lambda *args: checks.append(args))
    with caplog.at_level(logging.INFO, logger="bastion"):
        response = _guess(client, "GUESSED", token)

    assert response.status_code == 429
    assert "Too Many Requests" in response.text
    assert "Traceback" not in response.text
    assert response.headers["Retry-After"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert checks == []
    [exceeded] = events(caplog, "ratelimit.exceeded")
    assert exceeded.scope == "sign-in-account"
    assert exceeded.limit == "3 per 1 minute"
    reasons = [(e.username, e.reason) for e in events(caplog, "auth.login.failed")]
    # The locked attempt names the account as it is stored, whatever case was typed.
    assert reasons == [("guessed", "wrong_password")] * 3 + [("guessed", "locked")]


def test_account_limit_holds_from_any_address(make_app):
    """Spreading guesses over addresses does not escape the per-account limit."""
    app = make_app(RATELIMIT_SIGN_IN_PER_ACCOUNT="2 per minute")
    client = app.test_client()
    register(client, "target")
    token = csrf_token(client, "/login")
    statuses = [
        client.post(
            "/login",
            data={"csrf_token": token, "username": "target", "password": "nope nope"},
            environ_base={"REMOTE_ADDR": f"10.0.0.{index}"},
        ).status_code
        for index in range(3)
    ]

    assert statuses == [200, 200, 429]


def test_address_limit_covers_many_accounts(make_app):
    """One address trying many usernames hits the per-address limit."""
    app = make_app(RATELIMIT_SIGN_IN_PER_IP="3 per minute")
    client = app.test_client()
    token = csrf_token(client, "/login")
    statuses = [_guess(client, f"user{index}", token).status_code for index in range(4)]

    assert statuses == [200, 200, 200, 429]


def test_get_requests_are_not_counted(make_app):
    """Opening the sign-in page is never limited; only attempts are."""
    app = make_app(RATELIMIT_SIGN_IN_PER_IP="2 per minute")
    client = app.test_client()

    assert all(client.get("/login").status_code == 200 for _ in range(5))


def test_password_re_entry_is_limited_per_user(make_app):
    """A stolen session cannot guess the password through /account/reauth."""
    app = make_app(RATELIMIT_PASSWORD_CHECKS="2 per minute")
    client = app.test_client()
    register(client, "reentry")
    login(client, "reentry")
    token = csrf_token(client, "/account/reauth")
    statuses = [
        client.post(
            "/account/reauth", data={"csrf_token": token, "password": "wrong one"}
        ).status_code
        for _ in range(3)
    ]

    assert statuses == [200, 200, 429]


def test_a_good_password_still_works_below_the_limit(make_app):
    """Limits leave normal use alone."""
    app = make_app()
    client = app.test_client()
    register(client, "normal")

    assert login(client, "normal", PASSWORD).status_code == 302


def test_redis_storage_shares_counts_between_workers(make_app):
    """With Redis storage, two app instances (workers) share one allowance."""
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("TEST_REDIS_URL is not set; the Redis test needs a server")
    account = f"shared{uuid.uuid4().hex[:8]}"
    settings = {
        "RATELIMIT_STORAGE_URL": url,
        "RATELIMIT_SIGN_IN_PER_ACCOUNT": "2 per minute",
    }
    first = make_app(**settings).test_client()
    token_first = csrf_token(first, "/login")
    assert _guess(first, account, token_first).status_code == 200
    assert _guess(first, account, token_first).status_code == 200

    second = make_app(**settings).test_client()
    token_second = csrf_token(second, "/login")
    assert _guess(second, account, token_second).status_code == 429
