"""Cookie flags for Flask's session cookie and Flask-Login's remember-me cookie."""

from datetime import timedelta

from bastion.config import Settings


def cookie_config(settings: Settings) -> dict[str, object]:
    """Return the ``app.config`` entries that make both cookies safe for ``settings``.

    Only development and testing, which run on plain http, drop the Secure flag.
    """
    secure = settings.profile == "production"
    # The __Host- prefix makes browsers refuse the cookie unless it is Secure, has
    # Path=/ and no Domain, so no sibling subdomain can set or shadow it.
    prefix = "__Host-" if secure else ""
    return {
        "SESSION_COOKIE_NAME": f"{prefix}session",
        "SESSION_COOKIE_PATH": "/",
        "SESSION_COOKIE_DOMAIN": None,
        "REMEMBER_COOKIE_NAME": f"{prefix}remember",
        "REMEMBER_COOKIE_PATH": "/",
        "REMEMBER_COOKIE_DOMAIN": None,
        "SESSION_COOKIE_SECURE": secure,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=settings.session_lifetime_hours),
        "REMEMBER_COOKIE_SECURE": secure,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_DURATION": timedelta(days=settings.remember_days),
    }
