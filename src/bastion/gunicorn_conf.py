"""gunicorn settings, taken from Bastion's settings so both agree on one source.

Use it as ``gunicorn -c python:bastion.gunicorn_conf``; ``bastion serve`` does exactly
that. The bind address is always set here, so a ``PORT`` in the
environment alone never makes gunicorn listen on every interface.
"""

import sys

from bastion.config import ConfigError, load_settings

try:
    _settings = load_settings()
except ConfigError as error:
    sys.stderr.write(f"Bastion cannot start; fix these settings:\n{error.report()}\n")
    # gunicorn's config loader lets SystemExit through, so the shell sees status 2.
    raise SystemExit(2) from None

bind = [_settings.bind_address]
workers = _settings.workers
wsgi_app = "bastion.wsgi:app"
loglevel = _settings.log_level.lower()
# No proxy is trusted until the deployment declares one.
forwarded_allow_ips = ""
proxy_allow_ips = ""
