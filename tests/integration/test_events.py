"""Every security event: logged once and stored once, with its documented fields."""

import functools
import json
import logging
import re
import secrets
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select, text, update

from bastion import Bastion
from bastion.app.admin_accounts import create_or_promote_admin
from bastion.app.audit import store
from bastion.app.extensions import db
from bastion.app.models import AuditEvent, User, UserSession, utc_now
from bastion.logs.catalogue import BY_NAME, EVENTS
from bastion.logs.events import record_event, unknown_name_pseudonym
from bastion.logs.requests import REQUEST_ID_HEADER
from tests.helpers import (
    PASSWORD,
    copy_cookies,
    csrf_token,
    events,
    login,
    register,
    run_bastion,
)

ADMIN_PASSWORD = "granite orchard seventeen kites"
NEW_PASSWORD = "quiet harbor lantern violet 42"
WRONG_PASSWORD = "not the password at all"
CLIENT_IP = "127.0.0.1"
FORGED = 'mallory\r\n{"event": "auth.login.succeeded"}\x1b[31m'
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ")

# The events the tests below perform, filled in as they are declared.
_EXERCISED: set[str] = set()
# The events the running test has checked with _recorded_once.
_checked: list[str] = []


def exercises(name: str):
    """Declare that the test performs event ``name``; fail it if it never checks it."""
    _EXERCISED.add(BY_NAME[name].name)

    def mark(test):
        @functools.wraps(test)
        def run(*args, **kwargs):
            _checked.clear()
            test(*args, **kwargs)
            assert name in _checked, f"{test.__name__} never checked {name}"

        return run

    return mark


def _recorded_once(logged, app, name, response=None, *, user_id, username=None, **own):
    """Assert ``name`` was logged once, and stored once if audited, as documented."""
    _checked.append(name)
    event = BY_NAME[name]
    request_id = response.headers[REQUEST_ID_HEADER] if response is not None else None
    ip = CLIENT_IP if response is not None else None
    assert set(own) == {field for field, _ in event.fields}

    records = events(logged, name)
    assert len(records) == 1, [record.getMessage() for record in records]
    [record] = records
    assert (record.levelno, record.outcome) == (event.level, event.outcome)
    assert (record.user_id, record.username) == (user_id, username)
    # Outside a request the log handler writes "-" for the missing request id.
    assert (record.ip, record.request_id) == (ip, request_id or "-")
    assert {key: getattr(record, key) for key in own} == own

    rows = _rows(app, name, request_id)
    if not event.audited:
        assert rows == []
        return
    assert len(rows) == 1, rows
    [row] = rows
    stored = (row.outcome, row.user_id, row.username, row.ip_address, row.request_id)
    assert stored == (event.outcome, user_id, username, ip, request_id)
    assert row.user_agent == record.user_agent
    assert json.loads(row.details) == own


def _rows(app, name: str, request_id: str | None) -> list[AuditEvent]:
    with app.app_context():
        query = select(AuditEvent).where(
            AuditEvent.event == name, AuditEvent.request_id == request_id
        )
        rows = db.session.scalars(query).all()
        db.session.expunge_all()
    return rows


def _user_id(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username == username))


def _session_ids(app) -> list[int]:
    with app.app_context():
        return db.session.scalars(select(UserSession.id).order_by(UserSession.id)).all()


def _expire_sessions(app) -> None:
    with app.app_context():
        past = utc_now() - timedelta(minutes=1)
        db.session.execute(update(UserSession).values(expires_at=past))
        db.session.commit()


def _devices(app, username: str, count: int) -> list:
    """Register ``username`` and sign it in on ``count`` test clients."""
    clients = [app.test_client() for _ in range(count)]
    register(clients[0], username)
    for client in clients:
        assert login(client, username).status_code == 302
    return clients


def _post(client, url: str, form_url: str, **data):
    """Post ``data`` to ``url`` with a token from the form at ``form_url``."""
    return client.post(url, data={"csrf_token": csrf_token(client, form_url), **data})


