"""The bare Flask app the security layer is measured against.

It renders Bastion's own sign-in template, so the page and its form with a Flask-WTF
CSRF token are the same, and does nothing else: no security headers, host check,
proxy handling, https check, session records or sign-in manager.
"""

import os
from pathlib import Path

from flask import Blueprint, Flask, render_template
from flask_login import AnonymousUserMixin
from flask_wtf.csrf import CSRFProtect

from bastion.app.auth.forms import LoginForm

APP_FOLDER = Path(__import__("bastion.app").app.__file__).parent

app = Flask(
    __name__,
    template_folder=str(APP_FOLDER / "templates"),
    static_folder=str(APP_FOLDER / "static"),
)
app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
CSRFProtect(app)
# The template's only dynamic helpers, given their anonymous-visitor values.
app.jinja_env.globals.update(current_user=AnonymousUserMixin(), csp_nonce=lambda: "")

main = Blueprint("main", __name__)
auth = Blueprint("auth", __name__)


@main.route("/")
def home():
    """A link target of the template."""
    return ""


@auth.route("/register")
def register():
    """A link target of the template."""
    return ""


@auth.route("/logout", methods=["POST"])
def logout():
    """A link target of the template."""
    return ""


@auth.route("/login")
def login():
    """Render Bastion's sign-in form."""
    return render_template("auth/login.html", form=LoginForm())


app.register_blueprint(main)
app.register_blueprint(auth)
