"""Error pages in the site's look, without stack traces or internal messages."""

import logging

from flask import Flask, flash, g, redirect, render_template, url_for
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm.exc import ObjectDeletedError
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError

from bastion.app import sessions
from bastion.app.extensions import db, login_manager
from bastion.logs.events import record_event

logger = logging.getLogger(__name__)

CSRF_EXPIRED = "This form has expired. Reload the page and try again."
SESSION_ENDED = "Your session has ended. Please sign in again."
UNAVAILABLE = "The service is briefly unavailable. Please try again in a moment."
RETRY_AFTER_SECONDS = 5
_PLAIN_PAGE = (
    "<!doctype html><html lang=en><meta charset=utf-8><title>{title}</title>"
    "<h1>{title}</h1><p>Error {code}. Please try again later.</p>"
)


def register_error_handlers(app: Flask) -> None:
    """Attach the handlers for CSRF failures, HTTP errors, outages and crashes."""
    # Flask-WTF logs every refused token at INFO; csrf.failed below records each
    # one with who and where, so its own line would only say it twice.
    logging.getLogger("flask_wtf.csrf").setLevel(logging.WARNING)
    app.register_error_handler(SecurityError, _untrusted_host)
    app.register_error_handler(CSRFError, _csrf_failed)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(ObjectDeletedError, _session_ended_meanwhile)
    app.register_error_handler(PoolTimeoutError, _database_unavailable)
    app.register_error_handler(InternalServerError, _server_error)


def _untrusted_host(error: SecurityError):
    # No URL can be built for a Host that is not ours, so this page links nowhere.
    return render_template("errors/host.html"), 400


def _csrf_failed(error: CSRFError):
    # A rejected form is the client's problem, not a server fault.
    # The CSRF check runs before the session is loaded; look up whose cookie it is,
    # since a forged form aimed at a signed-in user is the case worth knowing.
    try:
        user = sessions.cookie_user()
    except SQLAlchemyError as lookup_error:
        # The database is down: the refusal is still recorded, without the name.
        logger.warning(
            "Could not look up the session (%s).", type(lookup_error).__name__
        )
        _roll_back()
        user = None
    record_event(
        "csrf.failed",
        user_id=user.id if user else None,
        username=user.username if user else None,
        reason=error.description,
    )
    return _page("errors/csrf.html", 400, title="Form expired", message=CSRF_EXPIRED)


def _http_error(error: HTTPException):
    # Keep headers such as Allow on a 405, but send our page instead of Werkzeug's.
    headers = [
        (name, value)
        for name, value in error.get_headers()
        if name.lower() not in ("content-type", "content-length")
    ]
    page, code = _page("errors/http.html", error.code, title=error.name)
    return page, code, headers


def _session_ended_meanwhile(error: ObjectDeletedError):
    # Another request (a sign-out elsewhere, a password change) ended this one while
    # it was being served: answer as to a visitor who has just been signed out, not
    # with a 500. Any other row gone missing is a fault, and raised as one.
    _roll_back()
    if not sessions.current_row_deleted():
        raise error
    logger.info("The session ended during its request; asked to sign in again.")
    sessions.forget_ended()
    flash(SESSION_ENDED, "info")
    return redirect(url_for("auth.login"))


def _database_unavailable(error: Exception):
    # The driver's message can name hosts and users; the class name is enough here.
    logger.warning("Database unavailable (%s); answered 503.", type(error).__name__)
    _roll_back()
    page, code = _page(
        "errors/http.html", 503, title="Service unavailable", detail=UNAVAILABLE
    )
    return page, code, {"Retry-After": str(RETRY_AFTER_SECONDS)}


def _server_error(error: InternalServerError):
    _roll_back()
    return _page(
        "errors/http.html",
        500,
        title="Something went wrong",
        detail="Please try again later. If it keeps happening, tell us this "
        f"incident id: {g.get('incident_id', 'unknown')}.",
    )


def _roll_back() -> None:
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 (a dead connection cannot roll back; it is dropped)
        logger.warning("Rolling back the database session failed.", exc_info=True)


def _page(template: str, code: int, title: str, **context) -> tuple[str, int]:
    """Render an error page; never let the page itself fail the response.

    The layout shows who is signed in, which needs the database. When that fails,
    the page is shown as to a signed-out visitor, and as plain HTML at worst.
    """
    context.update(code=code, name=title)
    try:
        return render_template(template, **context), code
    except Exception:  # noqa: BLE001
        logger.warning("Error page %s needed the database; shown signed out.", code)

    # Flask-Login keeps the request's user in g; an anonymous one needs no query.
    g._login_user = login_manager.anonymous_user()
    try:
        return render_template(template, **context), code
    except Exception:  # noqa: BLE001
        logger.exception("Error page %s could not be rendered; sent plain HTML.", code)
        return _PLAIN_PAGE.format(title=title, code=code), code
