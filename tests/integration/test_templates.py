"""Every page, error pages included, renders without inline code or internals."""

import logging
import re
import secrets
from pathlib import Path

import pytest
from flask import Flask, template_rendered

import bastion.app
from bastion.app.admin_accounts import create_or_promote_admin
from tests.helpers import login, register

TEMPLATES = Path(bastion.app.__file__).parent / "templates"
ADMIN_PASSWORD = "granite orchard seventeen kites"
INTERNAL_DETAIL = "internal detail"
CHEAPEST_HASH = {
    "PASSWORD_HASH_MEMORY_KIB": "19456",
    "PASSWORD_HASH_ITERATIONS": "2",
    "PASSWORD_HASH_PARALLELISM": "1",
}
INLINE_CODE = {
    "inline script": re.compile(r"<script\b(?![^>]*\ssrc\s*=)[^>]*>", re.I),
    "style element": re.compile(r"<style\b", re.I),
    "style attribute": re.compile(r"<[^>]*\sstyle\s*=", re.I),
    "event handler": re.compile(r"<[^>]*\son[a-z]+\s*=", re.I),
    "javascript: URL": re.compile(r"javascript\s*:", re.I),
}
INTERNALS = (
    "traceback",
    'file "',
    "werkzeug",
    "flask",
    "jinja",
    "sqlalchemy",
    "wtforms",
    "python",
    "debugger",
)
_INCIDENT = re.compile(r"incident id: ([0-9a-f]+)\.")


def _boom():
    raise RuntimeError(INTERNAL_DETAIL)


def inline_code(html: str) -> list[str]:
    """Name each kind of inline code found in ``html``."""
    return [kind for kind, pattern in INLINE_CODE.items() if pattern.search(html)]


def internals(html: str) -> list[str]:
    """List the framework and debugging words that show in ``html``."""
    lowered = html.lower()
    return [word for word in INTERNALS if word in lowered]


@pytest.fixture
def site(make_app) -> Flask:
    """The testing app with an admin, a member and a route that raises."""
    app = make_app(**CHEAPEST_HASH)
    app.add_url_rule("/boom", "boom", _boom)
    # The testing profile re-raises view errors; answer them as a server does.
    app.config["PROPAGATE_EXCEPTIONS"] = False
    with app.app_context():
        create_or_promote_admin("boss", ADMIN_PASSWORD)
    return app


def _visitor(app: Flask):
    return app.test_client()


def _member(app: Flask):
    client = app.test_client()
    register(client, "member")
    login(client, "member")
    return client


def _admin(app: Flask):
    client = app.test_client()
    assert login(client, "boss", ADMIN_PASSWORD).status_code == 302
    return client


PAGES = {
    "home, signed out": (_visitor, "GET", "/", {}, 200),
    "sign-in": (_visitor, "GET", "/login", {}, 200),
    "registration": (_visitor, "GET", "/register", {}, 200),
    "home, signed in": (_admin, "GET", "/", {}, 200),
    "account": (_admin, "GET", "/account", {}, 200),
    "sessions": (_admin, "GET", "/account/sessions", {}, 200),
    "password change": (_admin, "GET", "/account/password", {}, 200),
    "re-authentication": (_admin, "GET", "/account/reauth", {}, 200),
    "admin users": (_admin, "GET", "/admin/users", {}, 200),
    "admin audit": (_admin, "GET", "/admin/audit", {}, 200),
}
ERROR_PAGES = {
    "400 form expired": (_visitor, "POST", "/login", {"data": {}}, 400),
    "403": (_member, "GET", "/admin/users", {}, 403),
    "404": (_visitor, "GET", "/no/such/page", {}, 404),
    "405": (_visitor, "PUT", "/login", {}, 405),
    "413": (
        _visitor,
        "POST",
        "/login",
        {"data": {"username": "x" * (1024 * 1024 + 1)}},
        413,
    ),
    "500": (_visitor, "GET", "/boom", {}, 500),
}
HOST_PAGE = {
    "400 untrusted host": (
        _visitor,
        "GET",
        "/",
        {"headers": {"Host": "evil.example"}},
        400,
    ),
}
EVERY_PAGE = {**PAGES, **ERROR_PAGES, **HOST_PAGE}


def render(app: Flask, name: str) -> str:
    """Open the page ``name`` as its visitor and return its HTML."""
    who, method, path, kwargs, status = EVERY_PAGE[name]
    response = who(app).open(path, method=method, **kwargs)
    assert response.status_code == status
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


@pytest.mark.parametrize("name", EVERY_PAGE)
def test_page_has_no_inline_code(site, name):
    """No inline script or style, event handler or javascript: URL in any page."""
    page = render(site, name)

    assert inline_code(page) == []


