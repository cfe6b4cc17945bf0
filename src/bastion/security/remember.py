"""Keep Flask-Login's remember-me cookies valid across a SECRET_KEY rotation.

Opt-in, for apps that use Flask-Login's own remember-me: call
``init_remember_rotation(app)`` after ``Bastion(app)``. Bastion's reference app keeps
remember-me records on the server instead and does not use this.

Flask-Login signs the remember-me cookie with ``SECRET_KEY`` alone and ignores
``SECRET_KEY_FALLBACKS``, so rotating the key would sign out everyone who ticked
"remember me". Before each request, a cookie that only an earlier key can verify is
turned into a signed-in session, and Flask-Login re-issues it under the new key.
"""

import logging

from flask import Flask, current_app, request, session
from flask_login.utils import decode_cookie

logger = logging.getLogger(__name__)

# Flask-Login's session keys: the user id, whether the sign-in is fresh, and the
# instruction for its after-request hook to (re)write the remember-me cookie.
_USER_ID = "_user_id"
_FRESH = "_fresh"
_REMEMBER = "_remember"


def init_remember_rotation(app: Flask) -> None:
    """Accept remember-me cookies signed with a key in SECRET_KEY_FALLBACKS."""
    app.before_request(_restore_from_rotated_cookie)


def _restore_from_rotated_cookie() -> None:
    fallbacks = current_app.config.get("SECRET_KEY_FALLBACKS")
    if not fallbacks or _USER_ID in session or session.get(_REMEMBER) == "clear":
        return

    cookie_name = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    cookie = request.cookies.get(cookie_name)
    if not cookie or decode_cookie(cookie) is not None:
        # No cookie, or one the current key verifies: Flask-Login handles it.
        return

    for key in fallbacks:
        user_id = decode_cookie(cookie, key=key)
        if user_id is not None:
            session[_USER_ID] = user_id
            session[_FRESH] = False
            session[_REMEMBER] = "set"
            logger.info("Accepted a remember-me cookie signed with an earlier key.")
            return
