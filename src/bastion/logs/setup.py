"""Configure logging once: one handler on stderr, UTC timestamps, redaction.

``LOG_FORMAT=text`` writes one readable line per record; ``json`` writes one JSON
object per line for log shippers. Bastion's loggers, Werkzeug's, Alembic's and (through
``bastion.logs.gunicorn``) gunicorn's all share the one handler, so every record
passes through a ``Redactor`` last: a secret in a message, its arguments, its extra
fields or a traceback is masked before it is written.
"""

import json
import logging
import math
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from bastion.logs.redaction import (
    ALREADY_MASKED,
    MASK,
    Redactor,
    escape_controls,
    is_secret_name,
    use_redactor,
)
from bastion.logs.requests import RequestIdFilter, is_plain_request_id

LOGGER_NAMES = ("bastion", "alembic", "werkzeug")
# Attributes every LogRecord has; anything else on a record is an extra field.
_STANDARD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message"}
# Werkzeug's development server logs each request with its query string, where
# tokens travel. Bastion's access log already has one line per request, without it.
_WERKZEUG_REQUEST_LINE = re.compile(r'\S+ - - \[[^\]]*\] "')


# (second, its formatted text): records come many a second, formatting takes a while.
# One tuple, replaced whole, so threads never see half an update.
_last_second: tuple[int, str] = (-1, "")


def _utc_timestamp(record: logging.LogRecord) -> str:
    global _last_second
    second = int(record.created)
    cached_second, stamp = _last_second
    if second != cached_second:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        _last_second = (second, stamp)
    return f"{stamp}.{int(record.msecs):03d}Z"


class UTCFormatter(logging.Formatter):
    """One readable line per record: UTC time, level, process, request id, logger."""

    def __init__(self, redact: Redactor | None = None) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s [%(process)d] [%(request_id)s] "
            "%(name)s: %(message)s"
        )
        self.redact = redact or Redactor()

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return _utc_timestamp(record)

    def format(self, record: logging.LogRecord) -> str:
        # Masked before escaping: escaping turns a card's tab into \x09 and the line
        # break after "password:" into \x0a, and the patterns would no longer match.
        # Escaping keeps library messages that carry request text (Flask's "Exception
        # on <path>") on one line; tracebacks keep their lines.
        record.message = escape_controls(_masked_message(record, self.redact))
        record.asctime = self.formatTime(record)
        if not hasattr(record, "request_id"):
            record.request_id = "-"
        # The message and the traceback are masked, not the prefix: its time, process
        # and request id are ours, and an id of digits could pass for a card number.
        lines = [self.formatMessage(record)]
        if record.exc_info:
            lines.append(self.formatException(record.exc_info))
        elif record.exc_text:
            lines.append(record.exc_text)
        if record.stack_info:
            lines.append(self.formatStack(record.stack_info))
        return "\n".join([lines[0], *(self.redact(text) for text in lines[1:])])


def _masked_message(record: logging.LogRecord, redact: Redactor) -> str:
    message = record.getMessage()
    # Security events and access lines are built from values masked one by one and
    # then quoted; masking the whole line again could cut into a quoted value.
    if getattr(record, ALREADY_MASKED, False):
        return message
    return redact(message)


class JSONFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, process, message, extras."""

    def __init__(self, redact: Redactor | None = None) -> None:
        super().__init__()
        self.redact = redact or Redactor()

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": _utc_timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "process": record.process,
            "message": _masked_message(record, self.redact),
        }
        attributes = vars(record)
        for key in sorted(attributes.keys() - _STANDARD_ATTRIBUTES):
            if key.startswith("_"):
                continue
            value = attributes[key]
            if key == "request_id" and is_plain_request_id(value):
                # Ours or a trusted proxy's, checked already; masking would only hide
                # the rare id made of digits that passes the card check.
                entry[key] = value
            elif is_secret_name(key):
                entry[key] = MASK
            else:
                entry[key] = _redacted_value(value, self.redact)
        if record.exc_info:
            entry["exception"] = self.redact(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exception"] = self.redact(record.exc_text)
        if record.stack_info:
            entry["stack"] = self.redact(self.formatStack(record.stack_info))
        # json.dumps escapes line breaks and control characters: one record, one line.
        line = json.dumps(entry, ensure_ascii=False)
        # Except the three that JSON allows raw but str.splitlines() and some
        # shippers take for line breaks.
        return line if line.isascii() else line.translate(_LINE_BREAKS_ESCAPED)


_LINE_BREAKS_ESCAPED = {0x85: "\\u0085", 0x2028: "\\u2028", 0x2029: "\\u2029"}
# Deeper than this, an extra field is cut: a structure that refers to itself would
# otherwise raise RecursionError out of the logging call.
_DEEPEST_EXTRA = 20


def _redacted_value(value: object, redact: Redactor, depth: int = 0) -> object:
    if type(value) is str:
        return redact(value)
    if isinstance(value, float) and not math.isfinite(value):
        # NaN and Infinity are not JSON; strict parsers would refuse the line.
        return str(value)
    # Numbers, booleans and None stay JSON values, so a shipper can compare them.
    if value is None or isinstance(value, bool | int | float):
        return value
    if depth >= _DEEPEST_EXTRA and isinstance(value, dict | list | tuple):
        return "[nested too deep]"
    if isinstance(value, dict):
        # A form or a set of headers passed whole: its secret-named keys mask too,
        # and a key may hold a secret itself.
        return {
            redact(str(key)): _redacted_item(key, item, redact, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        # A (name, value) tuple, as in a list of headers or form items. Not a list:
        # ["SECRET_KEY", "DEBUG"] is two names, not a name and its value.
        if (
            isinstance(value, tuple)
            and len(value) == 2
            and isinstance(value[0], str)
            and is_secret_name(value[0])
        ):
            return [value[0], MASK]
        return [_redacted_value(item, redact, depth + 1) for item in value]
    return redact(str(value))


def _redacted_item(key: object, item: object, redact: Redactor, depth: int) -> object:
    return MASK if is_secret_name(str(key)) else _redacted_value(item, redact, depth)


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
