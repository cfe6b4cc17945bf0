"""The ``bastion`` command: serve the app, manage its database, make keys."""

import os
import sys
from collections.abc import Callable
from functools import wraps

import click

from bastion.config import ConfigError, Settings, generate_key, load_settings

EXIT_BAD_SETTINGS = 2


def _settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ConfigError as error:
        click.echo("Bastion cannot start; fix these settings:", err=True)
        click.echo(error.report(), err=True)
        sys.exit(EXIT_BAD_SETTINGS)


def with_app_context(command: Callable) -> Callable:
    """Run ``command`` inside an app context built from validated settings."""

    @wraps(command)
    def run(*args, **kwargs):
        from bastion.app import create_app

        app = create_app(_settings_or_exit())
        with app.app_context():
            return command(*args, **kwargs)

    return run


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="bastion")
def main() -> None:
    """Bastion: a secure Flask sign-in app and its configuration toolkit."""


@main.command()
def serve() -> None:
    """Serve the app with gunicorn on HOST:PORT from the settings."""
    settings = _settings_or_exit()
    click.echo(
        f"Serving Bastion ({settings.profile} profile) on "
        f"http://{settings.bind_address} with {settings.workers} worker(s)."
    )
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        "python:bastion.gunicorn_conf",
    ]
    # Replace this process, so Ctrl-C and service managers signal gunicorn directly.
    os.execv(sys.executable, command)  # noqa: S606 (fixed arguments, no shell)


@main.command("gen-key")
def gen_key() -> None:
    """Print a new random SECRET_KEY (64 hex characters)."""
    click.echo(generate_key())


@main.command("rotate-key")
def rotate_key() -> None:
    """Print a new SECRET_KEY and the SECRET_KEY_FALLBACKS to set with it."""
    settings = _settings_or_exit()
    previous = [settings.secret_key(), *settings.secret_key_fallbacks()]
    click.echo(f"SECRET_KEY={generate_key()}")
    click.echo(f"SECRET_KEY_FALLBACKS={','.join(previous)}")
    click.echo(
        "# Set both and restart. Drop the old keys from SECRET_KEY_FALLBACKS once "
        "every session and remember-me cookie signed with them has expired.",
        err=True,
    )


@main.group()
def config() -> None:
    """Check, show and document the settings."""


@config.command("check")
def config_check() -> None:
    """Validate every setting; exit 0 when usable, 2 with every problem listed."""
    settings = _settings_or_exit()
    click.echo(f"Settings are valid ({settings.profile} profile).")


@config.command("show")
def config_show() -> None:
    """List every setting, its value (secrets masked) and where it came from."""
    settings = _settings_or_exit()
    for name in settings:
        click.echo(f"{name}={settings.display(name)}  # {settings.origin(name)}")


@config.command("env-example")
def config_env_example() -> None:
    """Print a .env.example documenting every setting."""
    from bastion.config.reference import env_example

    click.echo(env_example(), nl=False)


@main.group()
def db() -> None:
    """Apply and inspect database migrations."""


@db.command()
@click.argument("revision", default="head")
@with_app_context
def upgrade(revision: str) -> None:
    """Upgrade the database to REVISION (default: the latest)."""
    import flask_migrate

    flask_migrate.upgrade(revision=revision)


@db.command()
@click.argument("revision", default="-1")
@with_app_context
def downgrade(revision: str) -> None:
    """Downgrade the database to REVISION (default: one step back)."""
    import flask_migrate

    flask_migrate.downgrade(revision=revision)


@db.command()
@with_app_context
def current() -> None:
    """Show the revision the database is at."""
    import flask_migrate

    flask_migrate.current()


@db.command()
@click.option("-m", "--message", required=True, help="What the migration changes.")
@with_app_context
def revision(message: str) -> None:
    """Write a new migration from the difference between the models and the database."""
    import flask_migrate

    flask_migrate.migrate(message=message)
