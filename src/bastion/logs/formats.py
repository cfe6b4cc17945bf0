"""Log formats: one readable line, or one JSON object, per record, masked.

``UTCFormatter`` writes ``time level [process] [request id] logger: message``;
``JSONFormatter`` writes one object with the record's extra fields as keys. Both mask
secrets in the message, the traceback and (JSON) every field, and keep a record on one
line whatever a client typed.
"""

import functools
import json
import logging
import math
import time

from bastion.logs.redaction import (
    ALREADY_MASKED,
    MASK,
    Redactor,
    escape_controls,
    is_secret_name,
)
from bastion.logs.requests import is_plain_request_id

# Attributes every LogRecord has; anything else on a record is an extra field.
_STANDARD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message"}


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

    # logging.Formatter's own name for it, so the base class calls this one.
    def formatTime(  # noqa: N802
        self, record: logging.LogRecord, datefmt: str | None = None
    ) -> str:
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
            elif _is_secret_field(key):
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
        line = _ENCODER.encode(entry)
        # Except the three that JSON allows raw but str.splitlines() and some
        # shippers take for line breaks.
        return line if line.isascii() else line.translate(_LINE_BREAKS_ESCAPED)


# One encoder for every record: json.dumps with any option builds a new one per call.
_ENCODER = json.JSONEncoder(ensure_ascii=False)
# Extra fields are named in code (extra={...}), so a few names recur on every record;
# checking each against the secret-name pattern cost more than the rest of the line.
_LONGEST_CACHED_NAME = 64


def _is_secret_field(name: str) -> bool:
    if len(name) > _LONGEST_CACHED_NAME:
        return is_secret_name(name)
    return _is_secret_short_name(name)


@functools.lru_cache(maxsize=256)
def _is_secret_short_name(name: str) -> bool:
    return is_secret_name(name)


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
