"""Server-side sessions: every sign-in is a database row, checked on every request.

Flask's own session is a signed cookie that stays valid until it expires, whatever
happens on the server. Here the cookie carries only a random token naming a row in
``user_sessions``; deleting the row signs that device out at once, from anywhere.
"""

import hashlib
import logging
import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from flask import Flask, current_app, flash, g, redirect, request, session, url_for
from flask_login import login_user, logout_user
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, inspect, select, update
from sqlalchemy.orm.exc import ObjectDeletedError, StaleDataError

from bastion.app.extensions import db
from bastion.app.models import User, UserSession, as_utc, utc_now
from bastion.context import current_settings
from bastion.logs.events import record_event

logger = logging.getLogger(__name__)

SESSION_ID_KEY = "sid"  # noqa: S105 (a key name, not a secret)
SESSION_EXPIRED = "Your session expired. Please sign in again."
# Writing last_seen_at on every request would make every page a write. The cost:
# the idle timeout can end a session up to this much earlier than configured.
TOUCH_INTERVAL = timedelta(seconds=60)
_REMEMBER_SALT = "bastion.remember"
# authenticated_at of a session restored from remember-me: no password was entered.
_NEVER = datetime(1970, 1, 1, tzinfo=UTC)
_UNCHECKED_ENDPOINTS = frozenset({"static", "health.live", "health.ready"})


def init_sessions(app: Flask) -> None:
    """Check the session before each request and write cookies after it."""
    app.before_request(_load_session)
    app.after_request(_write_cookies)


def start(
    user: User, remember: bool, verified_hash: str, accepts: Callable[[str], bool]
) -> UserSession | None:
    """Begin a new sign-in: a new row and a new token, nothing carried over.

    ``verified_hash`` is the password hash the password was checked against, and
    ``accepts(stored_hash)`` says whether the password typed matches another hash.
    If the stored hash changed meanwhile and no longer accepts the password (a
    password change, not a rehash of the same password by a parallel sign-in), the
    new row is withdrawn and None returned, so a sign-in with the old password never
    outlives the change.
    """
    now = utc_now()
    settings = current_settings()
    record = UserSession(
        token_hash="",
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        authenticated_at=now,
        expires_at=now + timedelta(hours=settings.session_lifetime_hours),
        ip_address=(request.remote_addr or "unknown")[:45],
        device=describe_device(request.user_agent.string),
    )
    if remember:
        record.remember_until = now + timedelta(days=settings.remember_days)
        g.remember_token = _new_remember_token(record)
        g.remember_until = record.remember_until

    token = _assign_new_token(record)
    db.session.add(record)
    db.session.flush()
    # Read under a share lock, in the transaction that adds the row: a password
    # change's UPDATE then waits for this commit (and its DELETE sees the new row),
    # or this read waits for the change's commit and sees the new hash. Reading after
    # the commit left a gap on PostgreSQL where a row committed after the change's
    # DELETE outlived it. SQLite has no row locks; its write lock orders the two.
    stored_hash = db.session.scalar(
        select(User.password_hash).where(User.id == user.id).with_for_update(read=True)
    )
    if stored_hash != verified_hash and not accepts(stored_hash):
        db.session.rollback()
        g.pop("remember_token", None)
        return None

    db.session.commit()
    _bind(user, record, token)
    return record


def current() -> UserSession | None:
    """The session row of this request, if someone is signed in."""
    return g.get("user_session")


def cookie_user() -> User | None:
    """The user a valid session cookie names, shown as signed in on this response.

    For answers given before the session is loaded, such as a CSRF failure: the
    event, the page's menu and the access line then name who it was. The session is
    not touched and nothing is written.
    """
    token = session.get(SESSION_ID_KEY)
    if not isinstance(token, str):
        return None

    record = _record_for_token(token)
    if record is None or _state(record, utc_now()) != "valid":
        return None
    _set_request_user(record.user)
    return record.user


