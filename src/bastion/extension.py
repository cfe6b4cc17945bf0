"""``Bastion(app)``: apply validated settings and security defaults to any Flask app."""

import logging
from urllib.parse import parse_qs, unquote, urlsplit

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from bastion.commands import toolkit_group
from bastion.config import Settings, load_settings
from bastion.logs.events import init_events, record_event
from bastion.logs.requests import init_request_logging
from bastion.logs.setup import attach_handler, configure_logging, records_held
from bastion.security.cookies import cookie_config
from bastion.security.headers import init_headers
from bastion.security.ratelimit import init_rate_limits
from bastion.security.transport import init_transport

logger = logging.getLogger(__name__)


class Bastion:
    """Flask extension that loads settings and applies them to ``app.config``.

    Use ``Bastion(app)`` or create it unbound and call ``init_app(app)`` later.
    """

    def __init__(
        self, app: Flask | None = None, settings: Settings | None = None
    ) -> None:
        self.settings = settings
        self.csrf = CSRFProtect()
        if app is not None:
            self.init_app(app, settings)

    def init_app(self, app: Flask, settings: Settings | None = None) -> None:
        """Load settings (unless given) and apply them to ``app``."""
        settings = settings or self.settings
        if settings is None:
            settings = load_settings_and_logging()
        else:
            configure_logging_from(settings)
        _route_app_logger(app, settings.log_level)

        app.config.update(flask_config(settings))
        app.debug = settings.debug
        # The request id first, so every later hook's records carry it; then
        # transport, so the Host check and https redirect run before anything else.
        init_request_logging(
            app,
            trust_request_id=settings.trusted_proxy_hops > 0,
            access_log=settings.log_access,
        )
        init_transport(app, settings)
        self.csrf.init_app(app)
        limiter = init_rate_limits(app, settings)
        init_headers(app, settings)

        init_events(
            app, settings.secret_key(), settings.log_pseudonymize, limiter=limiter
        )

        app.cli.add_command(toolkit_group("bastion"))
        app.extensions["bastion"] = self
        self.settings = settings
        _record_start_up(app, settings)


def load_settings_and_logging(**options) -> Settings:
    """Load settings with ``load_settings(**options)``, then set up logging from them.

    What loading warns about is logged after the set-up, in the chosen format, so a
    JSON log stays JSON from its first line. A ``ConfigError`` is raised as it is.
    """
    with records_held() as held:
        settings = load_settings(**options)
    configure_logging_from(settings)
    held.replay()
    return settings


def configure_logging_from(settings: Settings) -> None:
    """Set up logging with the level, format and secrets of ``settings``."""
    configure_logging(settings.log_level, settings.log_format, secret_values(settings))


def _route_app_logger(app: Flask, level: str) -> None:
    """Send ``app.logger`` through Bastion's handler instead of Flask's default one,
    at ``LOG_LEVEL`` rather than the WARNING it would inherit."""
    from flask.logging import default_handler

    app.logger.removeHandler(default_handler)
    app.logger.setLevel(level)
    attach_handler(app.logger)


def _record_start_up(app: Flask, settings: Settings) -> None:
    with app.app_context():
        record_event(
            "config.loaded",
            profile=settings.profile,
            # Settings left at their plain default came from no source; listing
            # them all made every start-up line hundreds of characters long.
            sources={
                source: names
                for source, names in settings.names_by_source().items()
                if source != "default"
            },
        )
        fallbacks = settings.secret_key_fallbacks()
        if fallbacks:
            record_event("config.key_rotation", fallback_count=len(fallbacks))


def secret_values(settings: Settings) -> list[str]:
    """Every secret value the logs must never show: keys, and the passwords of the
    database and of the rate-limit storage."""
    values = [settings.secret_key(), *settings.secret_key_fallbacks()]
    url = settings.database_url
    if "://" in url and "@" in url:
        from sqlalchemy.engine import make_url

        password = make_url(url).password
        if password:
            values.append(password)

    values.extend(_storage_passwords(settings.ratelimit_storage_url.reveal()))
    return values


def _storage_passwords(url: str) -> list[str]:
    """The password of a Redis URL, as written and as Redis receives it."""
    # Read as redis-py reads it: the password ends at the last @ of the authority,
    # so one holding an @ is found whole, and ?password= works as well.
    parts = urlsplit(url)
    passwords = parse_qs(parts.query).get("password", [])
    if parts.password:
        # Redis receives it percent-decoded, and an error could show that form.
        passwords += [parts.password, unquote(parts.password)]
    return list(dict.fromkeys(passwords))


def flask_config(settings: Settings) -> dict[str, object]:
    """Map settings onto the ``app.config`` keys that Flask and its extensions read."""
    key = settings.secret_key()
    fallbacks = settings.secret_key_fallbacks()
    config = {
        "SECRET_KEY": key,
        # Flask verifies session cookies with these after a rotation.
        "SECRET_KEY_FALLBACKS": fallbacks,
        "DEBUG": settings.debug,
        "TESTING": settings.profile == "testing",
        "MAX_CONTENT_LENGTH": settings.max_content_length,
        # Werkzeug's own caps on form fields held in memory and on their number.
        "MAX_FORM_MEMORY_SIZE": min(settings.max_content_length, 500_000),
        "MAX_FORM_PARTS": 100,
        "WTF_CSRF_ENABLED": True,
        "WTF_CSRF_SSL_STRICT": True,
        **cookie_config(settings),
    }
    if fallbacks:
        # Flask-WTF ignores SECRET_KEY_FALLBACKS. itsdangerous signs with the last key
        # of a list and accepts any, so a form opened before a rotation still posts.
        config["WTF_CSRF_SECRET_KEY"] = [*fallbacks, key]
    return config
