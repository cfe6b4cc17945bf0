"""Views for registration, sign-in and sign-out."""

import logging

from flask import (
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from bastion.app import sessions
from bastion.app.auth import bp
from bastion.app.auth.forms import (
    PASSWORD_MAX_LENGTH,
    LoginForm,
    RegisterForm,
)
from bastion.app.auth.redirects import safe_next
from bastion.app.extensions import db
from bastion.app.models import User
from bastion.app.passwords import current_passwords
from bastion.app.users import find_user
from bastion.logs.events import record_event
from bastion.security.ratelimit import sign_in_limits, sign_up_limits

logger = logging.getLogger(__name__)

SIGN_IN_FAILED = "Invalid username or password."
USERNAME_TAKEN = "That username is taken. Choose another."
# NFKC can fold several typed characters into one, so allow for that before normalising.
_LONGEST_POSSIBLE_PASSWORD = PASSWORD_MAX_LENGTH * 4


@bp.route("/register", methods=["GET", "POST"])
@sign_up_limits
def register():
    """Create an account."""
    form = RegisterForm()
    if not form.validate_on_submit():
        return render_template("auth/register.html", form=form)

    user = User(
        username=form.username.data,
        password_hash=current_passwords().hash(form.password.data),
    )
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:
        # The unique index on lower(username) decides, also when two requests race.
        db.session.rollback()
        form.username.errors.append(USERNAME_TAKEN)
        return render_template("auth/register.html", form=form)

    record_event("account.registered", user_id=user.id, username=user.username)
    flash("Your account was created. Sign in to continue.", "success")
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
@sign_in_limits
def login():
    """Sign in, then go to ``next`` when it is a path on this site."""
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))

    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form)

    username = form.username.data
    user = find_user(username)
    if not _password_matches(user, form.password.data):
        reason = "unknown_user" if user is None else "wrong_password"
        return _refuse_sign_in(form, username, user, reason)

    password = form.password.data
    verified_hash = _upgrade_hash(user, password)
    started = sessions.start(
        user,
        form.remember.data,
        verified_hash,
        # A hash stored since the check may be the same password rehashed by a
        # parallel sign-in; only a hash that refuses it means the password changed.
        accepts=lambda stored_hash: current_passwords().verify(stored_hash, password),
    )
    if started is None:
        return _refuse_sign_in(form, username, user, "password_changed")

    record_event(
        "auth.login.succeeded", user_id=user.id, username=username, method="password"
    )
    return redirect(safe_next(request.args.get("next")))


def _refuse_sign_in(form: LoginForm, username: str, user: User | None, reason: str):
    # A name that found no account may be a password typed in the wrong field.
    typed = {"username": username} if user else {"unknown_username": username}
    record_event(
        "auth.login.failed",
        user_id=user.id if user else None,
        reason=reason,
        # sign_in_limits bounds these per address and per account: store each one.
        already_limited=True,
        **typed,
    )
    # The same answer whatever the reason, so it reveals nothing about the account.
    form.password.errors.append(SIGN_IN_FAILED)
    return render_template("auth/login.html", form=form)


def _upgrade_hash(user: User, password: str) -> str:
    """Rehash with the current argon2 parameters if they changed; return the hash the
    password is now known to match.

    The new hash replaces only the one the password was checked against: if a
    password change committed since the check, writing it would undo the change.
    """
    passwords = current_passwords()
    checked_hash = user.password_hash
    if not passwords.needs_update(checked_hash):
        return checked_hash

    user_id = user.id
    new_hash = passwords.hash(password)
    replaced = db.session.execute(
        update(User)
        .where(User.id == user_id, User.password_hash == checked_hash)
        .values(password_hash=new_hash)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if not replaced:
        # Changed, or rehashed by a parallel sign-in; start() checks which.
        return checked_hash
    logger.info("Upgraded the password hash of user id=%s.", user_id)
    # Not read back: a password change committed since would be taken as checked.
    return new_hash


def _password_matches(user: User | None, password: str) -> bool:
    if len(password) > _LONGEST_POSSIBLE_PASSWORD:
        # No stored password is this long; refuse before spending a hash on it.
        return False
    return current_passwords().verify(user.password_hash if user else None, password)


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out and forget everything in the session."""
    user = current_user if current_user.is_authenticated else None
    user_id, username = (user.id, user.username) if user else (None, None)

    if sessions.end_current():
        record_event("auth.logout", user_id=user_id, username=username)
    response = redirect(url_for("main.home", **{"signed-out": "1"}))
    # Ask the browser to drop every cookie and stored item of this site as well.
    response.headers["Clear-Site-Data"] = '"cookies", "storage"'
    return response
