"""A gunicorn logger class that writes through Bastion's handler and redaction.

Set ``logger_class = "bastion.logs.gunicorn.GunicornLogger"`` in a gunicorn config
that has called ``configure_logging``: gunicorn's own records (workers booting,
timeouts, crashes) then share the format, the stream and the masking of the app's.
gunicorn's access log stays off; ``bastion.access`` writes one line per request, with
the request id and user and without the query string.
"""

from gunicorn.glogging import Logger

from bastion.logs.setup import attach_handler


class GunicornLogger(Logger):
    """gunicorn's logger with its handlers replaced by Bastion's."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        attach_handler(self.error_log, exclusive=True)
