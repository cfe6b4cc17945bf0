"""Server-side sessions: sign-out that holds, timeouts, remember-me, revocation."""

import re
import secrets
from datetime import timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from bastion.app.extensions import db
from bastion.app.models import UserSession, utc_now
from tests.helpers import (
    PASSWORD,
    copy_cookies,
    csrf_token,
    login,
    logout,
    register,
)

STRONG = "quiet harbor lantern violet 42"


def _sign_in(client, username: str, remember: bool = False):
    return login(client, username, remember=remember)


def _session_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(UserSession))


def test_cookie_captured_before_sign_out_is_dead_after_it(app, client):
    """A copy of the session cookie taken before sign-out opens nothing afterwards."""
    register(client, "replayed")
    _sign_in(client, "replayed")
    thief = app.test_client()
    copy_cookies(client, thief, "session")
    assert thief.get("/account").status_code == 200

    logout(client)

    assert thief.get("/account").status_code == 302
    assert _session_count(app) == 0


def test_sign_in_issues_a_new_session_id(app, client):
    """A session planted before sign-in is not the one used after it (no fixation)."""
    register(client, "fixated")
    before = client.get_cookie("session").value
    _sign_in(client, "fixated")
    after = client.get_cookie("session").value

    assert before != after
    attacker = app.test_client()
    attacker.set_cookie("session", before)
    assert attacker.get("/account").status_code == 302


def test_each_sign_in_creates_its_own_record(app):
    """Two devices signing in make two records with different tokens."""
    first, second = app.test_client(), app.test_client()
    register(first, "twice")
    _sign_in(first, "twice")
    _sign_in(second, "twice")

    with app.app_context():
        hashes = db.session.scalars(select(UserSession.token_hash)).all()
    assert len(set(hashes)) == 2


def test_idle_session_expires_and_keeps_next(make_app):
    """After SESSION_IDLE_MINUTES without a request, sign-in is asked for again."""
    app = make_app(SESSION_IDLE_MINUTES="30")
    client = app.test_client()
    register(client, "dozer")
    with freeze_time(utc_now()) as clock:
        _sign_in(client, "dozer")
        clock.tick(timedelta(minutes=29))
        assert client.get("/account").status_code == 200
        clock.tick(timedelta(minutes=31))
        response = client.get("/account?tab=1")
        page = client.get(response.headers["Location"]).get_data(as_text=True)

    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/account?tab%3D1"
    assert "Your session expired" in page


def test_absolute_lifetime_ends_even_an_active_session(make_app):
    """SESSION_LIFETIME_HOURS ends a sign-in however busy it is."""
    app = make_app(SESSION_LIFETIME_HOURS="2", SESSION_IDLE_MINUTES="30")
    client = app.test_client()
    register(client, "busy")
    with freeze_time(utc_now()) as clock:
        _sign_in(client, "busy")
        for _ in range(7):
            clock.tick(timedelta(minutes=20))
            client.get("/account")
        clock.tick(timedelta(minutes=1))
        assert client.get("/account").status_code == 302
    assert _session_count(app) == 0


def test_production_lifetime_defaults_to_twelve_hours(make_settings):
    """ASVS level 2: twelve hours in production, 24 in development."""
    key = secrets.token_hex(32)
    production = make_settings(APP_ENV="production", SECRET_KEY=key)
    development = make_settings(APP_ENV="development", SECRET_KEY=key)

    assert production.session_lifetime_hours == 12
    assert development.session_lifetime_hours == 24


def test_remember_me_survives_a_browser_restart(app, client):
    """With only the remember-me cookie, a new client is signed in."""
    register(client, "keeper")
    _sign_in(client, "keeper", remember=True)
    restarted = app.test_client()
    copy_cookies(client, restarted, "remember")

    assert restarted.get("/account").status_code == 200


def test_without_remember_me_no_remember_cookie_is_set(client):
    """Remember-me is opt-in."""
    register(client, "forgets")
    _sign_in(client, "forgets")

    assert client.get_cookie("remember") is None


