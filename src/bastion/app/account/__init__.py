"""The signed-in user's own pages."""

from flask import Blueprint, render_template
from flask_login import current_user, login_required

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.route("")
@login_required
def overview():
    """Show the signed-in user's account."""
    return render_template("account/overview.html", user=current_user)
