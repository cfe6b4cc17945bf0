"""Cookie flags for Flask's session cookie and Flask-Login's remember-me cookie."""

from datetime import timedelta

from bastion.config import Settings

# Until remember-me gets its own setting, keep the cookie far shorter than
# Flask-Login's default of a year.
REMEMBER_COOKIE_DAYS = 14


def cookie_config(settings: Settings) -> dict[str, object]:
    """Return the ``app.config`` entries that make both cookies safe for ``settings``.

    Only development and testing, which run on plain http, drop the Secure flag.
    """
    secure = settings.profile == "production"
    return {
        "SESSION_COOKIE_SECURE": secure,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=settings.session_lifetime_hours),
        "REMEMBER_COOKIE_SECURE": secure,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_DURATION": timedelta(days=REMEMBER_COOKIE_DAYS),
    }
