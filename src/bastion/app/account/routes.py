"""Views for the account, its sessions, password change and re-authentication."""

import logging
from functools import wraps
from urllib.parse import urlsplit

from flask import (
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from bastion.app import sessions
from bastion.app.account import bp
from bastion.app.account.forms import ChangePasswordForm, ConfirmForm, ReauthForm
from bastion.app.auth.redirects import safe_next
from bastion.app.passwords import current_passwords
from bastion.logs.events import record_event
from bastion.security.ratelimit import password_check_limits

logger = logging.getLogger(__name__)

WRONG_PASSWORD = "That is not your current password."  # noqa: S105 (a message)


def reauth_required(view):
    """Send the user to enter the password again unless it was entered lately."""

    @wraps(view)
    def checked(*args, **kwargs):
        if not sessions.recently_authenticated():
            # After a POST, come back to the page that held the button.
            target = request.referrer if request.method == "POST" else request.path
            return redirect(url_for("account.reauth", next=_local_path(target)))
        return view(*args, **kwargs)

    return checked


def _local_path(url: str | None) -> str:
    try:
        parts = urlsplit(url) if url else None
    except ValueError:
        # The Referer is the client's to send: "http://[oops/" is no URL at all.
        parts = None
    if parts is None:
        return url_for("account.sessions_page")
    return safe_next(parts.path + (f"?{parts.query}" if parts.query else ""))


@bp.route("")
@login_required
def overview():
    """Show the signed-in user's account."""
    return render_template("account/overview.html", user=current_user)


@bp.route("/reauth", methods=["GET", "POST"])
@login_required
@password_check_limits
def reauth():
    """Ask for the password again, then go back to where the user was."""
    form = ReauthForm()
    if form.validate_on_submit():
        if current_passwords().verify(current_user.password_hash, form.password.data):
            if not sessions.mark_authenticated():
                return redirect(url_for("auth.login"))
            record_event("auth.reauth.succeeded")
            return redirect(safe_next(request.args.get("next")))
        # password_check_limits bounds these per user: store each one.
        record_event("auth.reauth.failed", already_limited=True)
        form.password.errors.append(WRONG_PASSWORD)
    return render_template("account/reauth.html", form=form)


@bp.route("/sessions")
@login_required
def sessions_page():
    """List this user's active sessions, with buttons to end them."""
    return render_template(
        "account/sessions.html",
        active=sessions.active_sessions(current_user),
        this_session=sessions.current(),
        form=ConfirmForm(),
    )


@bp.route("/sessions/<row_id:session_id>/end", methods=["POST"])
@login_required
@reauth_required
def end_session(session_id: int):
    """End one session; ending this one signs this device out."""
    this_session = sessions.current()
    if this_session is not None and this_session.id == session_id:
        user_id, username = current_user.id, current_user.username
        if sessions.end_current():
            record_event(
                "session.revoked",
                user_id=user_id,
                username=username,
                count=1,
                by="user",
                target_user_id=user_id,
            )
        response = redirect(url_for("main.home", **{"signed-out": "1"}))
        response.headers["Clear-Site-Data"] = '"cookies", "storage"'
        return response

    if sessions.end(current_user, session_id):
        record_event(
            "session.revoked", count=1, by="user", target_user_id=current_user.id
        )
        flash("That session has ended.", "success")
    return redirect(url_for("account.sessions_page"))


@bp.route("/sessions/end-others", methods=["POST"])
@login_required
@reauth_required
def end_other_sessions():
    """Sign out every other device, this one stays signed in."""
    ended = sessions.end_all(current_user, keep_id=sessions.current().id)
    record_event(
        "session.revoked", count=ended, by="user", target_user_id=current_user.id
    )
    flash(f"Signed out {ended} other session(s).", "success")
    return redirect(url_for("account.sessions_page"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
@password_check_limits
def change_password():
    """Change the password; every other session ends, remember-me is revoked."""
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return render_template("account/password.html", form=form)

    if not current_passwords().verify(
        current_user.password_hash, form.current_password.data
    ):
        record_event("account.password_change_failed", already_limited=True)
        form.current_password.errors.append(WRONG_PASSWORD)
        return render_template("account/password.html", form=form)

    # One transaction for the new hash and the end of every other session, so a
    # concurrent change cannot leave one half done.
    this_session_id = sessions.current().id
    current_user.password_hash = current_passwords().hash(form.new_password.data)
    ended = sessions.end_all(current_user, keep_id=this_session_id, commit=False)
    if not sessions.mark_authenticated(forget_remember=True):
        logger.info("Password change for a session ended meanwhile; nothing saved.")
        return redirect(url_for("auth.login"))
    record_event("account.password_changed", username=current_user.username)
    if ended:
        record_event(
            "session.revoked",
            count=ended,
            by="password_change",
            target_user_id=current_user.id,
        )
    flash("Your password was changed. Other devices have been signed out.", "success")
    return redirect(url_for("account.overview"))
