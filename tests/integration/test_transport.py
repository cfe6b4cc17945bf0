"""HTTPS redirect, X-Forwarded-* trust, the Host check and request limits."""

import io
import logging
import secrets

import pytest
from flask import Flask, request
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from bastion.config import ConfigError, load_settings
from bastion.extension import Bastion
from tests.helpers import csrf_token, events, login, register

HTTPS = "https://localhost"
HSTS = "max-age=63072000; includeSubDomains"
CHEAPEST_HASH = {
    "PASSWORD_HASH_MEMORY_KIB": "19456",
    "PASSWORD_HASH_ITERATIONS": "2",
    "PASSWORD_HASH_PARALLELISM": "1",
}
SPOOFED = {
    "X-Forwarded-Proto": "https",
    "X-Forwarded-For": "203.0.113.7",
    "X-Forwarded-Host": "evil.example",
}
HOSTILE_HOSTS = [
    "evil.example",
    "evil.example:443",
    "localhost.evil.example",
    "<script>alert(1)</script>.evil.example",
]
FRAMEWORK_NAMES = ("traceback", "werkzeug", "flask", "jinja", "python")
ONE_MIB = 1024 * 1024


@pytest.fixture
def production(make_app):
    """Build the reference app in production, with extra settings."""

    def build(**environ: str) -> Flask:
        return make_app(
            APP_ENV="production",
            SECRET_KEY=secrets.token_hex(32),
            **CHEAPEST_HASH,
            **environ,
        )

    return build


def _whoami():
    return f"{request.remote_addr} {request.scheme} {request.host}"


@pytest.fixture
def third_party(make_settings):
    """A small Flask app hardened with ``Bastion(app)`` that says who is asking."""

    def build(**environ: str) -> Flask:
        environ.setdefault("SECRET_KEY", secrets.token_hex(32))
        app = Flask(__name__)
        Bastion(app, settings=make_settings(APP_ENV="production", **environ))
        app.add_url_rule("/whoami", "whoami", _whoami)
        return app

    return build


def _shows_no_internals(page: str) -> bool:
    lowered = page.lower()
    return not any(name in lowered for name in FRAMEWORK_NAMES)


# The https redirect


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/login", f"{HTTPS}/login"),
        ("/login?next=/account&x=%20y", f"{HTTPS}/login?next=/account&x=%20y"),
        ("/", f"{HTTPS}/"),
        ("/static/site.css", f"{HTTPS}/static/site.css"),
    ],
)
def test_plain_http_is_redirected_to_https(production, path, location):
    """In production a plain-http request gets 301 to the same URL over https."""
    response = production().test_client().get(path)

    assert response.status_code == 301
    assert response.headers["Location"] == location


def test_post_over_plain_http_is_redirected_too(production):
    """A form posted over plain http is not processed; it is sent to https."""
    response = production().test_client().post("/login", data={"username": "a"})

    assert response.status_code == 301
    assert response.headers["Location"] == f"{HTTPS}/login"


@pytest.mark.parametrize("path", ["/health/live", "/health/ready"])
def test_health_checks_are_exempt_from_the_redirect(production, path):
    """Load balancers may probe /health/ over plain http."""
    response = production().test_client().get(path)

    assert response.status_code == 200
    assert response.json["status"] == "ok"


@pytest.mark.parametrize("profile", ["testing", "development"])
def test_no_redirect_outside_production(make_app, profile):
    """Development and testing serve plain http as it comes."""
    client = make_app(APP_ENV=profile, SECRET_KEY=secrets.token_hex(32)).test_client()

    assert client.get("/login").status_code == 200


def test_force_https_can_be_turned_off_in_production(production):
    """FORCE_HTTPS=false leaves plain http to whoever terminates TLS."""
    client = production(FORCE_HTTPS="false").test_client()

    assert client.get("/login").status_code == 200


def test_https_request_is_served(production):
    """A request that arrives over https is answered, with HSTS."""
    response = production().test_client().get("/login", base_url=HTTPS)

    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"] == HSTS


# X-Forwarded-* without trusted proxies


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Forwarded-Proto": "https"},
        {"X-Forwarded-For": "203.0.113.7"},
        {"X-Forwarded-Host": "evil.example"},
        SPOOFED,
        {"X-Forwarded-Proto": "https", "X-Forwarded-Port": "443"},
    ],
)
def test_forwarded_headers_are_ignored_without_trusted_hops(production, headers):
    """With TRUSTED_PROXY_HOPS=0 a client's X-Forwarded-* cannot skip the redirect."""
    response = production().test_client().get("/login", headers=headers)

    assert response.status_code == 301
    assert response.headers["Location"] == f"{HTTPS}/login"


def test_forwarded_headers_leave_the_client_untouched(third_party):
    """With TRUSTED_PROXY_HOPS=0 address, scheme and host are the connection's."""
    client = third_party().test_client()

    response = client.get("/whoami", base_url=HTTPS, headers=SPOOFED)

    assert response.get_data(as_text=True) == "127.0.0.1 https localhost"