def _change_password(client, current: str):
    return _post(
        client,
        "/account/password",
        "/account/password",
        current_password=current,
        new_password=NEW_PASSWORD,
        confirm=NEW_PASSWORD,
    )


def _bastion(tmp_path, monkeypatch, *args: str, answer: str | None = None):
    result = run_bastion(tmp_path, monkeypatch, *args, answer=answer)
    assert result.exit_code == 0, result.output
    return result


def _stored_event(name: str, when) -> dict[str, object]:
    """An event as record_event hands it to the sinks, from no request."""
    common = dict.fromkeys(("user_id", "username", "ip", "user_agent", "request_id"))
    return {**common, "event": name, "outcome": BY_NAME[name].outcome, "time": when}


@exercises("auth.login.succeeded")
def test_password_sign_in_is_recorded(app, client, logged):
    """A sign-in with the password is recorded once, with method=password."""
    register(client, "alice")
    token = csrf_token(client, "/login")
    logged.clear()

    response = client.post(
        "/login", data={"csrf_token": token, "username": "Alice", "password": PASSWORD}
    )

    assert response.status_code == 302
    _recorded_once(
        logged,
        app,
        "auth.login.succeeded",
        response,
        user_id=1,
        username="Alice",
        method="password",
    )


@exercises("auth.login.succeeded")
def test_remember_me_sign_in_is_recorded(app, client, logged):
    """An expired session restored by remember-me is a sign-in, method=remember_me."""
    register(client, "alice")
    login(client, "alice", remember=True)
    _expire_sessions(app)
    logged.clear()

    response = client.get("/account")

    assert response.status_code == 200
    _recorded_once(
        logged,
        app,
        "auth.login.succeeded",
        response,
        user_id=1,
        username="alice",
        method="remember_me",
    )
    assert events(logged, "session.expired") == []


@exercises("auth.login.failed")
@pytest.mark.parametrize(
    ("typed", "password", "user_id", "reason"),
    [
        ("ghost", PASSWORD, None, "unknown_user"),
        ("alice", WRONG_PASSWORD, 1, "wrong_password"),
    ],
)
def test_refused_sign_in_is_recorded_with_its_reason(
    app, client, logged, typed, password, user_id, reason
):
    """A refused sign-in is recorded once with the reason, and the name typed, or its
    keyed hash when it names no account (it may be a password in the wrong field)."""
    register(client, "alice")
    token = csrf_token(client, "/login")
    logged.clear()

    response = client.post(
        "/login", data={"csrf_token": token, "username": typed, "password": password}
    )

    assert response.status_code == 200
    _recorded_once(
        logged,
        app,
        "auth.login.failed",
        response,
        user_id=user_id,
        username=typed if user_id else _hashed(app, typed),
        reason=reason,
    )


@exercises("auth.login.failed")
def test_sign_in_to_a_locked_account_is_recorded(make_app, logged):
    """An attempt past the per-account limit is recorded as failed, reason=locked."""
    app = make_app(RATELIMIT_SIGN_IN_PER_ACCOUNT="2 per minute")
    client = app.test_client()
    register(client, "alice")
    token = csrf_token(client, "/login")
    guess = {"csrf_token": token, "username": "alice", "password": WRONG_PASSWORD}
    for _ in range(2):
        assert client.post("/login", data=guess).status_code == 200
    logged.clear()

    response = client.post("/login", data=guess)

    assert response.status_code == 429
    # The account is named, so its timeline by user id shows the lock-out too.
    _recorded_once(
        logged,
        app,
        "auth.login.failed",
        response,
        user_id=1,
        username="alice",
        reason="locked",
    )


