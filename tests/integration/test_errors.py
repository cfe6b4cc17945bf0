"""Error pages keep the site's look and never show tracebacks or internal messages."""

import logging
import secrets

import pytest
from sqlalchemy import text

from bastion.app.extensions import db
from tests.helpers import login, register

INTERNAL_DETAIL = "internal detail"


def _is_site_page(page: str) -> bool:
    return 'class="site-header"' in page and '<a class="brand" href="/">' in page


def _shows_no_internals(page: str) -> bool:
    lowered = page.lower()
    return not any(
        word in lowered for word in ("traceback", "werkzeug", "debugger", 'file "')
    )


def _boom():
    raise RuntimeError(INTERNAL_DETAIL)


@pytest.fixture(params=["production", "development"])
def failing_app(request, make_app):
    """An app outside testing, with a route that raises, added before any request."""
    # Plain http here: these tests are about errors, not the https redirect.
    app = make_app(
        APP_ENV=request.param, SECRET_KEY=secrets.token_hex(32), FORCE_HTTPS="false"
    )
    app.add_url_rule("/boom", "boom", _boom)
    return app


def test_not_found_page_has_site_look(client):
    """An unknown path gets 404 in the site's layout, without internals."""
    response = client.get("/no/such/page")
    page = response.get_data(as_text=True)

    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert _is_site_page(page)
    assert "<h1>Not Found</h1>" in page
    assert "Error 404." in page
    assert _shows_no_internals(page)


def test_method_not_allowed_page_has_site_look(client):
    """A wrong method gets 405 in the site's layout, with the Allow header kept."""
    response = client.put("/login")
    page = response.get_data(as_text=True)

    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert _is_site_page(page)
    assert "Error 405." in page
    assert _shows_no_internals(page)


def test_exception_in_view_gives_plain_500(failing_app):
    """An exception in a view gives the site's 500 page, not its message."""
    response = failing_app.test_client().get("/boom")
    page = response.get_data(as_text=True)

    assert response.status_code == 500
    assert _is_site_page(page)
    assert "Something went wrong" in page
    assert INTERNAL_DETAIL not in page
    assert "RuntimeError" not in page
    assert _shows_no_internals(page)


def test_exception_is_logged_for_the_operator(failing_app, caplog):
    """The server log keeps the exception the page hides."""
    failing_app.test_client().get("/boom")

    errors = [record for record in caplog.records if record.levelname == "ERROR"]
    assert errors
    assert any(INTERNAL_DETAIL in str(record.exc_info[1]) for record in errors)


def test_app_keeps_working_after_a_500(failing_app):
    """After a failing request, the next request is served normally."""
    client = failing_app.test_client()
    client.get("/boom")

    assert client.get("/login").status_code == 200


def test_error_page_survives_a_database_failure(make_app):
    """A signed-in user gets the site's 503 page when the database fails."""
    app = make_app(APP_ENV="development", SECRET_KEY=secrets.token_hex(32))
    client = app.test_client()
    register(client, "alice")
    login(client, "alice")
    with app.app_context():
        db.session.execute(text("DROP TABLE users"))
        db.session.commit()

    response = client.get("/")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    page = response.get_data(as_text=True)
    assert _is_site_page(page)
    assert "briefly unavailable" in page
    assert "no such table" not in page


def test_a_refused_form_while_the_database_fails_is_still_a_400(make_app, caplog):
    """A CSRF failure needs no database: the page is shown and the event logged."""
    app = make_app()
    client = app.test_client()
    register(client, "alice")
    login(client, "alice")
    with app.app_context():
        db.session.execute(text("DROP TABLE user_sessions"))
        db.session.commit()
    caplog.set_level(logging.INFO, logger="bastion")

    response = client.post("/logout")

    assert response.status_code == 400
    assert "This form has expired" in response.text
    assert "csrf.failed" in caplog.text