@pytest.mark.parametrize("name", EVERY_PAGE)
def test_page_shows_no_internals(site, name):
    """No traceback, framework name or debugger text in any page."""
    page = render(site, name)

    assert internals(page) == []
    assert INTERNAL_DETAIL not in page
    assert "RuntimeError" not in page


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("400 form expired", "This form has expired. Reload the page and try again."),
        ("403", "<h1>Forbidden</h1>"),
        ("404", "<h1>Not Found</h1>"),
        ("405", "<h1>Method Not Allowed</h1>"),
        ("413", "<h1>Request Entity Too Large</h1>"),
        ("500", "<h1>Something went wrong</h1>"),
    ],
)
def test_error_page_has_the_site_look(site, name, says):
    """Error pages use the site's layout and say which error it was."""
    page = render(site, name)

    assert 'class="site-header"' in page
    assert '<a class="brand" href="/">Bastion</a>' in page
    assert "· Bastion</title>" in page
    assert says in page
    if name != "400 form expired":
        assert f"Error {name}." in page


def test_untrusted_host_page_links_nowhere(site):
    """The page for an untrusted Host builds no URL from that host."""
    page = render(site, "400 untrusted host")

    assert "Error 400. This site does not answer to that host name." in page
    assert "evil.example" not in page
    assert re.findall(r'href="([^"]*)"', page) == ["/static/site.css"]


@pytest.fixture
def failing_app(make_app) -> Flask:
    """A development app on plain http with a route that raises."""
    app = make_app(
        APP_ENV="development", SECRET_KEY=secrets.token_hex(32), FORCE_HTTPS="false"
    )
    app.add_url_rule("/boom", "boom", _boom)
    return app


def test_server_error_page_shows_the_logged_incident_id(failing_app, caplog):
    """The 500 page's incident id is the one in the log line with the traceback."""
    with caplog.at_level(logging.ERROR):
        response = failing_app.test_client().get("/boom")

    match = _INCIDENT.search(response.get_data(as_text=True))
    assert response.status_code == 500
    assert match
    incident = match.group(1)
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.getMessage() == f"Exception on /boom [GET], incident {incident}"
    assert INTERNAL_DETAIL in str(record.exc_info[1])


def test_each_server_error_has_its_own_incident_id(failing_app):
    """Two failures get two incident ids, of at least 48 random bits each."""
    client = failing_app.test_client()

    pages = [client.get("/boom").get_data(as_text=True) for _ in range(2)]

    first, second = (_INCIDENT.search(page).group(1) for page in pages)
    assert first != second
    assert len(first) * 4 >= 48


def test_every_template_is_covered_by_a_page(site):
    """Each page template is rendered by some page above, so none goes unchecked."""
    rendered: set[str] = set()

    def record(sender, template, context, **extra):
        rendered.add(template.name)

    with template_rendered.connected_to(record, site):
        for name in EVERY_PAGE:
            render(site, name)

    # Layouts and macros are only ever included by the page templates.
    pages = {
        path.relative_to(TEMPLATES).as_posix()
        for path in TEMPLATES.rglob("*.html")
        if not path.name.startswith("_") and path.name != "base.html"
    }
    assert pages <= rendered


@pytest.mark.parametrize(
    "path",
    sorted(TEMPLATES.rglob("*.html")),
    ids=lambda path: path.relative_to(TEMPLATES).as_posix(),
)
def test_template_file_has_no_inline_code(path):
    """No template holds inline script or style, event handlers or javascript:."""
    assert inline_code(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    ("html", "kind"),
    [
        ("<script>alert(1)</script>", "inline script"),
        ('<script nonce="n">go()</script>', "inline script"),
        ("<STYLE>p{}</STYLE>", "style element"),
        ('<p style="color:red">', "style attribute"),
        ('<img src="x" onerror="go()">', "event handler"),
        ("<body onload=go()>", "event handler"),
        ('<a href="javascript:go()">', "javascript: URL"),
    ],
)
def test_scanner_finds_inline_code(html, kind):
    """The patterns above catch each kind of inline code they name."""
    assert inline_code(html) == [kind]


@pytest.mark.parametrize(
    "html",
    [
        '<script src="/static/app.js"></script>',
        '<link rel="stylesheet" href="/static/site.css">',
        "<p>one = two, style = plain, javascript is off</p>",
        '<input name="onboard" value="x">',
    ],
)
def test_scanner_passes_clean_markup(html):
    """External scripts, stylesheets and plain words are not inline code."""
    assert inline_code(html) == []
