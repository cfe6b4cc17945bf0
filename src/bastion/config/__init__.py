"""Typed, validated settings from defaults, profiles, ``.env`` and the environment."""

from bastion.config.errors import ConfigError, Problem
from bastion.config.loader import load_settings
from bastion.config.schema import SETTINGS, Setting
from bastion.config.secrets import Secret, generate_key
from bastion.config.settings import Settings

__all__ = [
    "SETTINGS",
    "ConfigError",
    "Problem",
    "Secret",
    "Setting",
    "Settings",
    "generate_key",
    "load_settings",
]
