"""Password hashing with argon2id; a check costs the same for any username."""

import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from bastion.config import Settings


class Passwords:
    """Hashes and verifies passwords with the argon2id parameters from settings."""

    def __init__(self, settings: Settings) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.password_hash_iterations,
            memory_cost=settings.password_hash_memory_kib,
            parallelism=settings.password_hash_parallelism,
        )
        # Checked against when the username is unknown, so a failed sign-in costs
        # one full hash either way and timing does not tell which names exist.
        self._dummy_hash = self._hasher.hash("not a real password, only for timing")

    def hash(self, password: str) -> str:
        """Return the argon2id hash of ``password``."""
        return self._hasher.hash(normalise(password))

    def verify(self, password_hash: str | None, password: str) -> bool:
        """Say whether ``password`` matches; with no hash, spend the time and fail."""
        if password_hash is None:
            self._matches(self._dummy_hash, password)
            return False

        return self._matches(password_hash, password)

    def needs_update(self, password_hash: str) -> bool:
        """Say whether ``password_hash`` was made with other parameters than these.

        Call it after a successful sign-in, while the password is at hand, and store
        a fresh hash when it says so: raising the cost in settings then reaches
        every account that signs in.
        """
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            # A hash that cannot be read cannot be kept either.
            return True

    def _matches(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, normalise(password))
        except (VerificationError, InvalidHashError):
            return False


def normalise(password: str) -> str:
    """Return ``password`` in Unicode NFKC form, so equal-looking input hashes alike."""
    return unicodedata.normalize("NFKC", password)


def current_passwords() -> Passwords:
    """The password hasher of the app handling this request or command."""
    return current_app.extensions["passwords"]
