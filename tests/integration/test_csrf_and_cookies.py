"""Forms need a CSRF token, and cookies carry the flags each profile requires."""

import secrets
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from flask_login.config import COOKIE_NAME as REMEMBER_COOKIE_NAME
from sqlalchemy import func, select

from bastion.app.extensions import db
from bastion.app.models import User
from tests.helpers import PASSWORD, csrf_token, login, register

FORM_EXPIRED = "This form has expired"
CHEAPEST_HASH = {
    "PASSWORD_HASH_MEMORY_KIB": "19456",
    "PASSWORD_HASH_ITERATIONS": "2",
    "PASSWORD_HASH_PARALLELISM": "1",
}
FORMS = {
    "/login": {"username": "alice", "password": PASSWORD},
    "/register": {"username": "alice", "password": PASSWORD, "confirm": PASSWORD},
    "/logout": {},
}


class HttpsClient(FlaskClient):
    """A test client that speaks https to localhost and sends a same-site Referer."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.environ_base["HTTP_REFERER"] = "https://localhost/"

    def open(self, *args, **kwargs):
        if args and isinstance(args[0], str):
            kwargs.setdefault("base_url", "https://localhost")
        return super().open(*args, **kwargs)


def _client_for(app) -> FlaskClient:
    if app.config["SESSION_COOKIE_SECURE"]:
        return HttpsClient(app, app.response_class, use_cookies=True)
    return app.test_client()


@pytest.fixture(params=["testing", "development", "production"])
def profile_app(request, make_app):
    """An app in each profile, with sign-ins that last two hours."""
    environ = {"APP_ENV": request.param, "SESSION_LIFETIME_HOURS": "2"}
    if request.param != "testing":
        environ["SECRET_KEY"] = secrets.token_hex(32)
    # Cookies do not depend on the hash cost, so take the cheapest one allowed.
    return make_app(**environ, **CHEAPEST_HASH)


def _cookie(response, name: str) -> dict[str, str] | None:
    """Return the attributes of the Set-Cookie for ``name``, keys lower-cased."""
    for header in response.headers.getlist("Set-Cookie"):
        pair, *attributes = header.split("; ")
        if pair.split("=", 1)[0] == name:
            return {
                key.lower(): value
                for key, _, value in (item.partition("=") for item in attributes)
            }
    return None


def _session_cookie_after_sign_in(app) -> dict[str, str]:
    client = _client_for(app)
    assert register(client, "alice").status_code == 302
    response = login(client, "alice")
    assert response.status_code == 302
    cookie = _cookie(response, app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None, "sign-in set no session cookie"
    return cookie


def _is_error_page(response) -> bool:
    page = response.get_data(as_text=True)
    return (
        'class="site-header"' in page
        and "traceback" not in page.lower()
        and "werkzeug" not in page.lower()
    )


@pytest.mark.parametrize("url", list(FORMS))
def test_post_without_token_is_refused(app, client, url):
    """A form posted without its CSRF token gets 400 and the site's own page."""
    response = client.post(url, data=FORMS[url])

    assert response.status_code == 400
    assert FORM_EXPIRED in response.get_data(as_text=True)
    assert _is_error_page(response)


@pytest.mark.parametrize("url", list(FORMS))
def test_post_with_made_up_token_is_refused(client, url):
    """A form posted with a token the app never issued gets 400."""
    csrf_token(client, "/login")

    response = client.post(url, data={**FORMS[url], "csrf_token": "not-a-token"})
    assert response.status_code == 400
    assert FORM_EXPIRED in response.get_data(as_text=True)
    assert _is_error_page(response)


@pytest.mark.parametrize("url", list(FORMS))
def test_post_with_another_sessions_token_is_refused(app, client, url):
    """A real token taken from someone else's session does not work here."""
    stolen = csrf_token(app.test_client(), "/login")
    csrf_token(client, "/login")

    response = client.post(url, data={**FORMS[url], "csrf_token": stolen})
    assert response.status_code == 400
    assert FORM_EXPIRED in response.get_data(as_text=True)


