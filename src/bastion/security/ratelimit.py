"""Rate limits on password guessing, checked before any password is hashed.

Built on the ``limits`` library (the engine under Flask-Limiter) rather than
Flask-Limiter's decorators: those resolve every limit on every request, GETs
included, which cost the sign-in page about a third of its throughput. Here a
limit is counted only when a view asks, which is on POST.
"""

import functools
import logging
import time
from collections.abc import Callable

from flask import Flask, current_app, request
from flask_login import current_user
from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import TooManyRequests

from bastion.config import Settings
from bastion.context import current_settings
from bastion.logs.events import record_event

logger = logging.getLogger(__name__)

_EXTENSION = "bastion.ratelimit"
_ACCOUNT_LOOKUP = "bastion.ratelimit.accounts"
_PREFIX = "bastion"

# Finds the account a typed sign-in name belongs to: its (user id, username), or None.
AccountLookup = Callable[[str], tuple[int, str] | None]


def init_rate_limits(app: Flask, settings: Settings) -> FixedWindowRateLimiter:
    """Create the counter storage named by RATELIMIT_STORAGE_URL for ``app``; return
    its limiter, for others that count in the same store."""
    storage = storage_from_string(settings.ratelimit_storage_url.reveal())
    limiter = FixedWindowRateLimiter(storage)
    app.extensions[_EXTENSION] = limiter
    return limiter


def set_account_lookup(app: Flask, lookup: AccountLookup) -> None:
    """Name the account in sign-ins refused as locked, found by ``lookup``.

    The toolkit knows no user model. Without a lookup, a locked sign-in is recorded
    under the typed name's keyed hash alone, with no user id.
    """
    app.extensions[_ACCOUNT_LOOKUP] = lookup


def client_address() -> str:
    """The client's address, as trusted proxy handling left it."""
    return request.remote_addr or "unknown"


@functools.cache
def _parsed(limits_text: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(limits_text))


def enforce(
    limits_text: str,
    scope: str,
    key: str,
    on_exceeded: Callable[[str], None] | None = None,
) -> None:
    """Count one attempt against each limit; answer 429 when any is exceeded, after
    recording it and calling ``on_exceeded(key)``."""
    limiter: FixedWindowRateLimiter = current_app.extensions[_EXTENSION]
    for limit in _parsed(limits_text):
        if not limiter.hit(limit, _PREFIX, scope, key):
            reset_at, _ = limiter.get_window_stats(limit, _PREFIX, scope, key)
            record_event(
                "ratelimit.exceeded", scope=scope, limit=str(limit), path=request.path
            )
            if on_exceeded is not None:
                on_exceeded(key)
            _abort_429(reset_at)


def _record_locked_sign_in(typed_name: str) -> None:
    lookup = current_app.extensions.get(_ACCOUNT_LOOKUP)
    account = lookup(typed_name) if lookup is not None else None
    if account is None:
        # The name may match no account, or be a password typed in the wrong field:
        # only its keyed hash is written.
        record_event("auth.login.failed", unknown_username=typed_name, reason="locked")
        return

    user_id, username = account
    record_event(
        "auth.login.failed", user_id=user_id, username=username, reason="locked"
    )


def _abort_429(reset_at: float) -> None:
    retry_after = max(int(reset_at - time.time()), 1)
    raise TooManyRequests(retry_after=retry_after)


def sign_in_limits(view):
    """Limit sign-in attempts per client address and per account (POST only)."""

    @functools.wraps(view)
    def limited(*args, **kwargs):
        if request.method == "POST":
            settings = current_settings()
            enforce(settings.ratelimit_sign_in_per_ip, "sign-in-ip", client_address())
            # Case-folded, so "Alice" and "alice" share one allowance.
            account = request.form.get("username", "").strip().lower()[:64]
            enforce(
                settings.ratelimit_sign_in_per_account,
                "sign-in-account",
                account,
                on_exceeded=_record_locked_sign_in,
            )
        return view(*args, **kwargs)

    return limited


def sign_up_limits(view):
    """Limit the accounts created per client address (POST only)."""

    @functools.wraps(view)
    def limited(*args, **kwargs):
        if request.method == "POST":
            enforce(
                current_settings().ratelimit_register_per_ip,
                "register-ip",
                client_address(),
            )
        return view(*args, **kwargs)

    return limited


def password_check_limits(view):
    """Limit password re-entries and changes per signed-in user (POST only)."""

    @functools.wraps(view)
    def limited(*args, **kwargs):
        if request.method == "POST":
            enforce(
                current_settings().ratelimit_password_checks,
                "password-check",
                str(current_user.get_id()),
            )
        return view(*args, **kwargs)

    return limited
