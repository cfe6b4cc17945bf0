"""The home page."""

from flask import Blueprint, render_template

bp = Blueprint("main", __name__)


@bp.route("/")
def home():
    """Show who is signed in, or how to sign in or register."""
    return render_template("main/home.html")
