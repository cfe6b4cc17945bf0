"""Database engines made from settings: pools, timeouts, SQLite pragmas, fork safety.

Works for any app using Flask-SQLAlchemy: put ``engine_options(settings)`` in
``SQLALCHEMY_ENGINE_OPTIONS`` and call ``install_engine_hooks(engine)`` once.
"""

import contextlib
import logging
import os
import time
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError

from bastion.config import Settings

logger = logging.getLogger(__name__)

# How long SQLite waits for another writer before "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 5000
EXIT_DATABASE_UNREACHABLE = 3


def engine_options(settings: Settings) -> dict[str, object]:
    """Return SQLAlchemy ``create_engine`` options for the configured database."""
    url = make_url(settings.database_url)
    # A failed statement's error would otherwise quote its parameters: typed names,
    # password hashes, session tokens. Logs and tracebacks get the SQL alone.
    if url.get_backend_name() == "sqlite":
        # The timeout is sqlite3's busy handler: wait for a lock instead of failing.
        return {
            "connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            "hide_parameters": True,
        }

    recycle = settings.db_pool_recycle_seconds
    return {
        "hide_parameters": True,
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_max_overflow,
        "pool_pre_ping": settings.db_pool_pre_ping,
        "pool_recycle": recycle if recycle > 0 else -1,
        "connect_args": {"connect_timeout": settings.db_connect_timeout_seconds},
    }


def install_engine_hooks(engine: Engine, settings: Settings) -> None:
    """Set per-connection options and keep pooled connections out of forked workers."""
    backend = engine.url.get_backend_name()

    @event.listens_for(engine, "connect")
    def configure_connection(dbapi_connection, connection_record) -> None:
        connection_record.info["pid"] = os.getpid()
        cursor = dbapi_connection.cursor()
        if backend == "sqlite":
            _configure_sqlite(cursor, engine.url)
        elif backend == "postgresql":
            _configure_postgresql(cursor, settings)
        cursor.close()

    @event.listens_for(engine, "checkout")
    def refuse_inherited_connection(dbapi_connection, connection_record, proxy) -> None:
        # A connection opened before a fork belongs to the parent process; using it
        # from two processes interleaves their traffic on one socket.
        if connection_record.info.get("pid") != os.getpid():
            connection_record.dbapi_connection = proxy.dbapi_connection = None
            raise DisconnectionError("connection was opened by another process")


def _configure_sqlite(cursor, url: URL) -> None:
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys = ON")
    if url.database not in (None, "", ":memory:"):
        # WAL lets readers carry on while one worker writes.
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")


def _configure_postgresql(cursor, settings: Settings) -> None:
    timeout = int(settings.db_statement_timeout_ms)
    cursor.execute(f"SET statement_timeout = {timeout}")
    cursor.execute(f"SET application_name = 'bastion:{os.getpid()}'")
    # Times come back in the session's zone, often the server's local one; the app
    # shows and compares UTC (the audit page's filters are UTC times without a zone).
    cursor.execute("SET TIME ZONE 'UTC'")
    cursor.connection.commit()


def describe_location(url: str) -> str:
    """Return where ``url`` points, without user name or password: host:port/db."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"SQLite file {parsed.database or ':memory:'}"

    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.host or 'localhost'}{port}/{parsed.database}"


def is_reachable(engine: Engine) -> bool:
    """Say whether the database answers a trivial query now."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except (OperationalError, DBAPIError):
        return False
    return True


def wait_for_database(engine: Engine, seconds: float) -> bool:
    """Retry until the database answers or ``seconds`` pass; say whether it answered."""
    deadline = time.monotonic() + seconds
    announced = False
    while not is_reachable(engine):
        if time.monotonic() >= deadline:
            return False
        if not announced:
            logger.warning(
                "The database at %s is unreachable; retrying for up to %g s.",
                describe_location(engine.url.render_as_string(hide_password=True)),
                seconds,
            )
            announced = True
        time.sleep(1)
    return True


def prepare_sqlite_folder(settings: Settings) -> None:
    """Create a SQLite file's folder, and the file itself readable by its owner only.

    On a fresh clone instance/ is absent. SQLite would create the file with the umask's
    mode, usually 0644, letting every local user read the password hashes; its journal
    and WAL files copy the mode of the database file, so creating it 0600 covers them.
    An existing file keeps its mode.
    """
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return
    # With ?uri=true the "database" is a URI that SQLite opens itself.
    if url.query.get("uri"):
        return

    database = Path(url.database)
    database.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(database, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def database_answers_at_startup(settings: Settings) -> bool:
    """Wait up to DB_STARTUP_WAIT_SECONDS for the database; say whether it answered."""
    prepare_sqlite_folder(settings)
    engine = create_engine(settings.database_url, **engine_options(settings))
    # A SQLite file has no server to come back: one try tells.
    is_server = engine.url.get_backend_name() != "sqlite"
    try:
        return wait_for_database(engine, settings.db_startup_wait_seconds * is_server)
    finally:
        # Nothing opened here may outlive start-up: gunicorn forks after this.
        engine.dispose()


def unreachable_message(settings: Settings) -> str:
    """One line for the operator: where the database is, never its password."""
    location = describe_location(settings.database_url)
    return (
        f"Bastion cannot reach the database at {location} "
        f"after {settings.db_startup_wait_seconds} s; check DATABASE_URL and that the "
        "server is running."
    )
