"""Alembic environment: runs migrations on the engine of the current Flask app."""

from alembic import context
from flask import current_app


def _migrate_extension():
    return current_app.extensions["migrate"]


def _skip_empty_autogenerate(migration_context, revision, directives) -> None:
    # `bastion db revision` with no model changes should write no empty file.
    autogenerate = getattr(context.config.cmd_opts, "autogenerate", False)
    if autogenerate and directives[0].upgrade_ops.is_empty():
        directives[:] = []


def run_offline() -> None:
    """Emit SQL without connecting, for `--sql` runs."""
    extension = _migrate_extension()
    context.configure(
        url=extension.db.engine.url,
        target_metadata=extension.db.metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Connect with the app's own engine and migrate in one transaction."""
    extension = _migrate_extension()
    options = dict(extension.configure_args)
    options.setdefault("process_revision_directives", _skip_empty_autogenerate)
    with extension.db.engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=extension.db.metadata,
            **options,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
