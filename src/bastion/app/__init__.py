"""The reference application: accounts with sign-in, built on the Bastion toolkit."""

import logging
import re
import secrets
from pathlib import Path

from flask import Flask, g, request
from werkzeug.routing import IntegerConverter, Map

from bastion.app import sessions
from bastion.app.audit import init_audit
from bastion.app.extensions import db, login_manager, migrate
from bastion.app.models import LARGEST_ROW_ID, User
from bastion.app.passwords import Passwords
from bastion.app.sessions import init_sessions
from bastion.app.users import account_named
from bastion.config import Settings
from bastion.database import engine_options, install_engine_hooks, prepare_sqlite_folder
from bastion.extension import Bastion, load_settings_and_logging
from bastion.security.ratelimit import set_account_lookup

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_ID = re.compile(r"[0-9]{1,18}")


class BastionFlask(Flask):
    """Flask that logs each unhandled exception with the incident id its 500 shows."""

    def log_exception(self, exc_info) -> None:
        g.incident_id = secrets.token_hex(6)
        self.logger.error(
            "Exception on %s [%s], incident %s",
            request.path,
            request.method,
            g.incident_id,
            exc_info=exc_info,
        )


class RowIdConverter(IntegerConverter):
    """A table row's id in a URL: 1 up to the largest id an id column holds.

    A larger number would reach the database as an integer its column cannot hold,
    and fail with a 500; out of range, the route does not match and answers 404.
    """

    def __init__(self, url_map: Map) -> None:
        super().__init__(url_map, min=1, max=LARGEST_ROW_ID)


def create_app(settings: Settings | None = None) -> Flask:
    """Build the application from ``settings``, loading them when none are given."""
    settings = settings or load_settings_and_logging()
    app = BastionFlask(__name__, instance_path=str(settings.instance_path))
    Bastion(app, settings)

    app.config["SQLALCHEMY_DATABASE_URI"] = settings.database_url
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(settings)
    prepare_sqlite_folder(settings)
    db.init_app(app)
    with app.app_context():
        install_engine_hooks(db.engine, settings)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR))

    # Before the blueprints, whose routes use it.
    app.url_map.converters["row_id"] = RowIdConverter
    _init_login(app)
    init_sessions(app)
    init_audit(app)
    # So a sign-in refused as locked names the account, not only a hash of the name.
    set_account_lookup(app, account_named)
    app.extensions["passwords"] = Passwords(settings)
    _register_blueprints(app)
    return app


def _init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to open that page."
    login_manager.login_message_category = "info"
    # Sessions are checked against their server-side record on every request, which
    # Flask-Login's IP-and-agent fingerprint would only duplicate (and it trusts
    # X-Forwarded-For from anyone).
    login_manager.session_protection = None

    @login_manager.user_loader
    def load_user(user_id: object) -> User | None:
        # Only a session record checked on this request signs anyone in. A signed
        # cookie naming a user but no record (one from before server-side sessions,
        # or Flask-Login's own remember-me format) opens nothing.
        record = sessions.current()
        if record is None or not isinstance(user_id, str):
            return None
        if not _ID.fullmatch(user_id) or int(user_id) != record.user_id:
            return None
        return record.user


def _register_blueprints(app: Flask) -> None:
    from bastion.app import account, admin, auth, health, main
    from bastion.app.errors import register_error_handlers

    app.register_blueprint(health.bp)
    app.register_blueprint(main.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(admin.bp)
    register_error_handlers(app)
