"""Database URLs: accept what platforms hand out; print them without passwords."""

from bastion.config import parsers
from bastion.config.secrets import MASK

# Every scheme Bastion can serve from, mapped to the driver it uses. Platforms such as
# Heroku hand out postgres://, which SQLAlchemy itself no longer accepts.
_DRIVERS = {
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
    "sqlite": "sqlite",
    "sqlite+pysqlite": "sqlite",
}
_EXPECTED = (
    "must be a database URL such as postgresql://user:password@host:5432/dbname "
    "(postgres:// works too) or sqlite:////absolute/path.db"
)


@parsers.expects("database URL: postgresql://… or sqlite:///…")
def parse_database_url(text: str) -> str:
    """Return ``text`` as a URL SQLAlchemy can use, with psycopg 3 for PostgreSQL.

    The error never includes the URL, because it may hold a password.
    """
    parse_text = parsers.text()
    scheme, separator, rest = parse_text(text).strip().partition("://")
    driver = _DRIVERS.get(scheme.lower())
    if not separator or driver is None:
        raise ValueError(_EXPECTED)

    user_info, at, _ = rest.split("?", 1)[0].rpartition("@")
    if at and ("@" in user_info or "/" in user_info):
        # SQLAlchemy would split the password and take part of it as the host.
        raise ValueError(
            "has '@' or '/' in its user name or password; percent-encode them "
            "as %40 and %2F"
        )

    # Imported here: SQLAlchemy costs a fifth of a second that `gen-key` need not pay.
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(f"{driver}://{rest}")
    except (ArgumentError, ValueError):
        raise ValueError(_EXPECTED) from None

    if driver.startswith("postgresql") and not url.database:
        raise ValueError("must name a database, as in postgresql://user@host/dbname")

    if url.port is not None and not 1 <= url.port <= 65535:
        raise ValueError("has a port outside 1 to 65535")

    if any("pass" in key.lower() for key in url.query):
        raise ValueError(
            "carries a password in its query string; put it in the user part, "
            "as in postgresql://user:password@host/dbname"
        )

    return url.render_as_string(hide_password=False)


def mask_database_url(url: str) -> str:
    """Return ``url`` with its password, if any, shown as ``***``."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return MASK

    return parsed.render_as_string(hide_password=True)
