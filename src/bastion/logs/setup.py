"""Configure logging once: one handler on stderr, in one format, with redaction.

``LOG_FORMAT=text`` writes one readable line per record; ``json`` writes one JSON
object per line for log shippers (``bastion.logs.formats``). Bastion's loggers,
Werkzeug's, Alembic's and (through ``bastion.logs.gunicorn``) gunicorn's all share the
one handler, so every record passes through a ``Redactor`` last: a secret in a message,
its arguments, its extra fields or a traceback is masked before it is written.
"""

import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from bastion.logs.formats import JSONFormatter, UTCFormatter
from bastion.logs.redaction import Redactor, use_redactor
from bastion.logs.requests import RequestIdFilter

LOGGER_NAMES = ("bastion", "alembic", "werkzeug")
# Werkzeug's development server logs each request with its query string, where
# tokens travel. Bastion's access log already has one line per request, without it.
_WERKZEUG_REQUEST_LINE = re.compile(r'\S+ - - \[[^\]]*\] "')


class _StderrHandler(logging.StreamHandler):
    """Write to whatever ``sys.stderr`` is now, so output swapped by a test is seen."""

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802
        """Report a record that could not be written, without its contents.

        logging's own report prints the message and its arguments as they are:
        ``log.info("password=%s %s", typed)`` would show the password unmasked.
        """
        if not logging.raiseExceptions:
            return
        error = sys.exc_info()[1]
        sys.stderr.write(
            f"--- Logging error: {type(error).__name__} in a record of {record.name} "
            f"({record.pathname}:{record.lineno}); its message and arguments are not "
            "shown, as they may hold secrets.\n"
        )

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:
        """Ignore the stream StreamHandler sets; stderr is looked up on each write."""


def _drop_werkzeug_request_lines(record: logging.LogRecord) -> bool:
    return not _WERKZEUG_REQUEST_LINE.match(str(record.msg))


# One handler shared by every logger configured here, so a format change reaches all.
_handler = _StderrHandler()
_handler.addFilter(RequestIdFilter())
_handler.setFormatter(UTCFormatter())
_configured = False


def is_configured() -> bool:
    """Whether ``configure_logging`` has run in this process."""
    return _configured


def configure_logging(
    level: str, log_format: str = "text", secrets: list[str] | None = None
) -> None:
    """Send records at ``level`` and up to stderr; safe to call again.

    When the root logger has no handler yet, the shared handler goes there and the
    root level becomes ``level``, as ``logging.basicConfig`` would do: every logger
    is then covered. When something else configured logging first (an app's own
    set-up, or a test runner), only Bastion's, Alembic's and Werkzeug's loggers are.
    ``secrets`` are values masked wherever they appear. A second call replaces the
    format and the secrets, so the last app configured decides.
    """
    global _configured
    _configured = True
    redact = Redactor(secrets)
    # The same masking for copies kept elsewhere: audit rows and the access path.
    use_redactor(redact)
    _handler.setFormatter(
        JSONFormatter(redact) if log_format == "json" else UTCFormatter(redact)
    )
    root = logging.getLogger()
    if _handler in root.handlers or not root.handlers:
        # Nobody else set up logging: take the root logger, so the app's own loggers
        # and every library's are formatted and redacted alike.
        root.setLevel(level)
        _take_root(root)
        # Python's warnings would otherwise go to stderr as bare text, breaking a
        # JSON log's one object per line and skipping the redactor.
        logging.captureWarnings(True)
    for name in LOGGER_NAMES:
        logger = logging.getLogger(name)
        logger.setLevel(level)
        attach_handler(logger)
    # Alembic 1.16 announces each of its plugins at INFO whenever it loads.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    werkzeug = logging.getLogger("werkzeug")
    if _drop_werkzeug_request_lines not in werkzeug.filters:
        werkzeug.addFilter(_drop_werkzeug_request_lines)


class HeldRecords(logging.Handler):
    """Records kept back by ``records_held``, to be logged once logging is set up."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    # Not "release": logging.Handler already has a release(), for its lock.
    def replay(self) -> None:
        """Log the records kept back, through the handlers and levels now in place."""
        records, self.records = self.records, []
        for record in records:
            origin = logging.getLogger(record.name)
            if origin.isEnabledFor(record.levelno):
                origin.handle(record)


@contextmanager
def records_held(name: str = "bastion") -> Iterator[HeldRecords]:
    """Keep back the records of ``name`` and its children logged inside the block.

    Loading settings can warn before the settings say which format to log in; those
    warnings would go out as bare text through Python's last-resort handler. Call
    ``replay()`` after ``configure_logging`` to log them in the chosen format. If the
    block fails, they are replayed at once, so nothing it said is lost.
    """
    logger = logging.getLogger(name)
    held = HeldRecords()
    saved = logger.handlers, logger.propagate
    logger.handlers, logger.propagate = [held], False
    succeeded = False
    try:
        yield held
        succeeded = True
    finally:
        logger.handlers, logger.propagate = saved
        if not succeeded:
            held.replay()


def _take_root(root: logging.Logger) -> None:
    # A logger that got the handler from an earlier call would write each record
    # twice once the root has it too. One that does not pass records up (gunicorn's
    # error log) keeps it: without it, its records would reach no handler of ours.
    for logger in logging.Logger.manager.loggerDict.values():
        if (
            isinstance(logger, logging.Logger)
            and _handler in logger.handlers
            and logger.propagate
        ):
            logger.removeHandler(_handler)
    root.addHandler(_handler)


def attach_handler(logger: logging.Logger, exclusive: bool = False) -> None:
    """Route ``logger`` through the shared handler, unless an ancestor already does.

    ``exclusive`` removes the logger's other handlers first, for libraries such as
    gunicorn that install their own.
    """
    if exclusive:
        for handler in list(logger.handlers):
            if handler is not _handler:
                logger.removeHandler(handler)
    if not handled_here(logger):
        logger.addHandler(_handler)


def handled_here(logger: logging.Logger) -> bool:
    """Whether records of ``logger`` reach the shared handler already."""
    current: logging.Logger | None = logger
    while current is not None:
        if _handler in current.handlers:
            return True
        current = current.parent if current.propagate else None
    return False