def test_register_without_token_creates_no_account(app, client):
    """A refused registration writes nothing to the database."""
    client.post("/register", data=FORMS["/register"])

    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_sign_out_without_token_keeps_user_signed_in(client):
    """A cross-site POST to /logout cannot sign the user out."""
    register(client, "alice")
    login(client, "alice")

    assert client.post("/logout").status_code == 400
    assert client.get("/account").status_code == 200


def test_sign_out_by_get_is_not_allowed(client):
    """GET /logout is 405 with an Allow header, in the site's own page."""
    response = client.get("/logout")

    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert "GET" not in response.headers["Allow"]
    assert _is_error_page(response)


def test_https_post_without_referer_is_refused(make_app):
    """In production over https, a form post with no Referer gets 400."""
    app = make_app(APP_ENV="production", SECRET_KEY=secrets.token_hex(32))
    client = HttpsClient(app, app.response_class, use_cookies=True)
    token = csrf_token(client, "/login")
    del client.environ_base["HTTP_REFERER"]

    response = client.post("/login", data={**FORMS["/login"], "csrf_token": token})
    assert response.status_code == 400
    assert FORM_EXPIRED in response.get_data(as_text=True)


def test_https_post_from_another_site_is_refused(make_app):
    """In production over https, a form post referred by another site gets 400."""
    app = make_app(APP_ENV="production", SECRET_KEY=secrets.token_hex(32))
    client = HttpsClient(app, app.response_class, use_cookies=True)
    token = csrf_token(client, "/login")
    client.environ_base["HTTP_REFERER"] = "https://evil.example/"

    response = client.post("/login", data={**FORMS["/login"], "csrf_token": token})
    assert response.status_code == 400


def test_session_cookie_is_httponly_and_lax(profile_app):
    """The session cookie set at sign-in is HttpOnly and SameSite=Lax."""
    cookie = _session_cookie_after_sign_in(profile_app)

    assert "httponly" in cookie
    assert cookie["samesite"] == "Lax"


def test_session_cookie_is_secure_only_in_production(profile_app):
    """The session cookie has the Secure flag in production and only there."""
    cookie = _session_cookie_after_sign_in(profile_app)

    production = profile_app.extensions["bastion"].settings.profile == "production"
    assert ("secure" in cookie) is production


def test_remember_cookie_config_matches_session_cookie(profile_app):
    """The remember-me cookie settings carry the flags the session cookie has."""
    cookie = _session_cookie_after_sign_in(profile_app)
    config = profile_app.config

    assert config["REMEMBER_COOKIE_SECURE"] is ("secure" in cookie)
    assert config["REMEMBER_COOKIE_HTTPONLY"] is ("httponly" in cookie)
    assert config["REMEMBER_COOKIE_SAMESITE"] == cookie["samesite"]
    assert config["SESSION_COOKIE_SECURE"] is ("secure" in cookie)
    assert config["SESSION_COOKIE_HTTPONLY"] is True


def test_sign_in_sets_no_remember_cookie(profile_app):
    """Sign-in without remember-me leaves no long-lived remember cookie."""
    client = _client_for(profile_app)
    register(client, "alice")

    response = login(client, "alice")
    assert _cookie(response, REMEMBER_COOKIE_NAME) is None


def test_session_cookie_ends_with_the_browser(profile_app):
    """The sign-in cookie has no expiry: quitting the browser signs out.

    SESSION_LIFETIME_HOURS (here 2) is enforced on the server, whatever the cookie
    says; remember-me is the only cookie meant to outlive the browser.
    """
    cookie = _session_cookie_after_sign_in(profile_app)

    assert profile_app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=2)
    assert "expires" not in cookie
    assert "max-age" not in cookie


def test_cookie_before_sign_in_ends_with_the_browser(client):
    """The anonymous session cookie (CSRF only) is a browser-session cookie."""
    response = client.get("/login")
    cookie = _cookie(response, "session")

    assert cookie is not None
    assert "expires" not in cookie
    assert "max-age" not in cookie


def test_production_is_not_in_debug_mode(make_app):
    """The production app has debug mode off."""
    app = make_app(APP_ENV="production", SECRET_KEY=secrets.token_hex(32))

    assert app.debug is False
    assert app.config["DEBUG"] is False
