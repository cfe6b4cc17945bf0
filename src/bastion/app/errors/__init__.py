"""Error pages in the site's look, without stack traces or internal messages."""

import logging

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from bastion.app.extensions import db

logger = logging.getLogger(__name__)

CSRF_EXPIRED = "This form has expired. Reload the page and try again."


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
    db.session.rollback()
    return render_template(
        "errors/http.html", code=500, name="Something went wrong"
    ), 500
