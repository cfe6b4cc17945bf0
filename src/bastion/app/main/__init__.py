"""The home page."""

from flask import Blueprint, render_template, request, send_from_directory

bp = Blueprint("main", __name__)


@bp.route("/")
def home():
    """Show who is signed in, or how to sign in or register."""
    # Sign-out clears every cookie (Clear-Site-Data), flash messages included, so it
    # says so through the address instead.
    signed_out = request.args.get("signed-out") == "1"
    return render_template("main/home.html", signed_out=signed_out)


@bp.route("/favicon.ico")
def favicon():
    """The site icon, where browsers look for it first."""
    return send_from_directory(
        bp.root_path + "/../static", "favicon.png", max_age=86400
    )