def end_current() -> bool:
    """Sign this device out: delete its row and both cookies.

    Returns whether this request ended the row: of two sign-outs sent at once (a
    double click), only one did, and only that one is worth recording.
    """
    record = current()
    ended = record is not None and _delete_row(record)

    forget_ended()
    g.clear_remember = True
    return ended


def end(user: User, session_id: int) -> bool:
    """End one of ``user``'s sessions; say whether it existed."""
    result = db.session.execute(
        delete(UserSession).where(
            UserSession.id == session_id, UserSession.user_id == user.id
        )
    )
    db.session.commit()
    return result.rowcount > 0


def end_all(user: User, keep_id: int | None = None, commit: bool = True) -> int:
    """End every session of ``user`` except the one with ``keep_id``; say how many."""
    statement = delete(UserSession).where(UserSession.user_id == user.id)
    if keep_id is not None:
        statement = statement.where(UserSession.id != keep_id)
    result = db.session.execute(statement)
    if commit:
        db.session.commit()
    return result.rowcount


def active_sessions(user: User) -> list[UserSession]:
    """``user``'s sessions that are still valid, most recently used first."""
    rows = db.session.scalars(
        select(UserSession)
        .where(UserSession.user_id == user.id)
        .order_by(UserSession.last_seen_at.desc())
    )
    now = utc_now()
    return [row for row in rows if _state(row, now) != "expired"]


def recently_authenticated() -> bool:
    """Whether the password was entered within REAUTH_MINUTES on this session."""
    record = current()
    if record is None:
        return False

    window = timedelta(minutes=current_settings().reauth_minutes)
    return utc_now() - as_utc(record.authenticated_at) < window


def mark_authenticated(forget_remember: bool = False) -> bool:
    """Record a fresh password entry and issue a new token, as for any change of
    privilege. Returns False, signed out, when another request ended this session."""
    record = current()
    record.authenticated_at = utc_now()
    if forget_remember:
        record.remember_hash = None
        record.remember_until = None
        g.clear_remember = True

    token = _assign_new_token(record)
    user = record.user
    if not _commit_unless_ended():
        return False
    _bind(user, record, token)
    return True


def current_row_deleted() -> bool:
    """Whether this request's session row is gone, deleted by another request.

    Call it after a rollback: it reads the database, not the row's loaded state.
    """
    record = current()
    if record is None:
        # No session of this request's: whatever row went missing, it was not one.
        return False
    identity = inspect(record).identity
    if identity is None:
        return True
    found = db.session.scalar(
        select(UserSession.id).where(UserSession.id == identity[0])
    )
    return found is None


def forget_ended() -> None:
    """Sign this request out, its session row ended: by it, or by another request."""
    session.clear()
    logout_user()
    g.pop("user_session", None)


