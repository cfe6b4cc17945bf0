"""Secret values: a masked type, key generation and the strength rules for keys."""

import logging
import os
import re
import secrets
import time
from pathlib import Path

from bastion.config.files import read_regular_file

logger = logging.getLogger(__name__)

MASK = "**********"
MIN_KEY_LENGTH = 32
MIN_DISTINCT_CHARACTERS = 10
GENERATE_HINT = "generate one with `bastion gen-key`"

# Compared after lower-casing and dropping everything but letters and digits, so
# "Change-Me", "change_me" and "CHANGEME" are all caught.
_PLACEHOLDERS = frozenset(
    {
        "changeme",
        "changethis",
        "secret",
        "secretkey",
        "mysecretkey",
        "yoursecretkey",
        "yoursecretkeyhere",
        "supersecretkey",
        "generatewithsecretstokenhex32",
        "dev",
        "devkey",
        "development",
        "test",
        "testing",
        "password",
        "insecure",
        "notsecret",
        "default",
        "example",
        "xxx",
    }
)
# Words that mark a key someone meant to replace. None of them can occur in a key made
# of hex digits, and in a random base64 key the chance is about one in ten million.
_PLACEHOLDER_WORDS = (
    "changeme",
    "changethis",
    "replaceme",
    "yoursecret",
    "secretkey",
    "secrettoken",
    "placeholder",
    "example",
    "generatewith",
    "tokenhex",
    "insecure",
    "notsecret",
    "donotuse",
    "keyhere",
    "secret",
    "password",
)
_NOT_ALPHANUMERIC = re.compile(r"[^a-z0-9]")


class Secret:
    """A secret string whose repr, str and format never show the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the real value; call this only where the secret is used."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{MASK}')"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return secrets.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> tuple:
        raise TypeError("a Secret cannot be pickled; pass the setting, not its value")


def generate_key() -> str:
    """Return a new random key: 64 hex characters, 256 bits."""
    return secrets.token_hex(32)


def key_weakness(key: str) -> str | None:
    """Say why ``key`` is too weak to sign sessions, or return None when it is fine."""
    normalised = _NOT_ALPHANUMERIC.sub("", key.lower())
    if normalised in _PLACEHOLDERS or any(
        word in normalised for word in _PLACEHOLDER_WORDS
    ):
        return "is a well-known placeholder, not a secret"

    if len(key) < MIN_KEY_LENGTH:
        return f"is shorter than {MIN_KEY_LENGTH} characters"

    # Case is ignored here, so "Secret-SECRET-secret" counts as few characters.
    if len(set(key.lower())) < MIN_DISTINCT_CHARACTERS:
        return f"has fewer than {MIN_DISTINCT_CHARACTERS} distinct characters"

    return None


def load_or_create_dev_key(instance_path: Path) -> str:
    """Return the development key stored under ``instance_path``, creating it once.

    Every worker and every restart must share one key, or forms and sessions signed
    by one process fail in another; so the key lives in a file only the owner can read,
    and the first process to create it wins. Raises ``ValueError`` with a message for
    the operator when the key cannot be stored or read.
    """
    key_file = instance_path / "secret_key"
    try:
        instance_path.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_dev_key(key_file)
    except OSError as error:
        raise ValueError(
            f"cannot store a development key in {str(instance_path)!r} "
            f"({error.strerror}); set SECRET_KEY, or point INSTANCE_PATH at a folder "
            "you can write to."
        ) from None

    key = generate_key()
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(key)
    logger.warning(
        "No SECRET_KEY was set: generated a development key and stored it in %s. "
        "Set SECRET_KEY for production.",
        key_file,
    )
    return key


def _read_dev_key(key_file: Path) -> str:
    unusable = (
        f"the development key in {str(key_file)!r} is not usable; delete the file "
        "so a new one is generated, or set SECRET_KEY."
    )
    # Another worker may have created the file a moment ago and not yet written it.
    for _ in range(50):
        try:
            key = read_regular_file(key_file, 4096).decode("ascii").strip()
        except (OSError, UnicodeDecodeError):
            raise ValueError(unusable) from None
        if key:
            break
        time.sleep(0.01)
    else:
        raise ValueError(unusable)

    if key_weakness(key) or not re.fullmatch(r"[\x21-\x7e]+", key):
        raise ValueError(unusable)

    if key_file.stat().st_mode & 0o077:
        logger.warning("%s is readable by other users; run chmod 600 on it.", key_file)
    return key
