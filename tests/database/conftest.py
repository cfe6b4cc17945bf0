"""Databases for the database tests: a SQLite file, and PostgreSQL when configured.

PostgreSQL tests read TEST_DATABASE_URL (CI sets it to the server on the machine).
Each test gets a schema of its own, created and dropped here, so runs never collide.
"""

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests.canary import CANARY_DB_PASSWORD

POSTGRES_VARIABLE = "TEST_DATABASE_URL"


def postgres_server_url() -> str:
    """Return TEST_DATABASE_URL, or skip the test with the reason shown.

    A URL without a password gets the canary one: the server's trust auth never
    asks for it, and the canary ledger proves no log or page ever shows it.
    """
    url = os.environ.get(POSTGRES_VARIABLE)
    if not url:
        pytest.skip(f"{POSTGRES_VARIABLE} is not set; PostgreSQL tests need a server")
    parsed = make_url(url)
    if parsed.password is None:
        parsed = parsed.set(password=CANARY_DB_PASSWORD)
    return parsed.render_as_string(hide_password=False)


def _conninfo(url: str) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    server = postgres_server_url()
    schema = f"bastion_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_conninfo(server), autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    url = make_url(server).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_conninfo(server), autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    """A SQLite file of the test's own."""
    return f"sqlite:///{tmp_path / 'bastion.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request) -> str:
    """Each database test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def build_app(make_settings):
    """Build apps on a given database URL; dispose their engines when the test ends.

    Disposing closes pooled PostgreSQL connections, which would otherwise be closed
    by the garbage collector with a ResourceWarning in some later test.
    """
    from bastion.app import create_app
    from bastion.app.extensions import db

    apps = []

    def build(database_url: str, **environ: str):
        app = create_app(make_settings(DATABASE_URL=database_url, **environ))
        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            db.engine.dispose()
