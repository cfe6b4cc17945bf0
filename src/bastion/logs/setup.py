"""Configure Bastion's loggers once: one handler on stderr, UTC timestamps."""

import logging
import sys
import time

from bastion.logs.redaction import escape_controls

_HANDLER_NAME = "bastion-stderr"
LOGGER_NAMES = ("bastion",)


class UTCFormatter(logging.Formatter):
    """Format timestamps in UTC, ISO 8601, so logs from any host line up."""

    converter = time.gmtime

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802
        # Messages from libraries (Flask's "Exception on <path>") may carry request
        # text; escaping here keeps one record on one line. Tracebacks keep theirs.
        record.message = escape_controls(record.message)
        return super().formatMessage(record)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", self.converter(record.created))
        return f"{stamp}.{int(record.msecs):03d}Z"


def configure_logging(level: str) -> None:
    """Send Bastion's records at ``level`` and up to stderr; safe to call again."""
    for name in LOGGER_NAMES:
        logger = logging.getLogger(name)
        logger.setLevel(level)
        if not any(handler.get_name() == _HANDLER_NAME for handler in logger.handlers):
            logger.addHandler(_stderr_handler())


class _StderrHandler(logging.StreamHandler):
    """Write to whatever ``sys.stderr`` is now, so output swapped by a test is seen."""

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:
        """Ignore the stream StreamHandler sets; stderr is looked up on each write."""


def _stderr_handler() -> logging.Handler:
    handler = _StderrHandler()
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(
        UTCFormatter("%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s")
    )
    return handler
