"""Rate limits on password guessing, checked before any password is hashed.

One Flask-Limiter instance, bound to each app by ``Bastion(app)``; views declare
their limits with the decorators below. Limits come from settings, so they are read
when a request arrives, not when the module is imported.
"""

import logging

from flask import current_app, request
from flask_limiter import Limiter, RequestLimit
from flask_login import current_user

from bastion.config import Settings
from bastion.logs.redaction import for_log

logger = logging.getLogger(__name__)


def client_address() -> str:
    """The client's address, as trusted proxy handling left it."""
    return request.remote_addr or "unknown"


def _on_breach(limit: RequestLimit) -> None:
    logger.warning(
        "Rate limit hit: %s on %s from %s",
        limit.limit,
        for_log(request.path),
        client_address(),
    )


limiter = Limiter(key_func=client_address, on_breach=_on_breach)


def init_rate_limits(app, settings: Settings) -> None:
    """Bind the limiter to ``app`` with the storage from settings."""
    app.config["RATELIMIT_STORAGE_URI"] = settings.ratelimit_storage_url.reveal()
    app.config["RATELIMIT_HEADERS_ENABLED"] = True
    app.config["RATELIMIT_KEY_PREFIX"] = "bastion"
    limiter.init_app(app)


def _settings() -> Settings:
    return current_app.extensions["bastion"].settings


def _account_key() -> str:
    # Case-folded, so "Alice" and "alice" share one allowance.
    return "account:" + request.form.get("username", "").strip().lower()[:64]


def _user_key() -> str:
    return f"user:{current_user.get_id()}"


def sign_in_limits(view):
    """Limit sign-in attempts per client address and per account (POST only)."""
    per_ip = limiter.limit(
        lambda: _settings().ratelimit_sign_in_per_ip, methods=["POST"]
    )
    per_account = limiter.limit(
        lambda: _settings().ratelimit_sign_in_per_account,
        key_func=_account_key,
        methods=["POST"],
    )
    return per_ip(per_account(view))


def password_check_limits(view):
    """Limit password re-entries and changes per signed-in user (POST only)."""
    return limiter.limit(
        lambda: _settings().ratelimit_password_checks,
        key_func=_user_key,
        methods=["POST"],
    )(view)
