"""Bastion: secure configuration for Flask apps, and a sign-in app built on it."""

from bastion.config import ConfigError, Settings, load_settings
from bastion.extension import Bastion

__version__ = "0.1.0"

__all__ = ["Bastion", "ConfigError", "Settings", "__version__", "load_settings"]