@pytest.mark.parametrize("profile", ["development", "production"])
def test_remember_cookie_has_the_session_cookie_flags(make_app, profile):
    """Secure (production), HttpOnly and SameSite=Lax on both cookies."""
    app = make_app(APP_ENV=profile, SECRET_KEY=secrets.token_hex(32))
    base = "https://localhost" if profile == "production" else "http://localhost"
    client = app.test_client()
    token_page = client.get(f"{base}/register")
    token = re.search(r'csrf_token"[^>]*value="([^"]+)', token_page.text).group(1)
    headers = {"Referer": f"{base}/login"}
    client.post(
        f"{base}/register",
        data={"csrf_token": token, "username": "flags", "password": PASSWORD,
              "confirm": PASSWORD},
        headers=headers,
    )  # fmt: skip
    token_page = client.get(f"{base}/login")
    token = re.search(r'csrf_token"[^>]*value="([^"]+)', token_page.text).group(1)
    response = client.post(
        f"{base}/login",
        data={"csrf_token": token, "username": "flags", "password": PASSWORD,
              "remember": "y"},
        headers=headers,
    )  # fmt: skip

    cookies = response.headers.getlist("Set-Cookie")
    prefix = "__Host-" if profile == "production" else ""
    for name in (f"{prefix}session", f"{prefix}remember"):
        [header] = [c for c in cookies if c.startswith(f"{name}=")]
        assert "HttpOnly" in header
        assert "SameSite=Lax" in header
        assert "Path=/" in header
        assert "Domain" not in header
        assert ("Secure" in header) == (profile == "production")


@pytest.mark.parametrize("how", ["sign-out", "everywhere", "password-change"])
def test_remember_me_is_revoked(app, client, how):
    """Sign-out, "sign out everywhere" and a password change all revoke remember-me."""
    register(client, "revoked")
    _sign_in(client, "revoked", remember=True)
    other_device = app.test_client()
    _sign_in(other_device, "revoked", remember=True)
    stolen = app.test_client()
    copy_cookies(other_device, stolen, "remember")

    if how == "sign-out":
        logout(other_device)
    elif how == "everywhere":
        token = csrf_token(client, "/account/sessions")
        client.post("/account/sessions/end-others", data={"csrf_token": token})
    else:
        _change_password(client, PASSWORD, STRONG)

    assert stolen.get("/account").status_code == 302


def _change_password(client, current: str, new: str):
    token = csrf_token(client, "/account/password")
    return client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": current,
            "new_password": new,
            "confirm": new,
        },
    )


def test_password_change_ends_every_other_session(app, client):
    """After a password change only the device that changed it stays signed in."""
    register(client, "changer")
    _sign_in(client, "changer")
    other = app.test_client()
    _sign_in(other, "changer")

    response = _change_password(client, PASSWORD, STRONG)

    assert response.status_code == 302
    assert client.get("/account").status_code == 200
    assert other.get("/account").status_code == 302
    logout(client)
    assert login(client, "changer", STRONG).status_code == 302


def test_password_change_needs_the_current_password(client):
    """A wrong current password changes nothing and says so."""
    register(client, "careful")
    _sign_in(client, "careful")

    response = _change_password(client, "not my password at all", STRONG)

    assert response.status_code == 200
    assert "That is not your current password." in response.text
    logout(client)
    assert login(client, "careful", PASSWORD).status_code == 302


def test_session_list_shows_devices_and_this_session(app, client):
    """The list names device, IP and last seen, and marks this session."""
    register(client, "lister")
    _sign_in(client, "lister")
    other = app.test_client()
    other.get(
        "/login", headers={"User-Agent": "Mozilla/5.0 (X11; Linux) Firefox/140.0"}
    )
    _sign_in(other, "lister")

    page = client.get("/account/sessions").text

    assert page.count("<tr") == 3
    assert "(this session)" in page
    assert "127.0.0.1" in page


