"""SQLite for development and small installs: WAL, a busy timeout, honest warnings."""

import logging
import secrets

import flask_migrate
import pytest
from sqlalchemy import text

from bastion.app.extensions import db
from tests.database.test_concurrency import _register_all_at_once


def test_sqlite_file_runs_in_wal_mode_with_a_busy_timeout(build_app, sqlite_url):
    """Every connection to a SQLite file uses WAL and waits 5 s for a lock."""
    app = build_app(sqlite_url)
    with app.app_context(), db.engine.connect() as connection:
        journal = connection.execute(text("PRAGMA journal_mode")).scalar()
        busy = connection.execute(text("PRAGMA busy_timeout")).scalar()

    assert journal == "wal"
    assert busy == 5000


def test_simultaneous_registrations_on_sqlite_all_succeed(build_app, sqlite_url):
    """Twenty different people registering at once never see "database is locked"."""
    app = build_app(sqlite_url)
    with app.app_context():
        flask_migrate.upgrade()

    results = _register_all_at_once(app, [f"person{i}" for i in range(20)])

    assert [status for status, _ in results] == [302] * 20


def test_production_on_sqlite_starts_with_a_warning(make_settings, caplog):
    """Production without DATABASE_URL starts, and the log names SQLite's risks."""
    with caplog.at_level(logging.WARNING, logger="bastion"):
        settings = make_settings(APP_ENV="production", SECRET_KEY=secrets.token_hex(32))

    assert settings.profile == "production"
    warning = " ".join(record.getMessage() for record in caplog.records)
    assert "SQLite" in warning
    assert "DATABASE_URL" in warning


@pytest.mark.parametrize(
    ("url", "warned"),
    [
        ("sqlite:////srv/bastion/prod.db", True),
        ("SQLite:///relative.db", True),
        ("postgresql://bastion@db.internal/bastion", False),
    ],
)
def test_production_warns_of_sqlite_named_in_database_url(
    make_settings, caplog, url, warned
):
    """DATABASE_URL=sqlite:///... is SQLite too, and gets the same warning."""
    with caplog.at_level(logging.WARNING, logger="bastion"):
        make_settings(
            APP_ENV="production", SECRET_KEY=secrets.token_hex(32), DATABASE_URL=url
        )

    messages = [record.getMessage() for record in caplog.records]
    assert any("running on SQLite (DATABASE_URL)" in m for m in messages) is warned
