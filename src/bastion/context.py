"""The settings of the Flask app at hand, as ``Bastion(app)`` stored them."""

from flask import current_app

from bastion.config import Settings


def current_settings() -> Settings:
    """The settings of the app handling this request or command."""
    return current_app.extensions["bastion"].settings