@exercises("auth.login.failed")
def test_a_locked_name_that_is_no_account_is_written_as_its_hash(make_app, logged):
    """Past the per-account limit, a name that matches no account stays a hash."""
    app = make_app(RATELIMIT_SIGN_IN_PER_ACCOUNT="1 per minute")
    client = app.test_client()
    token = csrf_token(client, "/login")
    guess = {"csrf_token": token, "username": "Nobody", "password": WRONG_PASSWORD}
    assert client.post("/login", data=guess).status_code == 200
    logged.clear()

    response = client.post("/login", data=guess)

    assert response.status_code == 429
    # The limit's key is the name in lower case; the hash ignores case anyway.
    _recorded_once(
        logged,
        app,
        "auth.login.failed",
        response,
        user_id=None,
        username=_hashed(app, "Nobody"),
        reason="locked",
    )


def _hashed(app, typed: str) -> str:
    with app.app_context():
        return unknown_name_pseudonym(typed)


@exercises("ratelimit.exceeded")
def test_rate_limit_refusal_is_recorded(make_app, logged):
    """A 429 from a rate limit is recorded with its scope, limit and path."""
    app = make_app(RATELIMIT_SIGN_IN_PER_IP="1 per minute")
    client = app.test_client()
    token = csrf_token(client, "/login")
    guess = {"csrf_token": token, "username": "ghost", "password": WRONG_PASSWORD}
    assert client.post("/login", data=guess).status_code == 200
    logged.clear()

    response = client.post("/login", data=guess)

    assert response.status_code == 429
    _recorded_once(
        logged,
        app,
        "ratelimit.exceeded",
        response,
        user_id=None,
        scope="sign-in-ip",
        limit="1 per 1 minute",
        path="/login",
    )


@exercises("auth.logout")
def test_sign_out_is_recorded(app, client, logged):
    """Signing out is recorded once for the user who signed out."""
    register(client, "alice")
    login(client, "alice")
    token = csrf_token(client, "/")
    logged.clear()

    response = client.post("/logout", data={"csrf_token": token})

    assert response.status_code == 302
    _recorded_once(logged, app, "auth.logout", response, user_id=1, username="alice")


@exercises("session.expired")
def test_session_expiry_is_recorded(app, client, logged):
    """A session past its lifetime is ended and recorded with its id."""
    register(client, "alice")
    login(client, "alice")
    [session_id] = _session_ids(app)
    _expire_sessions(app)
    logged.clear()

    response = client.get("/account")

    assert response.status_code == 302
    _recorded_once(
        logged,
        app,
        "session.expired",
        response,
        user_id=1,
        username="alice",
        session_id=session_id,
    )


@exercises("session.expired")
def test_remember_me_past_its_time_is_recorded_as_expired(app, client, logged):
    """A remember-me cookie whose time is over ends its row, and that is recorded."""
    register(client, "alice")
    login(client, "alice", remember=True)
    [session_id] = _session_ids(app)
    # After a browser restart: the remember-me cookie alone.
    restarted = app.test_client()
    copy_cookies(client, restarted, "remember")
    with app.app_context():
        past = utc_now() - timedelta(minutes=1)
        db.session.execute(
            update(UserSession).values(expires_at=past, remember_until=past)
        )
        db.session.commit()
    logged.clear()

    response = restarted.get("/account")

    assert response.status_code == 302
    assert _session_ids(app) == []
    _recorded_once(
        logged,
        app,
        "session.expired",
        response,
        user_id=1,
        username="alice",
        session_id=session_id,
    )


@exercises("session.revoked")
def test_ending_this_session_from_the_list_is_recorded(app, client, logged):
    """Ending one's own session from the list is recorded as a revocation, by=user."""
    register(client, "alice")
    login(client, "alice")
    [own_id] = _session_ids(app)
    token = csrf_token(client, "/account/sessions")
    logged.clear()

    response = client.post(
        f"/account/sessions/{own_id}/end", data={"csrf_token": token}
    )

    assert response.status_code == 302
    _recorded_once(
        logged,
        app,
        "session.revoked",
        response,
        user_id=1,
        username="alice",
        count=1,
        by="user",
        target_user_id=1,
    )


