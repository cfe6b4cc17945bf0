"""Toolkit commands any app gets: check and show settings, make and rotate keys.

``bastion`` offers them at its top level; ``Bastion(app)`` adds them to the app's
``flask`` command as ``flask bastion ...``. They import nothing from ``bastion.app``.
"""

import sys
from collections.abc import Callable
from pathlib import Path

import click

from bastion.config import ConfigError, Settings, generate_key, load_settings
from bastion.config.loader import FROM_ENVIRONMENT

EXIT_BAD_SETTINGS = 2


def env_file_option(group: click.Group) -> click.Group:
    """Add ``--env-file`` to ``group``; its commands then read that file."""
    return click.option(
        "--env-file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Read settings from this .env file instead of ./.env (must exist).",
        expose_value=False,
        callback=_remember_env_file,
        is_eager=True,
    )(group)


_META_KEY = "bastion.env_file"


def _remember_env_file(context: click.Context, _param, value: Path | None) -> None:
    # meta is shared by every context of one invocation, also under `flask`.
    if value is not None:
        context.meta[_META_KEY] = value


def chosen_env_file() -> Path | object:
    """Return the ``--env-file`` given to the root command, or the default rule."""
    context = click.get_current_context(silent=True)
    chosen = context.meta.get(_META_KEY) if context else None
    return FROM_ENVIRONMENT if chosen is None else chosen


def settings_or_exit(load: Callable[..., Settings] = load_settings) -> Settings:
    """Load settings with ``load``, or print every problem and exit with status 2."""
    try:
        return load(env_file=chosen_env_file())
    except ConfigError as error:
        click.echo("Bastion's settings are not usable; fix these:", err=True)
        click.echo(error.report(), err=True)
        sys.exit(EXIT_BAD_SETTINGS)


@click.command("gen-key")
def gen_key() -> None:
    """Print a new random SECRET_KEY (64 hex characters)."""
    click.echo(generate_key())


@click.command("rotate-key", short_help="Print a new key and the fallbacks to set.")
def rotate_key() -> None:
    """Print a new SECRET_KEY and the SECRET_KEY_FALLBACKS to set with it.

    The fallback list holds the current key in clear text: run this only where its
    output is as safe as your secret store.
    """
    settings = settings_or_exit()
    previous = [settings.secret_key(), *settings.secret_key_fallbacks()]
    click.echo(f"SECRET_KEY={generate_key()}")
    click.echo(f"SECRET_KEY_FALLBACKS={','.join(previous)}")
    click.echo(
        "# Set both and restart. Drop the old keys from SECRET_KEY_FALLBACKS once "
        "every session and remember-me cookie signed with them has expired.",
        err=True,
    )


@click.group()
def config() -> None:
    """Check, show and document the settings."""


@config.command("check")
def config_check() -> None:
    """Validate every setting; exit 0 when usable, 2 with every problem listed."""
    settings = settings_or_exit()
    click.echo(f"Settings are valid ({settings.profile} profile).")


@config.command("show")
def config_show() -> None:
    """List every setting, its value (secrets masked) and where it came from."""
    settings = settings_or_exit()
    for name in settings:
        click.echo(f"{name}={settings.display(name)}  # {settings.origin(name)}")


@config.command("env-example")
def config_env_example() -> None:
    """Print a .env.example documenting every setting."""
    from bastion.config.reference import env_example

    click.echo(env_example(), nl=False)


TOOLKIT_COMMANDS = (gen_key, rotate_key, config)


def toolkit_group(name: str = "bastion") -> click.Group:
    """Return a command group holding the toolkit commands, for ``app.cli``."""
    group = env_file_option(
        click.Group(name, help="Bastion's settings and key commands.")
    )
    for command in TOOLKIT_COMMANDS:
        group.add_command(command)
    return group
