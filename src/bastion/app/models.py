"""Database models."""

from datetime import UTC, datetime

from flask_login import UserMixin
from sqlalchemy import DateTime, String
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
    # Lower-cased username with a unique index, so the database itself refuses
    # "Alice" when "alice" exists, even when two requests race.
    username_key: Mapped[str] = mapped_column(String(USERNAME_MAX_LENGTH), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)

    def __repr__(self) -> str:
        return f"<User id={self.id}>"


def username_key(username: str) -> str:
    """Return the form of ``username`` that uniqueness is checked on."""
    return username.lower()
