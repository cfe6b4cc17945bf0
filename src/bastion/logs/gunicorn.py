"""A gunicorn logger class that writes through Bastion's handler and redaction.

Set ``logger_class = "bastion.logs.gunicorn.GunicornLogger"`` in a gunicorn config:
gunicorn's own records (starting, workers booting, timeouts, crashes) then share the
format, the stream and the masking of the app's. If the config has not set up
Bastion's logging itself, this class does, from the settings, before gunicorn writes
its first line. gunicorn's access log stays off; ``bastion.access`` writes one line
per request, with the request id and user and without the query string.
"""

import contextlib
import logging
import re

from gunicorn.glogging import Logger

from bastion.config import ConfigError
from bastion.logs.setup import attach_handler, is_configured


class GunicornLogger(Logger):
    """gunicorn's logger with its handlers replaced by Bastion's."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        if not is_configured():
            _configure_from_settings()
        attach_handler(self.error_log, exclusive=True)
        if not any(isinstance(f, _NoQueryStrings) for f in self.error_log.filters):
            self.error_log.addFilter(_NoQueryStrings())


# From a "?" to the end of the target, as gunicorn quotes a request line.
_QUERY_STRING = re.compile(r"\?[^\s'\"]*")


class _NoQueryStrings(logging.Filter):
    """Leave query strings out of gunicorn's refused-request lines.

    gunicorn quotes a request line it refuses whole, and a query string is where
    tokens travel: the access log never writes one, and neither may this.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("Invalid request from"):
            record.msg = _QUERY_STRING.sub("?[query left out]", record.getMessage())
            record.args = ()
        return True


def _configure_from_settings() -> None:
    from bastion.extension import load_settings_and_logging

    # Unusable settings are reported when the app loads them; until then gunicorn's
    # own lines go out in the default text format.
    with contextlib.suppress(ConfigError):
        load_settings_and_logging()