def _delete_row(record: UserSession) -> bool:
    """Delete ``record``'s row and commit; say whether this request deleted it.

    A plain DELETE rather than the ORM's: when a parallel request deleted the row
    first, the ORM only warns, and both requests would record the same ending.
    """
    result = db.session.execute(
        delete(UserSession)
        .where(UserSession.id == record.id)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    db.session.expunge(record)
    return result.rowcount == 1


def _commit_unless_ended() -> bool:
    # Another request (sign out everywhere, a password change) may delete this row
    # between reading and writing it; that ends this session rather than failing.
    try:
        db.session.commit()
    except (StaleDataError, ObjectDeletedError):
        db.session.rollback()
        forget_ended()
        return False
    return True


def describe_device(user_agent: str) -> str:
    """Summarise a User-Agent as "Browser on System", never the raw string."""
    browser = _first_match(user_agent, _BROWSERS) or "Unknown browser"
    system = _first_match(user_agent, _SYSTEMS) or "unknown system"
    return f"{browser} on {system}"


_BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Safari/", "Safari"),
    ("curl/", "curl"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def _first_match(user_agent: str, table: tuple[tuple[str, str], ...]) -> str | None:
    return next((name for marker, name in table if marker in user_agent), None)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _record_for_token(token: str) -> UserSession | None:
    return db.session.scalar(
        select(UserSession).where(UserSession.token_hash == _hash(token))
    )


def _record_for_remember_token(token: str) -> UserSession | None:
    return db.session.scalar(
        select(UserSession).where(UserSession.remember_hash == _hash(token))
    )


def _assign_new_token(record: UserSession) -> str:
    token = secrets.token_urlsafe(32)
    record.token_hash = _hash(token)
    return token


def _bind(user: User, record: UserSession, token: str) -> None:
    # A cleared cookie session on every sign-in: nothing planted before carries over.
    session.clear()
    session[SESSION_ID_KEY] = token
    # A browser-session cookie: quitting the browser signs out unless remember-me
    # was chosen. The server enforces the idle and absolute limits either way.
    session.permanent = False
    login_user(user)
    g.user_session = record


def _state(record: UserSession, now: datetime) -> str:
    """ "valid", "expired", or "rememberable" (expired but remember-me still holds)."""
    idle = timedelta(minutes=current_settings().session_idle_minutes)
    expired = (
        now >= as_utc(record.expires_at) or now - as_utc(record.last_seen_at) >= idle
    )
    if not expired:
        return "valid"

    if record.remember_until is not None and now < as_utc(record.remember_until):
        return "rememberable"
    return "expired"


def _load_session():
    if request.endpoint in _UNCHECKED_ENDPOINTS:
        return None

    now = utc_now()
    expired = False
    token = session.get(SESSION_ID_KEY)
    if isinstance(token, str):
        record = _record_for_token(token)
        state = _state(record, now) if record is not None else "revoked"
        if state == "valid":
            # Loaded before _touch commits: after the commit, reading it would load
            # the row again, which a parallel sign-out may have deleted by then.
            user = record.user
            if _touch(record, now):
                g.user_session = record
                _set_request_user(user)
                return None

        expired = state in ("expired", "rememberable")
        if state == "expired":
            _end_expired(record)
        session.clear()
        logout_user()
    elif "_user_id" in session:
        # A signed cookie naming a user but no session record: an old or forged
        # format. It opens nothing; drop it.
        session.clear()

    if _restore_from_remember_cookie(now):
        return None

    _set_request_user(current_app.login_manager.anonymous_user())
    if expired:
        flash(SESSION_EXPIRED, "info")
        if request.endpoint != "auth.login":
            target = request.full_path if request.method == "GET" else request.path
            return redirect(url_for("auth.login", next=target.rstrip("?")))
    return None


def _end_expired(record: UserSession) -> None:
    """Delete an expired session's row; record it once, however many requests saw it."""
    user_id, username, session_id = record.user_id, record.user.username, record.id
    if _delete_row(record):
        record_event(
            "session.expired",
            user_id=user_id,
            username=username,
            session_id=session_id,
        )


def _set_request_user(user) -> None:
    # Flask-Login caches the request's user in g._login_user. The record checked
    # above already decided who this is, so filling the cache spares Flask-Login a
    # second lookup, its fingerprint hash and its remember-cookie parsing.
    g._login_user = user


def _touch(record: UserSession, now: datetime) -> bool:
    if now - as_utc(record.last_seen_at) >= TOUCH_INTERVAL:
        record.last_seen_at = now
        return _commit_unless_ended()
    return True


def _restore_from_remember_cookie(now: datetime) -> bool:
    cookie = request.cookies.get(current_app.config["REMEMBER_COOKIE_NAME"])
    if not cookie:
        return False

    remember_token = _read_remember_cookie(cookie)
    if remember_token is None:
        # Not a cookie of ours (a bad signature or shape): drop it.
        g.clear_remember = True
        return False

    record = _record_for_remember_token(remember_token)
    if record is None or record.remember_until is None:
        # Kept, not deleted: a request sent at the same moment (tabs restored after
        # a browser restart) may just have replaced this cookie, and deleting it
        # here could land after the new one and sign the browser out. A revoked
        # cookie matches no row, so keeping it opens nothing.
        return False

    if now >= as_utc(record.remember_until):
        _end_expired(record)
        g.clear_remember = True
        return False

    # A new remember-me token, claimed first: of two requests sent at once with the
    # same cookie, only one may restore the session, or each would sign in and the
    # later would silently replace the earlier one's new cookie.
    remember_token = secrets.token_urlsafe(32)
    if not _claim_remember_row(record, _hash(remember_token)):
        db.session.rollback()
        return False

    # A new session token too: a stolen copy of the old cookie stops working once
    # either holder uses theirs. No password was typed, so sensitive actions must
    # ask for it.
    lifetime = timedelta(hours=current_settings().session_lifetime_hours)
    record.created_at = record.last_seen_at = now
    record.authenticated_at = _NEVER
    record.expires_at = min(now + lifetime, as_utc(record.remember_until))
    record.ip_address = (request.remote_addr or "unknown")[:45]
    record.device = describe_device(request.user_agent.string)
    token = _assign_new_token(record)
    g.remember_token = remember_token
    g.remember_until = as_utc(record.remember_until)
    # Read before the commit expires them: a parallel "sign out everywhere" may
    # delete the row right after it, and reading would then load a row that is gone.
    user, username = record.user, record.user.username
    if not _commit_unless_ended():
        return False
    _bind(user, record, token)
    record_event(
        "auth.login.succeeded", user_id=user.id, username=username, method="remember_me"
    )
    return True


def _claim_remember_row(record: UserSession, new_hash: str) -> bool:
    """Swap the row's remember-me hash for ``new_hash`` unless another request did.

    The UPDATE names the hash this request read, so a parallel request that swapped
    it first leaves nothing to match; the row stays locked until this one commits.
    """
    result = db.session.execute(
        update(UserSession)
        .where(
            UserSession.id == record.id,
            UserSession.remember_hash == record.remember_hash,
        )
        .values(remember_hash=new_hash)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    record.remember_hash = new_hash
    return True


def _remember_serializer() -> URLSafeSerializer:
    settings = current_settings()
    # itsdangerous signs with the last key and accepts any, so rotation keeps working.
    keys = [*settings.secret_key_fallbacks(), settings.secret_key()]
    return URLSafeSerializer(keys, salt=_REMEMBER_SALT)


_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{20,100}")


def _new_remember_token(record: UserSession) -> str:
    token = secrets.token_urlsafe(32)
    record.remember_hash = _hash(token)
    return token


def _read_remember_cookie(cookie: str) -> str | None:
    try:
        token = _remember_serializer().loads(cookie)
    except BadSignature:
        return None
    return token if isinstance(token, str) and _TOKEN_SHAPE.fullmatch(token) else None


def _write_cookies(response):
    config = current_app.config
    name = config["REMEMBER_COOKIE_NAME"]
    remember_token = g.pop("remember_token", None)
    if remember_token is not None:
        remaining = g.pop("remember_until") - utc_now()
        response.set_cookie(
            name,
            _remember_serializer().dumps(remember_token),
            max_age=max(int(remaining.total_seconds()), 0),
            secure=config["REMEMBER_COOKIE_SECURE"],
            httponly=True,
            samesite=config["REMEMBER_COOKIE_SAMESITE"],
            path="/",
        )
    elif g.pop("clear_remember", False) and name in request.cookies:
        response.delete_cookie(
            name,
            path="/",
            secure=config["REMEMBER_COOKIE_SECURE"],
            httponly=True,
            samesite=config["REMEMBER_COOKIE_SAMESITE"],
        )

    if session.accessed:
        # Pages that read the session are someone's own; no cache may keep them.
        response.headers["Cache-Control"] = "no-store"
    return response
