"""Database models."""

from datetime import UTC, datetime

from flask_login import UserMixin
from sqlalchemy import DateTime, ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bastion.app.extensions import db

USERNAME_MIN_LENGTH = 3
USERNAME_MAX_LENGTH = 32
USERNAME_PATTERN = r"[A-Za-z0-9._-]+"
# New names need a letter: one of digits alone reads as a user id on the audit page,
# and may pass for a card number, which the logs mask.
USERNAME_HAS_LETTER = r"[^A-Za-z]*[A-Za-z]"
# Ids are INTEGER columns: 32-bit on PostgreSQL, which refuses a larger number in a
# query with an error (a 500) rather than finding no row.
LARGEST_ROW_ID = 2**31 - 1
ROLE_USER = "user"
ROLE_ADMIN = "admin"


def utc_now() -> datetime:
    """The current time in UTC; every stored time is UTC."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """Return ``moment`` as aware UTC; SQLite hands times back without a zone."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


class User(UserMixin, db.Model):
    """A person who can sign in."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(USERNAME_MAX_LENGTH))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(
        String(16), default=ROLE_USER, server_default=ROLE_USER
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utc_now
    )

    def __repr__(self) -> str:
        return f"<User id={self.id}>"

    @property
    def is_admin(self) -> bool:
        """Whether this user may open the admin pages."""
        return self.role == ROLE_ADMIN


class UserSession(db.Model):
    """One sign-in on one device, checked on every request.

    The cookie holds a random token; only its SHA-256 is stored, so a copy of the
    database does not let anyone sign in. Deleting the row ends the sign-in everywhere.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    remember_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    authenticated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    remember_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ip_address: Mapped[str] = mapped_column(String(45))
    device: Mapped[str] = mapped_column(String(120))

    user: Mapped[User] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<UserSession id={self.id} user_id={self.user_id}>"


class AuditEvent(db.Model):
    """One security event from ``bastion.logs.catalogue``, kept for the admins.

    ``user_id`` is a plain column, not a foreign key: the trail outlives accounts.
    Event-specific fields are kept as JSON in ``details``.
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    event: Mapped[str] = mapped_column(String(64), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(index=True)
    username: Mapped[str | None] = mapped_column(String(220))
    # The user an admin or a password change acted on; also in details, for show.
    target_user_id: Mapped[int | None] = mapped_column(index=True)
    ip_address: Mapped[str | None] = mapped_column(String(45), index=True)
    user_agent: Mapped[str | None] = mapped_column(String(220))
    request_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[str] = mapped_column(Text, default="{}")

    def __repr__(self) -> str:
        return f"<AuditEvent id={self.id} event={self.event}>"


# The database itself refuses "Alice" when "alice" exists, even when two requests
# race and whatever code inserts the row. Names are ASCII, so lower() agrees in
# SQLite and PostgreSQL.
Index("uq_users_username_lower", func.lower(User.username), unique=True)


def username_matches(username: str):
    """Return the SQL condition that finds ``username`` without regard to case."""
    return func.lower(User.username) == username.lower()
