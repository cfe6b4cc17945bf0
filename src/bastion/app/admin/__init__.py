"""Admin pages: see users and end their sessions. Admins only; others get 403."""

import logging
from functools import wraps

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from bastion.app import sessions
from bastion.app.account.forms import ConfirmForm
from bastion.app.account.routes import reauth_required
from bastion.app.extensions import db
from bastion.app.models import User, UserSession
from bastion.logs.events import record_event

logger = logging.getLogger(__name__)

bp = Blueprint("admin", __name__, url_prefix="/admin")


def admin_required(view):
    """Refuse with 403, and log it, unless the signed-in user is an admin."""

    @wraps(view)
    def checked(*args, **kwargs):
        if not current_user.is_admin:
            record_event("access.denied", path=request.path)
            abort(403)
        return view(*args, **kwargs)

    return login_required(checked)


@bp.route("/users")
@admin_required
def users():
    """List every user with the number of active sessions."""
    counts = dict(
        db.session.execute(
            select(UserSession.user_id, func.count()).group_by(UserSession.user_id)
        ).all()
    )
    everyone = db.session.scalars(select(User).order_by(User.id)).all()
    return render_template(
        "admin/users.html", users=everyone, counts=counts, form=ConfirmForm()
    )


@bp.route("/users/<row_id:user_id>/end-sessions", methods=["POST"])
@admin_required
@reauth_required
def end_user_sessions(user_id: int):
    """End every session of one user, the admin's own included if it is them."""
    user = db.session.get(User, user_id) or abort(404)
    keep_id = sessions.current().id if user.id == current_user.id else None
    ended = sessions.end_all(user, keep_id=keep_id)
    record_event("session.revoked", count=ended, by="admin", target_user_id=user.id)
    flash(f"Ended {ended} session(s) of {user.username}.", "success")
    return redirect(url_for("admin.users"))


# Registers the audit page on this blueprint; imported last, as it needs admin_required.
from bastion.app.admin import audit as _audit  # noqa: E402, F401