def test_ending_a_session_signs_that_device_out(app, client):
    """Ending another session from the list signs that device out at once."""
    register(client, "ender")
    _sign_in(client, "ender")
    other = app.test_client()
    _sign_in(other, "ender")
    with app.app_context():
        other_id = max(db.session.scalars(select(UserSession.id)).all())

    token = csrf_token(client, "/account/sessions")
    client.post(f"/account/sessions/{other_id}/end", data={"csrf_token": token})

    assert other.get("/account").status_code == 302
    assert client.get("/account").status_code == 200


def _end_others_once_stale(client, clock, referer: str):
    """Sign in, let REAUTH_MINUTES (15) pass, then press "sign out everywhere else"."""
    _sign_in(client, "stale")
    clock.tick(timedelta(minutes=16))
    token = csrf_token(client, "/account/sessions")
    return client.post(
        "/account/sessions/end-others",
        data={"csrf_token": token},
        headers={"Referer": referer},
    )


def test_a_referer_that_is_no_url_still_asks_for_the_password(make_app):
    """A broken Referer on a POST that needs re-entry sends to reauth, not a 500."""
    app = make_app(REAUTH_MINUTES="15", SESSION_IDLE_MINUTES="60")
    client = app.test_client()
    register(client, "stale")
    with freeze_time(utc_now()) as clock:
        response = _end_others_once_stale(client, clock, "http://[oops/")

    assert response.status_code == 302
    assert response.headers["Location"] == "/account/reauth?next=/account/sessions"


def test_sensitive_actions_ask_for_the_password_after_reauth_minutes(make_app):
    """Past REAUTH_MINUTES, ending sessions first asks for the password again."""
    app = make_app(REAUTH_MINUTES="15", SESSION_IDLE_MINUTES="60")
    client = app.test_client()
    register(client, "stale")
    with freeze_time(utc_now()) as clock:
        referer = "http://localhost/account/sessions"
        response = _end_others_once_stale(client, clock, referer)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/account/reauth")

        token = csrf_token(client, response.headers["Location"])
        confirmed = client.post(
            response.headers["Location"],
            data={"csrf_token": token, "password": PASSWORD},
        )
        assert confirmed.headers["Location"] == "/account/sessions"
        token = csrf_token(client, "/account/sessions")
        done = client.post("/account/sessions/end-others", data={"csrf_token": token})
        assert done.status_code == 302
        assert done.headers["Location"] == "/account/sessions"


def test_responses_that_depend_on_the_session_are_not_cached(client):
    """Cache-Control: no-store on pages that read the session."""
    register(client, "private")
    _sign_in(client, "private")

    assert client.get("/account").headers["Cache-Control"] == "no-store"
    assert client.get("/login").headers["Cache-Control"] == "no-store"


def test_sign_out_sends_clear_site_data(client):
    """Sign-out asks the browser to drop cookies and storage."""
    register(client, "cleaner")
    _sign_in(client, "cleaner")

    response = logout(client)

    assert response.headers["Clear-Site-Data"] == '"cookies", "storage"'


def test_hash_is_upgraded_when_parameters_rise(make_app, tmp_path):
    """A hash made with lower argon2 costs is rewritten at the next sign-in."""
    weak = make_app(PASSWORD_HASH_MEMORY_KIB="19456", PASSWORD_HASH_ITERATIONS="2")
    register(weak.test_client(), "upgraded")
    with weak.app_context():
        from bastion.app.models import User

        old_hash = db.session.scalar(select(User.password_hash))
    assert "m=19456,t=2" in old_hash

    strong = make_app(PASSWORD_HASH_MEMORY_KIB="20480", PASSWORD_HASH_ITERATIONS="3")
    assert _sign_in(strong.test_client(), "upgraded").status_code == 302
    with strong.app_context():
        new_hash = db.session.scalar(select(User.password_hash))
    assert "m=20480,t=3" in new_hash
    assert login(strong.test_client(), "upgraded").status_code == 302


