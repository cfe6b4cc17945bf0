"""Canary values planted across the whole test run, and the ledger that hunts them.

The suite signs with a canary SECRET_KEY, types a canary password, sends a canary
cookie with every test-client request, and gives PostgreSQL a canary password. Every
log record, audit row and response body of the run is written down here; at the end
of the run none may contain a canary, nor a session cookie or CSRF token the app
issued (those may appear in responses, where they belong, but never in logs).
"""

import logging
import os
import re
import traceback

from flask.testing import FlaskClient

CANARY_SECRET_KEY = "CanaryKey-9Vq2LxR7mT4pW8sN3bY6cH1dJ5fK0gZe"  # noqa: S105
CANARY_PASSWORD = "Canary passphrase 7Qm4 Lx2v Rt9k"  # noqa: S105
CANARY_COOKIE = "CanaryCookie-3Hd8Pq1Wz6Nb4Ys7Ft2Gk5Mv"
CANARY_DB_PASSWORD = "CanaryDbPass-6Rk1Vw8Qe3Tz5Lp2Jx9Hn"  # noqa: S105
CANARY_COOKIE_NAME = "canary_tracker"
_CSRF_IN_FORM = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_SHORTEST_ISSUED = 16


class CanaryLedger:
    """Everything the run logged, stored and answered, checked once at the end."""

    def __init__(self, canaries: list[str]) -> None:
        self.canaries = list(canaries)
        # Values the app handed out; fine in a response, never in a log or a row.
        self.issued: set[str] = set()
        self.logged: list[tuple[str, str]] = []
        self.stored: list[tuple[str, str]] = []
        self.answered: list[tuple[str, str]] = []

    def leaks(self) -> list[str]:
        """Describe every place a canary or an issued value turned up."""
        found = []
        private = [*self.canaries, *sorted(self.issued)]
        for kind, entries, forbidden in (
            ("log record", self.logged, private),
            ("audit row", self.stored, private),
            ("response body", self.answered, self.canaries),
        ):
            for test, text in entries:
                found += [
                    f"{kind} in {test} contains {value[:12]}..."
                    for value in forbidden
                    if value in text
                ]
        return found

    def log_handler(self) -> logging.Handler:
        """A handler that writes down each record: message, arguments, extras, trace."""
        ledger = self

        class _Recorder(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                parts = [str(record.msg), repr(record.args), repr(vars(record))]
                if record.exc_info:
                    parts.append("".join(traceback.format_exception(*record.exc_info)))
                ledger.logged.append((_current_test(), "\n".join(parts)))

        return _Recorder(logging.DEBUG)

    def watch_response(self, response) -> None:
        """Write down a response's body and the cookies and tokens it issued."""
        for header in response.headers.getlist("Set-Cookie"):
            value = header.split(";", 1)[0].partition("=")[2].strip('"')
            if len(value) >= _SHORTEST_ISSUED:
                self.issued.add(value)
        if not (response.mimetype.startswith("text/") or "json" in response.mimetype):
            # Images and other files are sent from disk, never built from requests.
            return
        # Reading buffers the body, so the test still sees all of it.
        body = response.get_data(as_text=True)
        self.issued.update(_CSRF_IN_FORM.findall(body))
        self.answered.append((_current_test(), body))


def _current_test() -> str:
    return os.environ.get("PYTEST_CURRENT_TEST", "outside a test").split(" ")[0]


LEDGER = CanaryLedger(
    [CANARY_SECRET_KEY, CANARY_PASSWORD, CANARY_COOKIE, CANARY_DB_PASSWORD]
)


class CanaryClient(FlaskClient):
    """A test client that sends the canary cookie and reports every response."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.set_cookie(CANARY_COOKIE_NAME, CANARY_COOKIE)

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        LEDGER.watch_response(response)
        return response
