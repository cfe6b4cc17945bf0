"""Error pages in the site's look, without stack traces or internal messages."""

import logging

from flask import Flask, g, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from bastion.app.extensions import db, login_manager

logger = logging.getLogger(__name__)

CSRF_EXPIRED = "This form has expired. Reload the page and try again."
_PLAIN_500 = (
    "<!doctype html><html lang=en><meta charset=utf-8><title>Something went wrong"
    "</title><h1>Something went wrong</h1><p>Error 500. Please try again later.</p>"
)


def register_error_handlers(app: Flask) -> None:
    """Attach the handlers for CSRF failures, HTTP errors and unexpected exceptions."""
    app.register_error_handler(CSRFError, _csrf_failed)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(InternalServerError, _server_error)


def _csrf_failed(error: CSRFError):
    # A rejected form is the client's problem, not a server fault.
    logger.info("CSRF check failed: %s", error.description)
    return render_template("errors/csrf.html", message=CSRF_EXPIRED), 400


def _http_error(error: HTTPException):
    # Keep headers such as Allow on a 405, but send our page instead of Werkzeug's.
    headers = [
        (name, value)
        for name, value in error.get_headers()
        if name.lower() not in ("content-type", "content-length")
    ]
    page = render_template("errors/http.html", code=error.code, name=error.name)
    return page, error.code, headers


def _server_error(error: InternalServerError):
    try:
        db.session.rollback()
        return _render_500(), 500
    except Exception:  # noqa: BLE001 (the page itself may need the failing database)
        logger.exception("The error page needed the database; showing it signed out.")

    # Flask-Login keeps the request's user in g; an anonymous one needs no query.
    g._login_user = login_manager.anonymous_user()
    try:
        return _render_500(), 500
    except Exception:  # noqa: BLE001
        logger.exception("The error page could not be rendered; sent the plain one.")
        return _PLAIN_500, 500


def _render_500() -> str:
    return render_template("errors/http.html", code=500, name="Something went wrong")
