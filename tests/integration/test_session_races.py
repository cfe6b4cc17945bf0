"""Requests that race over one session row record what happened once, and only once.

Each test lets a "parallel request" change the row at the moment the real one would
have: between this request reading the row and acting on it.
"""

from datetime import timedelta

from sqlalchemy import delete, event, select, update

from bastion.app import sessions
from bastion.app.extensions import db
from bastion.app.models import User, UserSession, utc_now
from tests.helpers import (
    PASSWORD,
    copy_cookies,
    csrf_token,
    events,
    login,
    register,
)


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


def test_a_session_ended_while_its_request_runs_asks_to_sign_in(make_app):
    """A row deleted between this request's commit and its next read is no 500."""
    app = make_app()
    race = {"on": False}

    @app.before_request
    def end_it_meanwhile():
        record = sessions.current()
        if race["on"] and record is not None:
            # As this request's own commit would; then a parallel sign-out deletes it.
            row = delete(UserSession).where(UserSession.id == record.id)
            db.session.commit()
            _meanwhile(row)

    client = app.test_client()
    register(client, "busy")
    login(client, "busy")
    token = csrf_token(client, "/account/sessions")
    race["on"] = True

    # Its re-entry check reads the session row again.
    response = client.post("/account/sessions/end-others", data={"csrf_token": token})

    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    race["on"] = False
    assert "Your session has ended" in client.get("/login").text
    assert client.get("/account").status_code == 302


def test_a_lost_remember_race_keeps_the_cookie_it_cannot_use(app, logged):
    """A remember-me cookie another request just replaced is left alone, not deleted:
    deleting it could land after the new cookie and sign the browser out."""
    owner = app.test_client()
    register(owner, "keeper")
    login(owner, "keeper", remember=True)
    first, second = app.test_client(), app.test_client()
    copy_cookies(owner, first, "remember")
    copy_cookies(owner, second, "remember")
    assert first.get("/account").status_code == 200

    response = second.get("/account")

    assert response.status_code == 302
    assert not any(
        header.startswith("remember=")
        for header in response.headers.getlist("Set-Cookie")
    )


def test_another_row_gone_missing_is_a_fault_not_a_sign_out(make_app):
    """Only this visitor's own ended session is answered by signing them out; any
    other row that vanished mid-request is a 500, and the visitor stays signed in."""
    app = make_app()
    # Answered as in production, with the 500 page, instead of raised into the test.
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.route("/reads-another-session")
    def reads_another_session():
        other = db.session.scalars(
            select(UserSession).where(UserSession.id != sessions.current().id)
        ).one()
        _meanwhile(delete(UserSession).where(UserSession.id == other.id))
        db.session.expire(other)
        return other.device

    reader, other = app.test_client(), app.test_client()
    register(reader, "reader")
    login(reader, "reader")
    login(other, "reader")

    response = reader.get("/reads-another-session")

    assert response.status_code == 500
    assert reader.get("/account").status_code == 200


def test_a_password_change_just_after_a_sign_in_ends_it(app, logged):
    """The change commits right after the sign-in's row: the sign-in stands, as it
    was checked before the change, is recorded, and the change ends it at once."""
    client = app.test_client()
    register(client, "sleeper")
    race = {"on": True}

    def change_meanwhile(session):
        if race.pop("on", False):
            _meanwhile(update(User).values(password_hash="changed"))
            _meanwhile(delete(UserSession))

    token = csrf_token(client, "/login")
    logged.clear()
    event.listen(db.session, "after_commit", change_meanwhile)
    try:
        response = client.post(
            "/login",
            data={"csrf_token": token, "username": "sleeper", "password": PASSWORD},
        )
    finally:
        event.remove(db.session, "after_commit", change_meanwhile)

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert len(events(logged, "auth.login.succeeded")) == 1
    assert events(logged, "auth.login.failed") == []
    assert client.get("/account").status_code == 302


def test_a_row_gone_missing_on_a_signed_out_request_is_a_fault(make_app):
    """With no session of its own, a request has nothing that could have ended."""
    app = make_app()
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.route("/reads-a-vanished-session")
    def reads_a_vanished_session():
        row = db.session.scalars(select(UserSession)).one()
        _meanwhile(delete(UserSession).where(UserSession.id == row.id))
        db.session.expire(row)
        return row.device

    owner, visitor = app.test_client(), app.test_client()
    register(owner, "owner")
    login(owner, "owner")

    assert visitor.get("/reads-a-vanished-session").status_code == 500
