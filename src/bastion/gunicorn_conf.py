"""gunicorn settings, taken from Bastion's settings so both agree on one source.

Use it as ``gunicorn -c python:bastion.gunicorn_conf``; ``bastion serve`` does exactly
that. The bind address is always set here, so a ``PORT`` in the environment alone
never makes gunicorn listen on every interface.
"""

import logging
import sys

from bastion.config import ConfigError
from bastion.database import (
    EXIT_DATABASE_UNREACHABLE,
    database_answers_at_startup,
    unreachable_message,
)
from bastion.extension import load_settings_and_logging

try:
    _settings = load_settings_and_logging()
except ConfigError as error:
    sys.stderr.write(f"Bastion cannot start; fix these settings:\n{error.report()}\n")
    # gunicorn's config loader lets SystemExit through, so the shell sees status 2.
    raise SystemExit(2) from None

if not database_answers_at_startup(_settings):
    # Logged, not written: logging is set up by now, and a JSON log stays JSON.
    logging.getLogger(__name__).error(unreachable_message(_settings))
    raise SystemExit(EXIT_DATABASE_UNREACHABLE)

logger_class = "bastion.logs.gunicorn.GunicornLogger"

bind = [_settings.bind_address]
workers = _settings.workers
wsgi_app = "bastion.wsgi:app"
loglevel = _settings.log_level.lower()
# gunicorn believes X-Forwarded-Proto only from these peers. With no trusted proxy,
# from none; with TRUSTED_PROXY_HOPS set, from any peer, because the app's ProxyFix
# then takes exactly that many hops and ignores the rest.
forwarded_allow_ips = "*" if _settings.trusted_proxy_hops else ""
proxy_allow_ips = ""
# Refuse oversized request lines and headers before the app sees them.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
# gunicorn's control socket lives at one path per user; two servers would share it.
control_socket_disable = True


def post_fork(server, worker) -> None:
    """Forget connections the master opened; each worker opens its own."""
    wsgi = sys.modules.get("bastion.wsgi")
    if wsgi is None:
        return

    from bastion.app.extensions import db

    with wsgi.app.app_context():
        # close=False: the master still owns those sockets; only forget them here.
        db.engine.dispose(close=False)