@exercises("session.revoked")
def test_ending_one_session_is_recorded(app, logged):
    """Ending another device's session from the list is recorded, by=user."""
    alice, _ = _devices(app, "alice", 2)
    other_id = _session_ids(app)[-1]
    token = csrf_token(alice, "/account/sessions")
    logged.clear()

    response = alice.post(
        f"/account/sessions/{other_id}/end", data={"csrf_token": token}
    )

    assert response.status_code == 302
    _recorded_once(
        logged,
        app,
        "session.revoked",
        response,
        user_id=1,
        username="alice",
        count=1,
        by="user",
        target_user_id=1,
    )


@exercises("session.revoked")
def test_ending_other_sessions_is_recorded(app, logged):
    """Signing out the other devices is recorded once with how many there were."""
    alice, *_ = _devices(app, "alice", 3)
    token = csrf_token(alice, "/account/sessions")
    logged.clear()

    response = alice.post("/account/sessions/end-others", data={"csrf_token": token})

    assert response.status_code == 302
    _recorded_once(
        logged,
        app,
        "session.revoked",
        response,
        user_id=1,
        username="alice",
        count=2,
        by="user",
        target_user_id=1,
    )


@exercises("session.revoked")
def test_admin_ending_a_users_sessions_is_recorded(app, logged):
    """An admin ending a user's sessions is recorded with the admin and the target."""
    _devices(app, "victim", 2)
    with app.app_context():
        create_or_promote_admin("boss", ADMIN_PASSWORD)
    admin = app.test_client()
    login(admin, "boss", ADMIN_PASSWORD)
    victim_id, admin_id = _user_id(app, "victim"), _user_id(app, "boss")
    token = csrf_token(admin, "/admin/users")
    logged.clear()

    response = admin.post(
        f"/admin/users/{victim_id}/end-sessions", data={"csrf_token": token}
    )

    assert response.status_code == 302
    _recorded_once(
        logged,
        app,
        "session.revoked",
        response,
        user_id=admin_id,
        username="boss",
        count=2,
        by="admin",
        target_user_id=victim_id,
    )


@exercises("session.revoked")
def test_password_change_ending_sessions_is_recorded(app, logged):
    """The sessions a password change ends are recorded, by=password_change."""
    alice, _ = _devices(app, "alice", 2)
    logged.clear()

    response = _change_password(alice, PASSWORD)

    assert response.status_code == 302
    _recorded_once(
        logged,
        app,
        "session.revoked",
        response,
        user_id=1,
        username="alice",
        count=1,
        by="password_change",
        target_user_id=1,
    )


