"""Configure Bastion's loggers once: one handler on stderr, UTC timestamps, redaction.

``LOG_FORMAT=text`` writes one readable line per record; ``json`` writes one JSON
object per line for log shippers. Either way every record passes through a
``Redactor`` last, so a secret in a message, its arguments, its extra fields or a
traceback is masked before it is written.
"""

import json
import logging
import sys
import time

from bastion.logs.redaction import Redactor, escape_controls

_HANDLER_NAME = "bastion-stderr"
LOGGER_NAMES = ("bastion", "alembic")
# Attributes every LogRecord has; anything else on a record is an extra field.
_STANDARD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message"}


def _utc_timestamp(record: logging.LogRecord) -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
    return f"{stamp}.{int(record.msecs):03d}Z"


class UTCFormatter(logging.Formatter):
    """One readable line per record: UTC ISO 8601 time, level, process, logger."""

    def __init__(self, redact: Redactor | None = None) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"
        )
        self.redact = redact or Redactor()

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802
        # Messages from libraries (Flask's "Exception on <path>") may carry request
        # text; escaping here keeps one record on one line. Tracebacks keep theirs.
        record.message = escape_controls(record.message)
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
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = self.redact(str(value))
        if record.exc_info:
            entry["exception"] = self.redact(self.formatException(record.exc_info))
        # json.dumps escapes line breaks and control characters: one record, one line.
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(
    level: str, log_format: str = "text", secrets: list[str] | None = None
) -> None:
    """Send Bastion's records at ``level`` and up to stderr; safe to call again.

    ``secrets`` are values masked wherever they appear. A second call replaces the
    format and the secrets, so the last app configured decides.
    """
    redact = Redactor(secrets)
    formatter = JSONFormatter(redact) if log_format == "json" else UTCFormatter(redact)
    for name in LOGGER_NAMES:
        logger = logging.getLogger(name)
        logger.setLevel(level)
        handler = next(
            (found for found in logger.handlers if found.get_name() == _HANDLER_NAME),
            None,
        )
        if handler is None:
            handler = _StderrHandler()
            handler.set_name(_HANDLER_NAME)
            logger.addHandler(handler)
        handler.setFormatter(formatter)


class _StderrHandler(logging.StreamHandler):
    """Write to whatever ``sys.stderr`` is now, so output swapped by a test is seen."""

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:
        """Ignore the stream StreamHandler sets; stderr is looked up on each write."""