def test_signed_cookie_without_a_session_record_opens_nothing(app, client):
    """A validly signed cookie naming a real user but no record is anonymous."""
    from flask.sessions import SecureCookieSessionInterface

    register(client, "legacy")
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    forged = app.test_client()
    forged.set_cookie("session", serializer.dumps({"_user_id": "1", "_fresh": True}))

    assert forged.get("/account").status_code == 302


def test_flask_login_remember_cookie_opens_nothing(app, client):
    """Flask-Login's own remember-me format, validly signed, is not honoured."""
    from flask_login.utils import encode_cookie

    register(client, "oldstyle")
    with app.test_request_context():
        cookie = encode_cookie("1")
    forged = app.test_client()
    forged.set_cookie("remember", cookie)

    assert forged.get("/account").status_code == 302


def test_remember_me_restore_is_not_a_recent_password_entry(app, client):
    """A device signed in by remember-me must enter the password for sensitive acts."""
    register(client, "restored")
    _sign_in(client, "restored", remember=True)
    thief = app.test_client()
    copy_cookies(client, thief, "remember")

    token = csrf_token(thief, "/account/sessions")
    response = thief.post(
        "/account/sessions/end-others",
        data={"csrf_token": token},
        headers={"Referer": "http://localhost/account/sessions"},
    )

    assert response.headers["Location"].startswith("/account/reauth")
    assert client.get("/account").status_code in (200, 302)


def test_remember_token_changes_each_time_it_is_used(app, client):
    """Using a remember-me cookie replaces it; the old copy then opens nothing."""
    register(client, "rotating")
    _sign_in(client, "rotating", remember=True)
    first = app.test_client()
    copy_cookies(client, first, "remember")
    copy_of_old = app.test_client()
    copy_cookies(client, copy_of_old, "remember")

    assert first.get("/account").status_code == 200
    assert first.get_cookie("remember").value != client.get_cookie("remember").value
    assert copy_of_old.get("/account").status_code == 302


def test_ending_this_session_from_the_list_clears_site_data(app, client):
    """Ending one's own session from the list also sends Clear-Site-Data."""
    register(client, "selfender")
    _sign_in(client, "selfender")
    with app.app_context():
        own_id = db.session.scalar(select(UserSession.id))

    token = csrf_token(client, "/account/sessions")
    response = client.post(
        f"/account/sessions/{own_id}/end", data={"csrf_token": token}
    )

    assert response.headers["Clear-Site-Data"] == '"cookies", "storage"'
    assert client.get("/account").status_code == 302


def test_sign_in_that_raced_a_password_change_is_withdrawn(app, client, monkeypatch):
    """A sign-in checked against the old hash never outlives a password change."""
    from bastion.app.auth import routes

    register(client, "racer2")
    real_upgrade = routes._upgrade_hash

    def change_password_meanwhile(user, password):
        checked = real_upgrade(user, password)
        user.password_hash = app.extensions["passwords"].hash(STRONG)
        db.session.commit()
        return checked

    monkeypatch.setattr(routes, "_upgrade_hash", change_password_meanwhile)
    response = _sign_in(client, "racer2")

    assert response.status_code == 200
    assert "Invalid username or password." in response.text
    assert _session_count(app) == 0


@pytest.mark.parametrize(
    "path",
    [
        "/account/sessions/99999999999999999999999/end",
        "/account/sessions/0/end",
        "/admin/users/99999999999999999999999/end-sessions",
    ],
)
def test_an_id_no_row_can_have_is_not_found(client, path):
    """An id beyond what the database stores is a 404, not a 500 with a traceback."""
    register(client, "bigid")
    login(client, "bigid")
    token = csrf_token(client, "/account/sessions")

    response = client.post(path, data={"csrf_token": token})

    assert response.status_code == 404
