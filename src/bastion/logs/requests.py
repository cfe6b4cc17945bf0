"""Per-request logging: a request id on every record, and one access line per request.

The id comes from ``X-Request-ID`` only when a trusted proxy set it
(``TRUSTED_PROXY_HOPS`` above 0) and it is short and plain; otherwise it is generated
here. It is returned in the response's ``X-Request-ID`` header, so a user quoting it
lets an operator find every record of that request.
"""

import logging
import os
import re
import time

from flask import Flask, g, has_request_context, request

from bastion.logs.redaction import ALREADY_MASKED, masked_for_log, quoted

REQUEST_ID_HEADER = "X-Request-ID"
_OFFERED_ID = "HTTP_X_REQUEST_ID"
# Where the middleware leaves the id and the start time for the rest of the request.
_ID_KEY = "bastion.request_id"
_STARTED_KEY = "bastion.request_started"
# Letters, digits and a few separators; enough for UUIDs and most proxies' ids.
_PLAIN_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")
_PLAIN_METHOD = re.compile(r"[A-Z]{3,16}")

access_logger = logging.getLogger("bastion.access")


def is_plain_request_id(value: object) -> bool:
    """Whether ``value`` is a request id as this module accepts or makes them."""
    return isinstance(value, str) and _PLAIN_ID.fullmatch(value) is not None


def current_request_id() -> str | None:
    """The id of the request being handled, or None outside a request."""
    if not has_request_context():
        return None
    return request.environ.get(_ID_KEY)


class RequestIdFilter(logging.Filter):
    """Stamp each record with the id of the request it was logged in, if any."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = current_request_id() or "-"
        return True


class _RequestLogMiddleware:
    """Give each request an id, return it as a header, and write the access line.

    WSGI middleware rather than Flask hooks: it runs on every request, static files
    included, and each Flask hook costs several times as much to call. Flask calls
    ``start_response`` while the request context is still active, after every
    ``after_request`` hook, so the access line there has the final status and the
    signed-in user.
    """

    def __init__(self, wsgi_app, trust_request_id: bool, access_log: bool) -> None:
        self.wsgi_app = wsgi_app
        self.trust_request_id = trust_request_id
        self.access_log = access_log

    def __call__(self, environ, start_response):
        environ[_STARTED_KEY] = time.perf_counter()
        offered = environ.get(_OFFERED_ID) if self.trust_request_id else None
        if offered is not None and is_plain_request_id(offered):
            request_id = offered
        else:
            request_id = os.urandom(8).hex()
        environ[_ID_KEY] = request_id

        def start_with_id(status: str, headers, exc_info=None):
            headers.append((REQUEST_ID_HEADER, request_id))
            if self.access_log and access_logger.isEnabledFor(logging.INFO):
                _log_access(environ, int(status[:3]))
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start_with_id)


def init_request_logging(
    app: Flask, trust_request_id: bool, access_log: bool = True
) -> None:
    """Give each request of ``app`` an id and, with ``access_log``, write its access
    line when it ends."""
    app.wsgi_app = _RequestLogMiddleware(app.wsgi_app, trust_request_id, access_log)


def _log_access(environ: dict, status: int) -> None:
    request_id = environ[_ID_KEY]
    duration_ms = round((time.perf_counter() - environ[_STARTED_KEY]) * 1000, 1)
    # The client chooses the method too; gunicorn refuses odd ones, other servers
    # may not. An odd one is kept (escaped) in its field, and shown as "-" in text.
    method = environ.get("REQUEST_METHOD", "-")
    plain_method = _PLAIN_METHOD.fullmatch(method) is not None
    # Flask calls start_response inside the request context; the fallbacks are for
    # a WSGI app in between that answers on its own.
    in_flask = has_request_context()
    user_id = signed_in_user_id() if in_flask else None
    # The path alone: the query string, where tokens travel, is kept apart from it.
    path = masked_for_log(request.path if in_flask else environ.get("PATH_INFO", ""))
    # Built and handed over directly: Logger.info would walk the stack for the
    # caller's file and line, which an access line does not need, on every request.
    record = access_logger.makeRecord(
        access_logger.name,
        logging.INFO,
        __file__,
        0,
        # The path, which the client chose, goes last and after "path=": the
        # redactor may mask from a match to the end of the line, and digits next
        # to the user id could otherwise be read as one card number.
        "%s %s %.1fms user=%s path=%s",
        (
            method if plain_method else "-",
            status,
            duration_ms,
            user_id if user_id is not None else "-",
            # Quoted when it has a space, quote or "=", so "/x user=1" stays one value.
            quoted(path),
        ),
        None,
        extra={
            "method": method if plain_method else masked_for_log(method),
            "path": path,
            "status": status,
            "duration_ms": duration_ms,
            "user_id": user_id,
            "request_id": request_id,
            # Its client-given parts are masked already, and then quoted.
            ALREADY_MASKED: True,
        },
    )
    access_logger.handle(record)


def signed_in_user_id() -> int | str | None:
    """The id of the user signed in on this request, if Flask-Login already knows it.

    Reads Flask-Login's per-request cache (``g._login_user``) instead of
    ``current_user``, so asking never loads a user a view did not need.
    """
    user = g.get("_login_user")
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    user_id = user.get_id()
    return int(user_id) if isinstance(user_id, str) and user_id.isdigit() else user_id
