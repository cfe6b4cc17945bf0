"""Creating admins from the command line, under the same rules as registration."""

import logging
import re

from bastion.app.extensions import db
from bastion.app.models import (
    ROLE_ADMIN,
    USERNAME_HAS_LETTER,
    USERNAME_MAX_LENGTH,
    USERNAME_MIN_LENGTH,
    USERNAME_PATTERN,
    User,
)
from bastion.app.password_policy import password_problem
from bastion.app.passwords import current_passwords
from bastion.app.users import find_user
from bastion.context import current_settings
from bastion.logs.events import record_event

logger = logging.getLogger(__name__)


class AdminAccountError(ValueError):
    """The username or password cannot be used; the message says why."""


def account_exists(username: str) -> bool:
    """Whether an account has ``username``, in any letter case."""
    return find_user(username) is not None


def username_problem(username: str, new: bool) -> str | None:
    """Why ``username`` cannot name an admin (a ``new`` account's, or an existing
    one's), or None when it can."""
    if not USERNAME_MIN_LENGTH <= len(username) <= USERNAME_MAX_LENGTH or not (
        re.fullmatch(USERNAME_PATTERN, username)
    ):
        return (
            f"a username is {USERNAME_MIN_LENGTH} to {USERNAME_MAX_LENGTH} letters, "
            "digits, dots, underscores or hyphens."
        )
    if new and not re.match(USERNAME_HAS_LETTER, username):
        return "a new username needs at least one letter."
    return None


def create_or_promote_admin(username: str, password: str) -> str:
    """Create ``username`` as an admin, or give an existing user the admin role.

    For an existing user the password must be theirs: the command never resets one.
    """
    problem = username_problem(username, new=False)
    if problem:
        raise AdminAccountError(problem)

    passwords = current_passwords()
    user = find_user(username)
    if user is not None:
        if not passwords.verify(user.password_hash, password):
            raise AdminAccountError(
                f"{username} exists and that is not their password."
            )
        if user.is_admin:
            return f"{user.username} is already an admin."
        user.role = ROLE_ADMIN
        db.session.commit()
        # user_id is the account concerned, so the audit page's user filter finds it.
        record_event(
            "admin.role_granted",
            user_id=user.id,
            username=user.username,
            target_user_id=user.id,
        )
        return f"{user.username} is now an admin."

    problem = username_problem(username, new=True) or password_problem(
        password, username, current_settings().password_min_length
    )
    if problem:
        raise AdminAccountError(problem)

    user = User(
        username=username, password_hash=passwords.hash(password), role=ROLE_ADMIN
    )
    db.session.add(user)
    db.session.commit()
    record_event(
        "admin.user_created", user_id=user.id, username=username, target_user_id=user.id
    )
    return f"Created admin {username}."
