"""The ``bastion`` command: serve the app, manage its database, make keys."""

import getpass
import logging
import os
import sys
import warnings
from collections.abc import Callable
from functools import wraps
from pathlib import Path

import click

from bastion.commands import (
    TOOLKIT_COMMANDS,
    chosen_env_file,
    env_file_option,
    settings_or_exit,
)
from bastion.config import Settings
from bastion.config.loader import ENV_FILE_VARIABLE
from bastion.config.schema import AUDIT_RETENTION_RANGE
from bastion.database import (
    EXIT_DATABASE_UNREACHABLE,
    database_answers_at_startup,
    unreachable_message,
)

logger = logging.getLogger(__name__)


def settings_and_logging_or_exit() -> Settings:
    """Load settings (or exit 2 listing the problems), then set up logging from them."""
    from bastion.extension import load_settings_and_logging

    return settings_or_exit(load_settings_and_logging)


def with_app_context(command: Callable) -> Callable:
    """Run ``command`` inside an app context built from validated settings."""

    @wraps(command)
    def run(*args, **kwargs):
        from bastion.app import create_app

        settings = settings_and_logging_or_exit()
        if not database_answers_at_startup(settings):
            click.echo(unreachable_message(settings), err=True)
            sys.exit(EXIT_DATABASE_UNREACHABLE)

        app = create_app(settings)
        with app.app_context():
            return command(*args, **kwargs)

    return run


@env_file_option
@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="bastion")
def main() -> None:
    """Bastion: a secure Flask sign-in app and its configuration toolkit."""


@main.command()
def serve() -> None:
    """Serve the app with gunicorn on HOST:PORT from the settings."""
    settings = settings_and_logging_or_exit()
    logger.info(
        "Serving Bastion (%s profile) on http://%s with %d worker(s).",
        settings.profile,
        settings.bind_address,
        settings.workers,
    )
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        "python:bastion.gunicorn_conf",
    ]
    environment = dict(os.environ)
    env_file = chosen_env_file()
    if isinstance(env_file, Path):
        # gunicorn and its workers load the settings again; point them at the same file.
        environment[ENV_FILE_VARIABLE] = str(env_file.resolve())
    # Replace this process, so Ctrl-C and service managers signal gunicorn directly.
    os.execve(sys.executable, command, environment)  # noqa: S606 (fixed arguments)


for _command in TOOLKIT_COMMANDS:
    main.add_command(_command)


def _current_revision() -> str:
    from alembic.migration import MigrationContext

    from bastion.app.extensions import db as database

    with database.engine.connect() as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
    return ", ".join(heads) or "an empty schema (no revision)"


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
    click.echo(f"Database upgraded to {_current_revision()}.")


@db.command()
@click.argument("revision", default="-1")
@with_app_context
def downgrade(revision: str) -> None:
    """Downgrade the database to REVISION (default: one step back)."""
    import flask_migrate

    flask_migrate.downgrade(revision=revision)
    click.echo(f"Database downgraded to {_current_revision()}.")


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


@main.group()
def users() -> None:
    """Manage user accounts."""


@users.command("create-admin")
@click.argument("username")
@with_app_context
def create_admin(username: str) -> None:
    """Create USERNAME as an admin (or promote them); prompts for the password."""
    from bastion.app.admin_accounts import (
        AdminAccountError,
        account_exists,
        create_or_promote_admin,
        username_problem,
    )

    exists = account_exists(username)
    # Said before the password is asked for, not after it was typed twice.
    problem = username_problem(username, new=not exists)
    if problem:
        click.echo(f"Error: {problem}", err=True)
        sys.exit(1)

    # A password piped in (not a terminal) is read as typed, without getpass's
    # warning that it cannot hide the echo: there is no terminal to echo to.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", getpass.GetPassWarning)
        if exists:
            # Promoting checks the password the user has; there is nothing to repeat.
            password = click.prompt(
                f"{username} exists; enter their current password", hide_input=True
            )
        else:
            password = click.prompt(
                "Password", hide_input=True, confirmation_prompt="Repeat the password"
            )
    try:
        outcome = create_or_promote_admin(username, password)
    except AdminAccountError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)
    click.echo(outcome)


@main.group()
def audit() -> None:
    """Look after the audit trail of security events."""


@audit.command()
@click.option(
    "--days",
    type=click.IntRange(*AUDIT_RETENTION_RANGE),
    default=None,
    help="Keep this many days instead of AUDIT_RETENTION_DAYS.",
)
@with_app_context
def prune(days: int | None) -> None:
    """Delete audit events older than AUDIT_RETENTION_DAYS days."""
    from sqlalchemy import inspect

    from bastion.app.audit import PruneInterrupted
    from bastion.app.audit import prune as prune_events
    from bastion.app.extensions import db as database
    from bastion.context import current_settings

    if not inspect(database.engine).has_table("audit_events"):
        click.echo(
            "Error: the database has no audit_events table; run `bastion db upgrade`.",
            err=True,
        )
        sys.exit(1)

    retention = days or current_settings().audit_retention_days
    try:
        deleted = prune_events(retention)
    except PruneInterrupted as error:
        logged = (
            " those deletions are logged as admin.audit_pruned."
            if error.deleted
            else ""
        )
        click.echo(
            f"Error: the database failed ({error});{logged} Run `bastion audit prune` "
            "again to finish.",
            err=True,
        )
        sys.exit(1)
    click.echo(f"Deleted {deleted} audit event(s) older than {retention} day(s).")
