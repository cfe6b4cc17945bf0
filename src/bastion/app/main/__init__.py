"""The home page."""

from flask import Blueprint, render_template, request, send_from_directory
from flask_login import current_user

from bastion.app.auth.forms import LoginForm

bp = Blueprint("main", __name__)


@bp.route("/")
def home():
    """Show who is signed in, or how to sign in or register."""
    # Sign-out clears every cookie (Clear-Site-Data), flash messages included, so it
    # says so through the address instead.
    signed_out = request.args.get("signed-out") == "1"
    # Visitors can sign in from here; the form posts to /login like the one there.
    form = None if current_user.is_authenticated else LoginForm()
    return render_template("main/home.html", signed_out=signed_out, form=form)


@bp.route("/favicon.ico")
def favicon():
    """The site icon, where browsers look for it first."""
    return send_from_directory(
        bp.root_path + "/../static", "favicon.png", max_age=86400
    )
