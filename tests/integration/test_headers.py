"""Security headers: exact values on every kind of response, in every profile."""

import base64
import re
import secrets

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bastion.extension import Bastion
from bastion.security.headers import csp
from tests.helpers import csrf_token, login, register

HTTPS = "https://localhost"
HSTS = "max-age=63072000; includeSubDomains"
PROFILES = ["testing", "development", "production"]
CHEAPEST_HASH = {
    "PASSWORD_HASH_MEMORY_KIB": "19456",
    "PASSWORD_HASH_ITERATIONS": "2",
    "PASSWORD_HASH_PARALLELISM": "1",
}
FIXED_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
DENIED_FEATURES = ("camera=()", "microphone=()", "geolocation=()")
FRAMEWORK_NAMES = ("werkzeug", "python", "flask", "gunicorn", "jinja")
_NONCE = re.compile(r"'nonce-([A-Za-z0-9_-]+)'")
_PAGE_NONCE = re.compile(r'\snonce="([^"]*)"')


def expected_csp(nonce: str) -> str:
    """The default policy, word for word, for one nonce."""
    return (
        "default-src 'none'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        f"style-src 'self' 'nonce-{nonce}'; "
        "img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
        "base-uri 'none'; object-src 'none'"
    )


class HttpsClient(FlaskClient):
    """A test client that speaks https to localhost and sends a same-site Referer."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Over https, Flask-WTF also checks that a form post comes from this site.
        self.environ_base["HTTP_REFERER"] = f"{HTTPS}/"

    def open(self, *args, **kwargs):
        if args and isinstance(args[0], str):
            kwargs.setdefault("base_url", HTTPS)
        return super().open(*args, **kwargs)


def _boom():
    raise RuntimeError("internal detail")


@pytest.fixture
def build(make_app):
    """Build the reference app in a profile, with a route that raises."""

    def build(profile: str, **environ: str) -> Flask:
        if profile != "testing":
            environ.setdefault("SECRET_KEY", secrets.token_hex(32))
        app = make_app(APP_ENV=profile, **CHEAPEST_HASH, **environ)
        app.add_url_rule("/boom", "boom", _boom)
        # The testing profile re-raises view errors; answer them as a server does.
        app.config["PROPAGATE_EXCEPTIONS"] = False
        return app

    return build


def _client(app: Flask, profile: str) -> FlaskClient:
    if profile == "production":
        return HttpsClient(app, app.response_class, use_cookies=True)
    return app.test_client()


def _nonce(response) -> str:
    return _NONCE.search(response.headers["Content-Security-Policy"]).group(1)


def _sign_in(client):
    register(client, "reader")
    return login(client, "reader")


def _oversized_post(client):
    return client.post("/login", data={"username": "x" * (1024 * 1024 + 1)})


RESPONSES = {
    "home page": (lambda client: client.get("/"), 200),
    "sign-in page": (lambda client: client.get("/login"), 200),
    "redirect after sign-in": (_sign_in, 302),
    "CSRF failure": (lambda client: client.post("/login", data={}), 400),
    "not found": (lambda client: client.get("/no/such/page"), 404),
    "method not allowed": (lambda client: client.put("/login"), 405),
    "body too large": (_oversized_post, 413),
    "server error": (lambda client: client.get("/boom"), 500),
    "untrusted host": (
        lambda client: client.get("/", headers={"Host": "evil.example"}),
        400,
    ),
    "stylesheet": (lambda client: client.get("/static/site.css"), 200),
    "favicon": (lambda client: client.get("/favicon.ico"), 200),
    "health check": (lambda client: client.get("/health/live"), 200),
    "https redirect": (
        lambda client: client.get("/login", base_url="http://localhost"),
        301,
    ),
}
CASES = [
    (profile, name)
    for profile in PROFILES
    for name in RESPONSES
    if name != "https redirect" or profile == "production"
]


def assert_hardened(response, profile: str) -> None:
    """Check every security header, word for word, on one response."""
    headers = response.headers
    policy = headers["Content-Security-Policy"]
    assert policy == expected_csp(_nonce(response))
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    for name, value in FIXED_HEADERS.items():
        assert headers[name] == value, name
    features = headers["Permissions-Policy"].split(", ")
    assert set(DENIED_FEATURES) <= set(features)
    assert headers.get("X-XSS-Protection", "0") == "0"

    if profile != "production":
        assert "Strict-Transport-Security" not in headers
    elif response.request.scheme == "https":
        assert headers["Strict-Transport-Security"] == HSTS

    assert "Server" not in headers
    for name, value in headers.items():
        assert not any(word in value.lower() for word in FRAMEWORK_NAMES), name
    if response.mimetype.startswith("text/"):
        assert response.mimetype_params.get("charset") == "utf-8"


@pytest.mark.parametrize(("profile", "name"), CASES)
def test_every_response_carries_the_security_headers(build, profile, name):
    """Pages, redirects, error pages and static files all carry every header."""
    app = build(profile)
    send, status = RESPONSES[name]

    # Closing the response closes a static file's handle too.
    with send(_client(app, profile)) as response:
        assert response.status_code == status
        assert_hardened(response, profile)


@pytest.mark.parametrize("path", ["/", "/login", "/register", "/no/such/page"])
def test_page_nonce_matches_the_header(client, path):
    """Every nonce attribute in a page is the one its CSP header allows."""
    response = client.get(path)
    in_page = _PAGE_NONCE.findall(response.get_data(as_text=True))

    assert in_page
    assert set(in_page) == {_nonce(response)}


def test_stylesheet_link_carries_the_nonce(client):
    """The layout's stylesheet link is allowed by the nonce as well as by 'self'."""
    response = client.get("/")
    page = response.get_data(as_text=True)

    assert f'<link rel="stylesheet" nonce="{_nonce(response)}"' in page


