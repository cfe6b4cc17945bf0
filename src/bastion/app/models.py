"""Database models."""

from datetime import UTC, datetime

from flask_login import UserMixin
from sqlalchemy import DateTime, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from bastion.app.extensions import db

USERNAME_MAX_LENGTH = 32


def _now() -> datetime:
    return datetime.now(UTC)


class User(UserMixin, db.Model):
    """A person who can sign in."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(USERNAME_MAX_LENGTH))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)

    def __repr__(self) -> str:
        return f"<User id={self.id}>"


# The database itself refuses "Alice" when "alice" exists, even when two requests
# race and whatever code inserts the row. Names are ASCII, so lower() agrees in
# SQLite and PostgreSQL.
Index("uq_users_username_lower", func.lower(User.username), unique=True)


def username_matches(username: str):
    """Return the SQL condition that finds ``username`` without regard to case."""
    return func.lower(User.username) == username.lower()
