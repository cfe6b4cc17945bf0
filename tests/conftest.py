"""Fixtures shared by every test: settings, an app on a fresh database, a client."""

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import flask_migrate
import pytest
from flask import Flask
from sqlalchemy import inspect, select

from bastion.app import create_app
from bastion.app.extensions import db
from bastion.app.models import AuditEvent
from bastion.config import Settings, load_settings
from tests.canary import CANARY_SECRET_KEY, LEDGER, CanaryClient


@pytest.fixture(scope="session", autouse=True)
def canaries_never_leak() -> Iterator[None]:
    """At the end of the run, no log record, audit row or response holds a canary."""
    handler = LEDGER.log_handler()
    logging.getLogger().addHandler(handler)
    yield
    logging.getLogger().removeHandler(handler)
    leaks = LEDGER.leaks()
    assert not leaks, "Secrets leaked:\n" + "\n".join(leaks[:30])


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Build settings from an explicit environment: no .env and no os.environ."""

    def build(env_file: Path | None = None, **environ: str) -> Settings:
        environ.setdefault("APP_ENV", "testing")
        if environ["APP_ENV"] == "testing":
            # The testing profile would make up a key; sign with the canary instead.
            environ.setdefault("SECRET_KEY", CANARY_SECRET_KEY)
        environ.setdefault("INSTANCE_PATH", str(tmp_path / "instance"))
        if environ["APP_ENV"] == "production":
            # The test client's host; production insists on a declared list.
            environ.setdefault("TRUSTED_HOSTS", "localhost")
        return load_settings(environ=environ, env_file=env_file)

    return build


@pytest.fixture
def make_app(make_settings, tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """Build an app with the given settings on a migrated SQLite file of its own.

    Its test clients send the canary cookie, and its audit rows are read into the
    canary ledger when the test ends.
    """
    built: list[Flask] = []

    def build(**environ: str) -> Flask:
        environ.setdefault("DATABASE_PATH", str(tmp_path / "test.db"))
        app = create_app(make_settings(**environ))
        app.test_client_class = CanaryClient
        with app.app_context():
            flask_migrate.upgrade()
        built.append(app)
        return app

    yield build
    for app in built:
        _read_audit_rows(app)


def _read_audit_rows(app: Flask) -> None:
    with app.app_context():
        try:
            if not inspect(db.engine).has_table("audit_events"):
                return
            rows = db.session.scalars(select(AuditEvent)).all()
        except Exception:  # noqa: BLE001 (a test may have broken its own database)
            return
        finally:
            db.session.remove()
        LEDGER.stored += [(app.name, repr(vars(row))) for row in rows]


@pytest.fixture
def app(make_app) -> Flask:
    """The app in the testing profile, CSRF on."""
    return make_app()


@pytest.fixture
def client(app: Flask):
    """A test client for ``app``."""
    return app.test_client()


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Capture Bastion's records at INFO and up."""
    caplog.set_level(logging.INFO, logger="bastion")
    return caplog
