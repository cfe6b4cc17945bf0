"""After a key rotation, sessions, remember-me cookies and open forms keep working."""

import secrets

import pytest
from itsdangerous import URLSafeSerializer

from tests.helpers import PASSWORD, copy_cookies, csrf_token, login, register

OLD_KEY = secrets.token_hex(32)
NEW_KEY = secrets.token_hex(32)
UNLISTED_KEY = secrets.token_hex(32)


@pytest.fixture
def before(make_app):
    """The app before the rotation, signing with OLD_KEY."""
    return make_app(SECRET_KEY=OLD_KEY)


@pytest.fixture
def after(make_app):
    """The same app after the rotation: NEW_KEY, with OLD_KEY as a fallback."""
    return make_app(SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=OLD_KEY)


def test_session_survives_rotation(before, after):
    """A session cookie signed with the old key still opens /account."""
    old_client = before.test_client()
    register(old_client, "rotor")
    login(old_client, "rotor")
    new_client = after.test_client()
    copy_cookies(old_client, new_client, "session")

    assert new_client.get("/account").status_code == 200


def test_open_form_survives_rotation(before, after):
    """A CSRF token rendered before the rotation is accepted after it."""
    old_client = before.test_client()
    register(old_client, "former")
    token = csrf_token(old_client, "/login")
    new_client = after.test_client()
    copy_cookies(old_client, new_client, "session")

    response = new_client.post(
        "/login", data={"csrf_token": token, "username": "former", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert new_client.get("/account").status_code == 200


def test_remember_cookie_survives_rotation_and_is_resigned(before, after):
    """A remember-me cookie from before the rotation signs in and is re-signed."""
    old_client = before.test_client()
    register(old_client, "keeper")
    token = csrf_token(old_client, "/login")
    old_client.post(
        "/login",
        data={
            "csrf_token": token,
            "username": "keeper",
            "password": PASSWORD,
            "remember": "y",
        },
    )
    new_client = after.test_client()
    copy_cookies(old_client, new_client, "remember")

    assert new_client.get("/account").status_code == 200
    reissued = new_client.get_cookie("remember").value
    signed_with_new_key_only = URLSafeSerializer(NEW_KEY, salt="bastion.remember")
    assert signed_with_new_key_only.loads(reissued)


def test_cookies_signed_with_an_unlisted_key_are_refused(make_app, after):
    """Session and remember-me cookies signed with any other key open nothing."""
    stranger = make_app(SECRET_KEY=UNLISTED_KEY).test_client()
    register(stranger, "victim")
    token = csrf_token(stranger, "/login")
    stranger.post(
        "/login",
        data={
            "csrf_token": token,
            "username": "victim",
            "password": PASSWORD,
            "remember": "y",
        },
    )
    assert stranger.get("/account").status_code == 200

    for name in ("session", "remember"):
        client = after.test_client()
        copy_cookies(stranger, client, name)
        assert client.get_cookie(name) is not None
        assert client.get("/account").status_code == 302


def test_fallback_token_is_not_accepted_without_the_fallback(before, make_app):
    """Without SECRET_KEY_FALLBACKS, an old session is signed out: the test bites."""
    old_client = before.test_client()
    register(old_client, "dropped")
    login(old_client, "dropped")
    rotated_without_fallback = make_app(SECRET_KEY=NEW_KEY)
    new_client = rotated_without_fallback.test_client()
    copy_cookies(old_client, new_client, "session")

    assert new_client.get("/account").status_code == 302
