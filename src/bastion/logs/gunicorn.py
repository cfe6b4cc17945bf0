"""A gunicorn logger class that writes through Bastion's handler and redaction.

Set ``logger_class = "bastion.logs.gunicorn.GunicornLogger"`` in a gunicorn config:
gunicorn's own records (starting, workers booting, timeouts, crashes) then share the
format, the stream and the masking of the app's. If the config has not set up
Bastion's logging itself, this class does, from the settings, before gunicorn writes
its first line. gunicorn's access log stays off; ``bastion.access`` writes one line
per request, with the request id and user and without the query string.
"""

import contextlib

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


def _configure_from_settings() -> None:
    from bastion.extension import load_settings_and_logging

    # Unusable settings are reported when the app loads them; until then gunicorn's
    # own lines go out in the default text format.
    with contextlib.suppress(ConfigError):
        load_settings_and_logging()
