"""Bastion: secure configuration for Flask apps, and a sign-in app built on it."""

from bastion.config import ConfigError, Settings, load_settings

__version__ = "0.1.0"

__all__ = ["Bastion", "ConfigError", "Settings", "__version__", "load_settings"]


def __getattr__(name: str):
    # Bastion pulls in Flask and Flask-WTF; commands such as `bastion gen-key` that
    # never build an app start faster without them.
    if name == "Bastion":
        from bastion.extension import Bastion

        return Bastion
    raise AttributeError(f"module 'bastion' has no attribute {name!r}")
