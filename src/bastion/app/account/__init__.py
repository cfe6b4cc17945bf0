"""The signed-in user's own pages: account, sessions, password."""

from flask import Blueprint

bp = Blueprint("account", __name__, url_prefix="/account")

from bastion.app.account import routes  # noqa: E402, F401  (routes attach to bp)