def test_spoofed_forwarded_for_is_not_the_session_ip(make_app):
    """The session list shows the connection's address, not X-Forwarded-For."""
    client = make_app(**CHEAPEST_HASH).test_client()
    client.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.7"
    register(client, "alice")
    login(client, "alice")

    page = client.get("/account/sessions").get_data(as_text=True)

    assert "<td>127.0.0.1</td>" in page
    assert "203.0.113.7" not in page


# X-Forwarded-* through one trusted proxy


def test_trusted_proxy_forwarded_proto_is_believed(production):
    """With one trusted hop, X-Forwarded-Proto: https means no redirect, and HSTS."""
    client = production(TRUSTED_PROXY_HOPS="1").test_client()

    response = client.get("/login", headers={"X-Forwarded-Proto": "https"})

    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"] == HSTS


def test_trusted_proxy_forwarded_plain_http_is_redirected(production):
    """A proxy that says the client came over http still gets the redirect."""
    client = production(TRUSTED_PROXY_HOPS="1").test_client()

    response = client.get("/login", headers={"X-Forwarded-Proto": "http"})

    assert response.status_code == 301
    assert response.headers["Location"] == f"{HTTPS}/login"


@pytest.mark.parametrize(
    ("forwarded_for", "seen"),
    [
        ("203.0.113.7", "203.0.113.7 https localhost"),
        ("198.51.100.1, 203.0.113.7", "203.0.113.7 https localhost"),
        ("198.51.100.1,203.0.113.7", "203.0.113.7 https localhost"),
    ],
)
def test_trusted_proxy_sets_the_client_address(third_party, forwarded_for, seen):
    """With one trusted hop, only the last X-Forwarded-For entry is the client."""
    client = third_party(TRUSTED_PROXY_HOPS="1").test_client()
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": forwarded_for}

    response = client.get("/whoami", headers=headers)

    assert response.get_data(as_text=True) == seen


def test_session_ip_behind_a_trusted_proxy(production):
    """Behind one proxy, a sign-in records the last X-Forwarded-For hop only."""
    client = production(TRUSTED_PROXY_HOPS="1").test_client()
    client.environ_base.update(
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.7",
        HTTP_REFERER=f"{HTTPS}/",
    )
    register(client, "alice")
    assert login(client, "alice").status_code == 302

    page = client.get("/account/sessions").get_data(as_text=True)

    assert "<td>203.0.113.7</td>" in page
    assert "198.51.100.1" not in page
    assert "127.0.0.1" not in page


def test_trusted_proxy_forwarded_host_must_be_trusted(production):
    """A forwarded host outside TRUSTED_HOSTS is refused like a Host header."""
    client = production(TRUSTED_PROXY_HOPS="1").test_client()
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"}

    response = client.get("/login", headers=headers)

    assert response.status_code == 400
    assert "evil.example" not in response.get_data(as_text=True)


def test_trusted_proxy_forwarded_host_replaces_an_internal_host(third_party):
    """Behind a proxy the app may be reached as app:8000; the forwarded host counts."""
    client = third_party(TRUSTED_PROXY_HOPS="1").test_client()
    headers = {
        "Host": "app:8000",
        "X-Forwarded-Host": "localhost",
        "X-Forwarded-Proto": "https",
    }

    response = client.get("/whoami", headers=headers)

    assert response.status_code == 200
    assert response.get_data(as_text=True) == "127.0.0.1 https localhost"


# The Host check


@pytest.mark.parametrize("base_url", [HTTPS, "http://localhost"])
@pytest.mark.parametrize("host", HOSTILE_HOSTS)
def test_untrusted_host_gets_400(production, host, base_url, caplog):
    """A Host outside TRUSTED_HOSTS gets a plain 400, is logged and never echoed."""
    client = production().test_client()

    with caplog.at_level(logging.INFO, logger="bastion"):
        response = client.get("/login", base_url=base_url, headers={"Host": host})

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "This site does not answer to that host name." in page
    assert "evil.example" not in page
    assert "<script>alert" not in page
    assert _shows_no_internals(page)
    assert "Location" not in response.headers
    assert [event.host for event in events(caplog, "host.rejected")] == [host]


@pytest.mark.parametrize("path", ["/", "/static/site.css", "/health/live", "/nope"])
def test_untrusted_host_is_refused_on_every_path(production, path):
    """The Host check runs before routing, static files and health checks."""
    client = production().test_client()

    response = client.get(path, base_url=HTTPS, headers={"Host": "evil.example"})

    assert response.status_code == 400
    response.close()


def test_untrusted_host_post_is_refused_before_the_form(production, caplog):
    """A form sent to an untrusted Host is refused as a Host error, not as CSRF."""
    client = production().test_client()

    with caplog.at_level(logging.INFO, logger="bastion"):
        response = client.post(
            "/login", base_url=HTTPS, headers={"Host": "evil.example"}
        )

    assert response.status_code == 400
    assert "host name" in response.get_data(as_text=True)
    assert "CSRF" not in caplog.text


