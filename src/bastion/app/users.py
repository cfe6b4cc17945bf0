"""Finding an account by a name someone typed."""

import re

from sqlalchemy import select

from bastion.app.extensions import db
from bastion.app.models import (
    USERNAME_MAX_LENGTH,
    USERNAME_PATTERN,
    User,
    username_matches,
)


def find_user(typed: str) -> User | None:
    """The account named ``typed``, in any letter case, or None."""
    # No account can have a name outside the registration rules, so such a name is
    # never sent to the database: lower() would map e.g. the Kelvin sign to "k", and
    # PostgreSQL refuses a NUL with an error that would quote what was typed.
    if len(typed) > USERNAME_MAX_LENGTH or not re.fullmatch(USERNAME_PATTERN, typed):
        return None
    return db.session.scalar(select(User).where(username_matches(typed)))


def account_named(typed: str) -> tuple[int, str] | None:
    """The id and username of the account ``typed`` names, for the sign-in limits."""
    user = find_user(typed)
    return None if user is None else (user.id, user.username)