@exercises("account.registered")
def test_registration_is_recorded(app, client, logged):
    """A new account is recorded once with its id and username."""
    token = csrf_token(client, "/register")
    logged.clear()

    response = client.post(
        "/register",
        data={
            "csrf_token": token,
            "username": "alice",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
    )

    assert response.status_code == 302
    _recorded_once(
        logged, app, "account.registered", response, user_id=1, username="alice"
    )


@exercises("account.password_changed")
def test_password_change_is_recorded(app, client, logged):
    """A successful password change is recorded once, without any password."""
    register(client, "alice")
    login(client, "alice")
    logged.clear()

    response = _change_password(client, PASSWORD)

    assert response.status_code == 302
    _recorded_once(
        logged, app, "account.password_changed", response, user_id=1, username="alice"
    )
    assert PASSWORD not in logged.text
    assert NEW_PASSWORD not in logged.text


@exercises("account.password_change_failed")
def test_refused_password_change_is_recorded(app, client, logged):
    """A password change with a wrong current password is recorded once."""
    register(client, "alice")
    login(client, "alice")
    logged.clear()

    response = _change_password(client, WRONG_PASSWORD)

    assert response.status_code == 200
    _recorded_once(
        logged,
        app,
        "account.password_change_failed",
        response,
        user_id=1,
        username="alice",
    )
    assert WRONG_PASSWORD not in logged.text


def _re_enter(client, logged, password: str):
    register(client, "alice")
    login(client, "alice")
    token = csrf_token(client, "/account/reauth")
    logged.clear()
    return client.post(
        "/account/reauth", data={"csrf_token": token, "password": password}
    )


@exercises("auth.reauth.succeeded")
def test_password_re_entry_is_recorded(app, client, logged):
    """Re-entering the right password is recorded once."""
    response = _re_enter(client, logged, PASSWORD)

    assert response.status_code == 302
    _recorded_once(
        logged, app, "auth.reauth.succeeded", response, user_id=1, username="alice"
    )
    assert events(logged, "auth.reauth.failed") == []


@exercises("auth.reauth.failed")
def test_wrong_password_re_entry_is_recorded(app, client, logged):
    """Re-entering a wrong password is recorded once, without the password."""
    response = _re_enter(client, logged, WRONG_PASSWORD)

    assert response.status_code == 200
    _recorded_once(
        logged, app, "auth.reauth.failed", response, user_id=1, username="alice"
    )
    assert WRONG_PASSWORD not in logged.text


@exercises("csrf.failed")
def test_form_without_csrf_token_is_recorded(app, client, logged):
    """A form posted without its CSRF token is refused and recorded with why."""
    logged.clear()

    response = client.post("/login", data={"username": "alice", "password": PASSWORD})

    assert response.status_code == 400
    _recorded_once(
        logged,
        app,
        "csrf.failed",
        response,
        user_id=None,
        reason="The CSRF token is missing.",
    )


def test_a_csrf_failure_is_logged_once_not_also_by_flask_wtf(client, caplog):
    """Flask-WTF's own line for a refused token would repeat csrf.failed."""
    caplog.set_level(logging.INFO)

    client.post("/login", data={"username": "alice"})

    loggers = [record.name for record in caplog.records]
    assert loggers.count("bastion.security") == 1
    assert "flask_wtf.csrf" not in loggers


def test_forged_form_aimed_at_a_signed_in_user_names_them(app, client, logged):
    """A CSRF failure on a signed-in user's session is recorded with their id and
    name, in the log and in the table."""
    register(client, "alice")
    login(client, "alice")
    logged.clear()

    response = client.post("/logout")

    assert response.status_code == 400
    [failed] = events(logged, "csrf.failed")
    assert (failed.user_id, failed.username) == (1, "alice")
    [row] = _rows(app, "csrf.failed", response.headers[REQUEST_ID_HEADER])
    assert (row.user_id, row.username) == (1, "alice")


@exercises("access.denied")
def test_non_admin_opening_an_admin_page_is_recorded(app, client, logged):
    """A user opening an admin page gets 403, recorded with the path."""
    register(client, "alice")
    login(client, "alice")
    logged.clear()

    response = client.get("/admin/users")

    assert response.status_code == 403
    _recorded_once(
        logged,
        app,
        "access.denied",
        response,
        user_id=1,
        username="alice",
        path="/admin/users",
    )


@exercises("host.rejected")
def test_request_for_an_untrusted_host_is_recorded(make_app, logged):
    """A request naming a Host outside TRUSTED_HOSTS gets 400, recorded with it."""
    app = make_app(
        APP_ENV="production", SECRET_KEY=secrets.token_hex(32), FORCE_HTTPS="false"
    )
    client = app.test_client()
    logged.clear()

    response = client.get("/", headers={"Host": "evil.example"})

    assert response.status_code == 400
    _recorded_once(
        logged, app, "host.rejected", response, user_id=None, host="evil.example"
    )


@exercises("admin.user_created")
def test_admin_created_from_the_command_line_is_recorded(
    app, logged, tmp_path, monkeypatch
):
    """`bastion users create-admin` for a new name is recorded with its id."""
    logged.clear()

    answer = f"{ADMIN_PASSWORD}\n{ADMIN_PASSWORD}\n"
    _bastion(tmp_path, monkeypatch, "users", "create-admin", "chief", answer=answer)

    _recorded_once(
        logged,
        app,
        "admin.user_created",
        user_id=_user_id(app, "chief"),
        username="chief",
        target_user_id=_user_id(app, "chief"),
    )
    assert ADMIN_PASSWORD not in logged.text


@exercises("admin.role_granted")
def test_user_promoted_from_the_command_line_is_recorded(
    app, client, logged, tmp_path, monkeypatch
):
    """`bastion users create-admin` for an existing user is recorded with its id."""
    register(client, "member")
    logged.clear()

    answer = f"{PASSWORD}\n{PASSWORD}\n"
    _bastion(tmp_path, monkeypatch, "users", "create-admin", "member", answer=answer)

    _recorded_once(
        logged,
        app,
        "admin.role_granted",
        user_id=_user_id(app, "member"),
        username="member",
        target_user_id=_user_id(app, "member"),
    )


@exercises("admin.audit_pruned")
def test_audit_prune_is_recorded(app, logged, tmp_path, monkeypatch):
    """`bastion audit prune` is recorded with how many events it deleted."""
    with app.app_context():
        for _ in range(2):
            store(_stored_event("auth.logout", utc_now() - timedelta(days=100)))
    logged.clear()

    result = _bastion(tmp_path, monkeypatch, "audit", "prune")

    assert "Deleted 2 audit event(s) older than 90 day(s)." in result.output
    _recorded_once(
        logged, app, "admin.audit_pruned", user_id=None, count=2, retention_days=90
    )


@exercises("config.loaded")
def test_start_up_is_logged_without_any_value(make_app, logged, tmp_path):
    """Start-up logs which settings each source gave, never a value, and no row."""
    logged.clear()

    app = make_app(LOG_LEVEL="INFO")

    settings = app.extensions["bastion"].settings
    sources = settings.names_by_source()
    assert "LOG_LEVEL" in sources["environment"]
    # Settings at their plain default came from no source, so they are left out.
    assert "PORT" in sources.pop("default")
    _recorded_once(
        logged,
        app,
        "config.loaded",
        user_id=None,
        profile="testing",
        sources=sources,
    )
    assert str(tmp_path) not in json.dumps(events(logged, "config.loaded")[0].sources)


@exercises("config.key_rotation")
def test_key_rotation_is_logged_without_the_keys(make_app, logged):
    """Start-up with SECRET_KEY_FALLBACKS logs how many, never the keys, and no row."""
    key, old_key = secrets.token_hex(32), secrets.token_hex(32)
    logged.clear()

    app = make_app(SECRET_KEY=key, SECRET_KEY_FALLBACKS=old_key)

    _recorded_once(logged, app, "config.key_rotation", user_id=None, fallback_count=1)
    assert key not in logged.text
    assert old_key not in logged.text


def test_every_catalogued_event_is_performed_here():
    """A new catalogue entry fails here until a test in this file performs it."""
    assert {event.name for event in EVENTS} == _EXERCISED


def test_failed_audit_write_never_breaks_the_request(app, client, logged, capfd):
    """With the audit table gone, sign-in still works and the failure is logged."""
    register(client, "alice")
    with app.app_context():
        db.session.execute(text("DROP TABLE audit_events"))
        db.session.commit()
    token = csrf_token(client, "/login")
    logged.clear()

    response = client.post(
        "/login", data={"csrf_token": token, "username": "alice", "password": PASSWORD}
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    errors = [r for r in logged.records if r.levelno >= logging.ERROR]
    assert [error.getMessage() for error in errors] == [
        "Could not store event auth.login.succeeded in the audit trail "
        "(OperationalError); it is in this log."
    ]
    assert len(events(logged, "auth.login.succeeded")) == 1
    assert PASSWORD not in logged.text + capfd.readouterr().err


def test_pseudonymized_logs_hide_the_username_but_keep_the_id(make_app, logged):
    """With LOG_PSEUDONYMIZE, logs and audit rows show one stable hash per name."""
    app = make_app(LOG_PSEUDONYMIZE="true")
    client = app.test_client()
    logged.clear()

    register(client, "alice")
    login(client, "Alice", WRONG_PASSWORD)
    login(client, "alice")

    named = [record for record in logged.records if getattr(record, "username", None)]
    assert [record.event for record in named] == [
        "account.registered",
        "auth.login.failed",
        "auth.login.succeeded",
    ]
    [pseudonym] = {record.username for record in named}
    assert re.fullmatch(r"anon:[0-9a-f]{16}", pseudonym)
    assert {record.user_id for record in named} == {1}
    assert "alice" not in logged.text.lower()
    assert all("alice" not in repr(vars(r)).lower() for r in logged.records)

    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        stored = [(row.username, row.user_id) for row in rows]
        columns = [repr(vars(row)).lower() for row in rows]
    assert stored == [(pseudonym, 1)] * 3
    assert not any("alice" in column for column in columns)


def _sign_in_as_forger(make_app, capfd, log_format: str):
    """Sign in as FORGED with ``log_format``; return the response and stderr."""
    client = make_app(LOG_FORMAT=log_format).test_client()
    token = csrf_token(client, "/login")
    capfd.readouterr()
    response = client.post(
        "/login",
        data={"csrf_token": token, "username": FORGED, "password": WRONG_PASSWORD},
    )
    assert response.status_code == 200
    return response, capfd.readouterr().err


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_forged_username_at_sign_in_is_written_as_its_hash(make_app, capfd, log_format):
    """A name matching no account reaches the log only as a keyed hash: one record,
    nothing of what was typed, whatever it carried."""
    response, stderr = _sign_in_as_forger(make_app, capfd, log_format)

    assert "mallory" not in stderr
    assert "\r" not in stderr
    assert "\x1b" not in stderr
    lines = [line for line in stderr.split("\n") if "auth.login." in line]
    [line] = lines
    if log_format == "json":
        record = json.loads(line)
        assert (record["event"], record["reason"]) == (
            "auth.login.failed",
            "unknown_user",
        )
        assert re.fullmatch(r"anon:[0-9a-f]{16}", record["username"])
        assert record["request_id"] == response.headers[REQUEST_ID_HEADER]
    else:
        assert TIMESTAMP.match(line)
        assert " auth.login.failed " in line
        assert re.search(r" username=anon:[0-9a-f]{16} ", line)


def _record_forged_name(make_settings, capfd, log_format: str) -> str:
    """A third-party app records FORGED as a username it trusts; return stderr."""
    app = Flask("forged_names")
    Bastion(app, settings=make_settings(APP_ENV="testing", LOG_FORMAT=log_format))
    capfd.readouterr()
    with app.test_request_context("/login", method="POST"):
        entry = record_event(
            "auth.login.failed", username=FORGED, reason="wrong_password"
        )
    assert entry["username"] == (
        'mallory\\x0d\\x0a{"event": "auth.login.succeeded"}\\x1b[31m'
    )
    return capfd.readouterr().err


def test_forged_username_stays_inside_one_json_record(make_settings, capfd):
    """A username carrying a JSON record and escapes stays one escaped value."""
    stderr = _record_forged_name(make_settings, capfd, "json")

    assert "\r" not in stderr
    assert "\x1b" not in stderr
    records = [json.loads(line) for line in stderr.split("\n") if line.strip()]
    mentions = [record for record in records if "mallory" in json.dumps(record)]
    assert [record["event"] for record in mentions] == ["auth.login.failed"]
    [failed] = mentions
    assert failed["username"] == (
        'mallory\\x0d\\x0a{"event": "auth.login.succeeded"}\\x1b[31m'
    )
    assert not [r for r in records if r.get("event") == "auth.login.succeeded"]


def test_forged_username_stays_on_one_text_line(make_settings, capfd):
    """In text logs the forged username is one escaped line that starts with a time."""
    stderr = _record_forged_name(make_settings, capfd, "text")

    assert "\r" not in stderr
    assert "\x1b" not in stderr
    [line] = [line for line in stderr.split("\n") if "mallory" in line]
    assert TIMESTAMP.match(line)
    assert " auth.login.failed " in line
    others = [other for other in stderr.split("\n") if other != line]
    assert not any("auth.login.succeeded" in other for other in others)