def test_nonce_has_at_least_128_bits(client):
    """The nonce decodes to at least 16 random bytes."""
    nonce = _nonce(client.get("/"))
    raw = base64.urlsafe_b64decode(nonce + "=" * (-len(nonce) % 4))

    assert len(raw) * 8 >= 128


def test_nonce_is_fresh_for_each_response(client):
    """No two responses share a nonce, not even for the same page."""
    nonces = [_nonce(client.get(path)) for path in ("/", "/", "/login", "/nope")]

    assert len(set(nonces)) == len(nonces)


@pytest.mark.parametrize("profile", PROFILES)
def test_hsts_preload_only_when_asked(build, profile):
    """HSTS_PRELOAD=true adds preload in production and sends nothing elsewhere."""
    app = build(profile, HSTS_PRELOAD="true")

    response = _client(app, profile).get("/")

    if profile == "production":
        assert response.headers["Strict-Transport-Security"] == f"{HSTS}; preload"
    else:
        assert "Strict-Transport-Security" not in response.headers


@pytest.mark.parametrize("path", ["/login", "/health/live"])
def test_hsts_is_not_sent_over_plain_http(build, path):
    """Production sends Strict-Transport-Security only on https responses."""
    app = build("production")

    response = app.test_client().get(path)

    assert response.request.scheme == "http"
    assert "Strict-Transport-Security" not in response.headers


def test_report_only_mode_swaps_the_header_name(make_app):
    """CSP_REPORT_ONLY=true sends the same policy as Report-Only, not enforced."""
    client = make_app(CSP_REPORT_ONLY="true").test_client()

    response = client.get("/")

    assert "Content-Security-Policy" not in response.headers
    policy = response.headers["Content-Security-Policy-Report-Only"]
    assert policy == expected_csp(_NONCE.search(policy).group(1))


@pytest.mark.parametrize("report_only", ["false", "true"])
def test_report_uri_ends_the_policy(make_app, report_only):
    """CSP_REPORT_URI adds a report-uri directive, enforced or report-only."""
    app = make_app(CSP_REPORT_ONLY=report_only, CSP_REPORT_URI="/csp-reports")
    name = "Content-Security-Policy"
    if report_only == "true":
        name += "-Report-Only"

    policy = app.test_client().get("/").headers[name]

    nonce = _NONCE.search(policy).group(1)
    assert policy == f"{expected_csp(nonce)}; report-uri /csp-reports"


def test_no_report_uri_unless_configured(client):
    """Without CSP_REPORT_URI the policy names no report endpoint."""
    policy = client.get("/").headers["Content-Security-Policy"]

    assert "report-uri" not in policy
    assert "report-to" not in policy


@csp(
    img_src="'self' https://tiles.example",
    script_src="'self' 'nonce-{nonce}' https://cdn.example",
    connect_src="'self'",
)
def _map_view():
    return "map"


def _plain_view():
    return "plain"


@pytest.fixture
def third_party(make_settings) -> Flask:
    """A small Flask app of someone else's, hardened with ``Bastion(app)``."""
    app = Flask(__name__)
    Bastion(app, settings=make_settings())
    app.add_url_rule("/map", "map", _map_view)
    app.add_url_rule("/plain", "plain", _plain_view)
    return app


def test_csp_decorator_overrides_directives_of_one_view(third_party):
    """@csp replaces the named directives, adds new ones and keeps the rest."""
    response = third_party.test_client().get("/map")
    nonce = _nonce(response)

    assert response.headers["Content-Security-Policy"] == (
        "default-src 'none'; "
        f"script-src 'self' 'nonce-{nonce}' https://cdn.example; "
        f"style-src 'self' 'nonce-{nonce}'; "
        "img-src 'self' https://tiles.example; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; object-src 'none'; "
        "connect-src 'self'"
    )


def test_csp_decorator_leaves_other_views_alone(third_party):
    """A view without @csp keeps the default policy."""
    client = third_party.test_client()
    client.get("/map")

    response = client.get("/plain")

    policy = response.headers["Content-Security-Policy"]
    assert policy == expected_csp(_nonce(response))


def test_third_party_app_gets_every_header(third_party):
    """Bastion(app) hardens a plain Flask app's responses the same way."""
    response = third_party.test_client().get("/plain")

    assert response.status_code == 200
    assert_hardened(response, "testing")


def test_405_keeps_the_allow_header(client):
    """A wrong method gets 405 with Allow listing the methods the route takes."""
    response = client.put("/login")

    assert response.status_code == 405
    allowed = {method.strip() for method in response.headers["Allow"].split(",")}
    assert {"GET", "POST"} <= allowed
    assert "PUT" not in allowed


def test_forged_csrf_token_is_refused_with_every_header(client):
    """A post with a token from no form is refused, every header in place."""
    csrf_token(client, "/login")

    response = client.post("/login", data={"csrf_token": "forged"})

    assert response.status_code == 400
    assert_hardened(response, "testing")
