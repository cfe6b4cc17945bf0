"""Configure logging once: one handler on stderr, UTC timestamps, redaction.

``LOG_FORMAT=text`` writes one readable line per record; ``json`` writes one JSON
object per line for log shippers. Bastion's loggers, Werkzeug's, Alembic's and (through
``bastion.logs.gunicorn``) gunicorn's all share the one handler, so every record
passes through a ``Redactor`` last: a secret in a message, its arguments, its extra
fields or a traceback is masked before it is written.
"""

import json
import logging
import re
import sys
import time

from bastion.logs.redaction import MASK, Redactor, escape_controls, is_secret_name
from bastion.logs.requests import RequestIdFilter

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

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802
        # Messages from libraries (Flask's "Exception on <path>") may carry request
        # text; escaping here keeps one record on one line. Tracebacks keep theirs.
        record.message = escape_controls(record.message)
        if not hasattr(record, "request_id"):
            record.request_id = "-"
        return super().formatMessage(record)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return _utc_timestamp(record)

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))


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
            "message": self.redact(record.getMessage()),
        }
        attributes = vars(record)
        for key in sorted(attributes.keys() - _STANDARD_ATTRIBUTES):
            if key.startswith("_"):
                continue
            value = attributes[key]
            entry[key] = (
                MASK if is_secret_name(key) else _redacted_value(value, self.redact)
            )
        if record.exc_info:
            entry["exception"] = self.redact(self.formatException(record.exc_info))
        # json.dumps escapes line breaks and control characters: one record, one line.
        return json.dumps(entry, ensure_ascii=False)


def _redacted_value(value: object, redact: Redactor) -> object:
    if type(value) is str:
        return redact(value)
    # Numbers, booleans and None stay JSON values, so a shipper can compare them.
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, dict):
        return {str(key): _redacted_value(item, redact) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted_value(item, redact) for item in value]
    return redact(str(value))


class _StderrHandler(logging.StreamHandler):
    """Write to whatever ``sys.stderr`` is now, so output swapped by a test is seen."""

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


def configure_logging(
    level: str, log_format: str = "text", secrets: list[str] | None = None
) -> None:
    """Send records at ``level`` and up to stderr; safe to call again.

    ``secrets`` are values masked wherever they appear. A second call replaces the
    format and the secrets, so the last app configured decides.
    """
    redact = Redactor(secrets)
    _handler.setFormatter(
        JSONFormatter(redact) if log_format == "json" else UTCFormatter(redact)
    )
    for name in LOGGER_NAMES:
        logger = logging.getLogger(name)
        logger.setLevel(level)
        attach_handler(logger)
    # Alembic 1.16 announces each of its plugins at INFO whenever it loads.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    werkzeug = logging.getLogger("werkzeug")
    if _drop_werkzeug_request_lines not in werkzeug.filters:
        werkzeug.addFilter(_drop_werkzeug_request_lines)


def redact(text: str) -> str:
    """Mask secrets in ``text`` as the log handler would, for copies kept elsewhere."""
    return _handler.formatter.redact(text)


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