def test_control_characters_in_a_rejected_host_are_escaped(production, caplog):
    """An escape sequence in the Host is written escaped, not raw, in the log."""
    client = production().test_client()
    host = "evil.example\x1b[2J"

    with caplog.at_level(logging.INFO, logger="bastion"):
        response = client.get(
            "/", base_url=HTTPS, environ_overrides={"HTTP_HOST": host}
        )

    assert response.status_code == 400
    # Host names ignore case, so the log shows the host lower-cased.
    [rejected] = events(caplog, "host.rejected")
    assert rejected.host == "evil.example\\x1b[2j"


@pytest.mark.parametrize("host", ["example.com", "www.example.com:443"])
def test_listed_host_is_served(production, host):
    """Each name in TRUSTED_HOSTS is answered, with or without a port."""
    client = production(TRUSTED_HOSTS="example.com,www.example.com").test_client()

    response = client.get("/login", base_url=HTTPS, headers={"Host": host})

    assert response.status_code == 200


def test_listed_host_is_served_in_any_letter_case(production):
    """A listed host written in capitals is the same host and is answered."""
    client = production(TRUSTED_HOSTS="example.com").test_client()

    response = client.get("/login", base_url=HTTPS, headers={"Host": "EXAMPLE.com"})

    assert response.status_code == 200


def test_listed_host_is_redirected_to_itself(production):
    """The https redirect keeps the trusted Host it came with."""
    client = production(TRUSTED_HOSTS="example.com,www.example.com").test_client()

    response = client.get("/login", headers={"Host": "www.example.com"})

    assert response.headers["Location"] == "https://www.example.com/login"


@pytest.mark.parametrize("profile", ["testing", "development"])
def test_untrusted_host_is_refused_in_every_profile(make_app, profile):
    """Development and testing also refuse a Host outside their defaults."""
    app = make_app(APP_ENV=profile, SECRET_KEY=secrets.token_hex(32))

    response = app.test_client().get("/", headers={"Host": "evil.example"})

    assert response.status_code == 400


@pytest.mark.parametrize("environ", [{}, {"TRUSTED_HOSTS": ""}])
def test_production_without_trusted_hosts_does_not_load(tmp_path, environ):
    """Production refuses to start without TRUSTED_HOSTS, and names it."""
    environ = {
        "APP_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "INSTANCE_PATH": str(tmp_path),
        **environ,
    }

    with pytest.raises(ConfigError) as caught:
        load_settings(environ=environ, env_file=None)

    assert [problem.name for problem in caught.value.problems] == ["TRUSTED_HOSTS"]
    assert "TRUSTED_HOSTS" in str(caught.value)


def test_missing_trusted_hosts_message_says_what_to_do(tmp_path):
    """The error says the setting is required and shows an example value."""
    environ = {
        "APP_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "INSTANCE_PATH": str(tmp_path),
    }

    with pytest.raises(ConfigError) as caught:
        load_settings(environ=environ, env_file=None)

    assert str(caught.value) == (
        "TRUSTED_HOSTS (not set): is required in production; list the host names "
        "the site answers to, e.g. TRUSTED_HOSTS=example.com,www.example.com."
    )


# Request methods and sizes


@pytest.mark.parametrize("method", ["TRACE", "PUT", "DELETE", "PATCH"])
def test_unsupported_method_gets_405_with_allow(client, method):
    """TRACE and other unrouted methods get 405 and the list of allowed ones."""
    response = client.open("/login", method=method)

    assert response.status_code == 405
    allowed = {name.strip() for name in response.headers["Allow"].split(",")}
    assert allowed == {"GET", "HEAD", "POST", "OPTIONS"}
    assert _shows_no_internals(response.get_data(as_text=True))


def _upload(client, path: str, size: int):
    """Post a form with a real token and a file of ``size`` bytes, built in memory."""
    # The test client would spool a large body to a temporary file it never closes.
    upload = FileStorage(io.BytesIO(b"x" * size), filename="big.bin")
    fields = {"csrf_token": csrf_token(client, path), "username": "alice"}
    boundary, body = encode_multipart({**fields, "upload": upload})
    return client.post(
        path, data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


@pytest.mark.parametrize(
    ("size", "status"), [(ONE_MIB - 4096, 200), (ONE_MIB + 1, 413)]
)
def test_max_content_length_defaults_to_one_mib(make_app, size, status):
    """A body up to 1 MiB is read; a larger one gets 413 before any parsing."""
    client = make_app(**CHEAPEST_HASH).test_client()

    response = _upload(client, "/login", size)

    assert response.status_code == status


def test_max_content_length_is_configurable(make_app):
    """MAX_CONTENT_LENGTH lowers the limit, and the 413 page is the site's."""
    client = make_app(MAX_CONTENT_LENGTH="4096", **CHEAPEST_HASH).test_client()

    response = _upload(client, "/login", 8192)

    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert 'class="site-header"' in page
    assert "Error 413." in page
    assert _shows_no_internals(page)
