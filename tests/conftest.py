"""Fixtures shared by every test: settings, an app on a fresh database, a client."""

from collections.abc import Callable
from pathlib import Path

import flask_migrate
import pytest
from flask import Flask

from bastion.app import create_app
from bastion.config import Settings, load_settings


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Build settings from an explicit environment: no .env and no os.environ."""

    def build(env_file: Path | None = None, **environ: str) -> Settings:
        environ.setdefault("APP_ENV", "testing")
        environ.setdefault("INSTANCE_PATH", str(tmp_path / "instance"))
        if environ["APP_ENV"] == "production":
            # The test client's host; production insists on a declared list.
            environ.setdefault("TRUSTED_HOSTS", "localhost")
        return load_settings(environ=environ, env_file=env_file)

    return build


@pytest.fixture
def make_app(make_settings, tmp_path: Path) -> Callable[..., Flask]:
    """Build an app with the given settings on a migrated SQLite file of its own."""

    def build(**environ: str) -> Flask:
        environ.setdefault("DATABASE_PATH", str(tmp_path / "test.db"))
        app = create_app(make_settings(**environ))
        with app.app_context():
            flask_migrate.upgrade()
        return app

    return build


@pytest.fixture
def app(make_app) -> Flask:
    """The app in the testing profile, CSRF on."""
    return make_app()


@pytest.fixture
def client(app: Flask):
    """A test client for ``app``."""
    return app.test_client()
