"""What a new password must be (OWASP ASVS 2.1), said as one sentence to the user.

The rules: a length from the configured minimum to 128 characters, printable
characters, not a common or breached password, and not containing the username.
There are no composition rules; a few ordinary words make a good password.

"Common" means zxcvbn's list of about 30,000 passwords seen in breaches, read
offline, compared after case folding and also without spaces. A common password
repeated ("qwertyqwerty") or followed by only digits and symbols ("password1234",
"Password!!!!!") counts as common too, as attackers try those variants next. Other
changes, such as letters swapped for digits inside a word, are not caught.
Invisible format characters (zero-width spaces, soft hyphens) are ignored when
comparing, so "pass\u200bword" is as common as "password".

Last, zxcvbn's estimator must rate the password at least "safely unguessable"
(score 3, about 10^8 guesses): the list alone misses repeats ("aaaaaaaaaaaa"),
sequences ("abcdefghijkl") and keyboard runs, which its pattern matchers catch.
That is a measure of guessability, not a composition rule: any long enough
phrase passes.
"""

import functools
import logging
import unicodedata
from collections.abc import Iterator

from bastion.app.passwords import normalise

logger = logging.getLogger(__name__)

PASSWORD_MAX_LENGTH = 128

TOO_LONG = f"Use at most {PASSWORD_MAX_LENGTH} characters."
UNPRINTABLE = "Use printable characters only, no tabs or line breaks."
TOO_COMMON = (
    "This password is too common; it appears in lists attackers try first. "
    "Choose another."
)
COMMON_VARIANT = (
    "This password is a common one repeated or with digits or symbols added; "
    "attackers try those early. Choose another."
)
CONTAINS_USERNAME = "Don't include your username in your password."
# zxcvbn's scale: 3 is "safely unguessable" (about 10^8 guesses or more).
MIN_SCORE = 3

# Control characters, lone surrogates, and line and paragraph separators. Format
# characters stay allowed: Persian text and emoji sequences need zero-width joiners.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
# Numbers, punctuation and symbols: what people add to a password to pass a rule.
_ADDED_CATEGORIES = ("N", "P", "S")
# Registered usernames are at least this long; a shorter one, from a form that
# failed validation, would refuse nearly every password if searched for.
_SHORTEST_USERNAME = 3


def too_short(min_length: int) -> str:
    """Return the message for a password shorter than ``min_length`` characters."""
    return f"Use at least {min_length} characters; a few words work well."


def password_problem(
    password: str, username: str | None, min_length: int
) -> str | None:
    """Return why ``password`` is refused, as a sentence for the user, or None."""
    password = normalise(password)
    if len(password) < min_length:
        return too_short(min_length)

    if len(password) > PASSWORD_MAX_LENGTH:
        return TOO_LONG

    if any(unicodedata.category(char) in _REFUSED_CATEGORIES for char in password):
        return UNPRINTABLE

    return (
        _common_problem(password)
        or _username_problem(password, username)
        or _guessability_problem(password, username)
    )


def _guessability_problem(password: str, username: str | None) -> str | None:
    from zxcvbn import zxcvbn

    visible = _without_invisible(password)
    estimate = zxcvbn(visible, user_inputs=[username] if username else [],
                      max_length=PASSWORD_MAX_LENGTH)  # fmt: skip
    if estimate["score"] >= MIN_SCORE:
        return None

    warning = estimate["feedback"]["warning"]
    reason = f" {warning.rstrip('.')}." if warning else ""
    return f"This password is too easy to guess.{reason} Add another word or two."


def _without_invisible(text: str) -> str:
    return "".join(char for char in text if unicodedata.category(char) != "Cf")


def _common_problem(password: str) -> str | None:
    common = _common_passwords()
    forms = _comparable_forms(password)
    if not common.isdisjoint(forms):
        return TOO_COMMON

    if any(base in common for form in forms for base in _bases(form)):
        return COMMON_VARIANT

    return None


def _username_problem(password: str, username: str | None) -> str | None:
    if username is None:
        return None

    name = normalise(username).strip().casefold()
    if len(name) < _SHORTEST_USERNAME:
        return None

    if any(name in form for form in _comparable_forms(password)):
        return CONTAINS_USERNAME

    return None


def _comparable_forms(password: str) -> set[str]:
    folded = _without_invisible(password).casefold()
    return {folded, "".join(folded.split())}


def _bases(text: str) -> Iterator[str]:
    # Each way of reading ``text`` as a word followed by digits and symbols, and
    # each word that repeats to make one of those. The text is at most 128
    # characters, so this stays a few thousand short string operations.
    for stem in _stems(text):
        yield stem
        yield from _repeated_units(stem)


def _stems(text: str) -> Iterator[str]:
    end = len(text)
    yield text
    while end and unicodedata.category(text[end - 1]).startswith(_ADDED_CATEGORIES):
        end -= 1
        yield text[:end]


def _repeated_units(text: str) -> Iterator[str]:
    for size in range(1, len(text) // 2 + 1):
        count, rest = divmod(len(text), size)
        if not rest and text[:size] * count == text:
            yield text[:size]


@functools.cache
def _common_passwords() -> frozenset[str]:
    # Loaded at the first check, not at import: importing zxcvbn builds all of its
    # word lists, which takes about 40 ms and 14 MB. Its entries are lower case.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    common = frozenset(FREQUENCY_LISTS["passwords"])
    logger.debug("Loaded %d common passwords", len(common))
    return common
