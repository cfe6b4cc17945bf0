"""Requests that race over one session row record what happened once, and only once.

Each test lets a "parallel request" change the row at the moment the real one would
have: between this request reading the row and acting on it.
"""

import logging
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update

from bastion.app import sessions
from bastion.app.extensions import db
from bastion.app.models import UserSession, utc_now
from tests.helpers import copy_cookies, csrf_token, events, login, register


@pytest.fixture
def logged(caplog):
    caplog.set_level(logging.INFO, logger="bastion")
    return caplog


def _meanwhile(statement) -> None:
    """Run ``statement`` on a connection of its own, as a parallel request would."""
    with db.engine.begin() as connection:
        connection.execute(statement)


def test_an_expiry_seen_by_two_requests_is_recorded_once(make_app, monkeypatch, logged):
    """When a parallel request already ended the expired row, this one is silent."""
    app = make_app(SESSION_IDLE_MINUTES="30")
    client = app.test_client()
    register(client, "twin")
    login(client, "twin")
    with app.app_context():
        db.session.execute(
            update(UserSession).values(last_seen_at=utc_now() - timedelta(hours=1))
        )
        db.session.commit()
    real_lookup = sessions._record_for_token

    def ended_meanwhile(token):
        record = real_lookup(token)
        _meanwhile(delete(UserSession).where(UserSession.id == record.id))
        return record

    monkeypatch.setattr(sessions, "_record_for_token", ended_meanwhile)
    logged.clear()

    response = client.get("/account")

    assert response.status_code == 302
    assert events(logged, "session.expired") == []


def test_a_double_clicked_sign_out_is_recorded_once(make_app, logged):
    """The sign-out whose row a parallel sign-out deleted first records nothing."""
    app = make_app()
    race = {"on": False}

    @app.before_request
    def sign_out_meanwhile():
        # Runs after the session is loaded, as the first click's request ends it.
        record = sessions.current()
        if race["on"] and record is not None:
            _meanwhile(delete(UserSession).where(UserSession.id == record.id))

    client = app.test_client()
    register(client, "clicker")
    login(client, "clicker")
    token = csrf_token(client, "/")
    race["on"] = True
    logged.clear()

    response = client.post("/logout", data={"csrf_token": token})

    assert response.status_code == 302
    assert events(logged, "auth.logout") == []
    assert "SAWarning" not in logged.text


def test_a_remember_cookie_used_twice_at_once_restores_one_session(
    app, monkeypatch, logged
):
    """Of two requests with one remember-me cookie, the loser signs no one in."""
    owner = app.test_client()
    register(owner, "keeper")
    login(owner, "keeper", remember=True)
    restarted = app.test_client()
    copy_cookies(owner, restarted, "remember")
    real_lookup = sessions._record_for_remember_token

    def restored_meanwhile(token):
        record = real_lookup(token)
        # The parallel request won: it swapped in a remember-me token of its own.
        _meanwhile(
            update(UserSession)
            .where(UserSession.id == record.id)
            .values(remember_hash="0" * 64)
        )
        return record

    monkeypatch.setattr(sessions, "_record_for_remember_token", restored_meanwhile)
    logged.clear()

    response = restarted.get("/account")

    assert response.status_code == 302
    assert events(logged, "auth.login.succeeded") == []
    # The winner's new cookie is the browser's now; the loser must not delete it.
    assert not any(
        header.startswith("remember=")
        for header in response.headers.getlist("Set-Cookie")
    )
    with app.app_context():
        assert db.session.scalar(select(UserSession.remember_hash)) == "0" * 64
