"""The password policy's refusals and their words, and when a stored hash is renewed."""

import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.app.password_policy import (
    COMMON_VARIANT,
    CONTAINS_USERNAME,
    TOO_COMMON,
    TOO_LONG,
    UNPRINTABLE,
    _common_passwords,
    password_problem,
)
from bastion.app.passwords import Passwords
from tests.helpers import PASSWORD

TOO_SHORT = "Use at least 12 characters; a few words work well."

# Property tests stay fast and deterministic in CI.
quick = settings(max_examples=300, deadline=None)


@pytest.mark.parametrize(
    ("password", "username", "message"),
    [
        ("", None, TOO_SHORT),
        ("a" * 11, None, TOO_SHORT),
        ("a" * 129, None, TOO_LONG),
        ("tab\tin a long password", None, UNPRINTABLE),
        ("nul\x00in a long password", None, UNPRINTABLE),
        ("delete\x7fin a long password", None, UNPRINTABLE),
        ("line\u2028separator password", None, UNPRINTABLE),
        ("paragraph\u2029separator password", None, UNPRINTABLE),
        ("lone surrogate \ud800 password", None, UNPRINTABLE),
        ("password1234", None, TOO_COMMON),
        ("PASSWORD1234", None, TOO_COMMON),
        ("pass word 1234", None, TOO_COMMON),
        ("ｐａｓｓｗｏｒｄ１２３４", None, TOO_COMMON),
        ("Password!!!!!", None, COMMON_VARIANT),
        ("iloveyou2024!", None, COMMON_VARIANT),
        ("qwertyqwerty", None, COMMON_VARIANT),
        ("qwerty qwerty", None, COMMON_VARIANT),
        ("DragonDragon99", None, COMMON_VARIANT),
        ("123456789012", None, COMMON_VARIANT),
        ("alice in wonderland", "alice", CONTAINS_USERNAME),
        ("my ALICE passphrase", "Alice", CONTAINS_USERNAME),
        ("a l i c e is here", "alice", CONTAINS_USERNAME),
    ],
    ids=[
        "empty",
        "11",
        "129",
        "tab",
        "nul",
        "delete",
        "line-separator",
        "paragraph-separator",
        "lone-surrogate",
        "common",
        "common-upper-case",
        "common-with-spaces",
        "common-fullwidth",
        "common-with-symbols",
        "common-with-digits-and-symbol",
        "common-repeated",
        "common-repeated-with-space",
        "common-repeated-with-digits",
        "common-with-digits-only",
        "username",
        "username-other-case",
        "username-spaced-out",
    ],
)
def test_weak_password_is_refused_with_its_reason(password, username, message):
    """Each broken rule gives its own sentence."""
    assert password_problem(password, username, 12) == message


@pytest.mark.parametrize(
    "password",
    [
        PASSWORD,
        "x9!kQ2#vLm8p",
        ("quiet harbor lantern violet 42 " * 5)[:128],
        "the quiet lighthouse keeper counts seventeen gulls before dawn",
        "   spaces around it   ",
        "pässwörd 密码 long enough",
        "می\u200cخواهم رمز عبور",
        "family 👨\u200d👩\u200d👧 passphrase",
        "password manager rocks",
        "ﬃ jade ﬃ kiln",
    ],
    ids=[
        "helpers-password",
        "12",
        "128",
        "long-passphrase",
        "spaces",
        "unicode",
        "persian-zwnj",
        "emoji-zwj",
        "common-word-then-words",
        "ligatures-counted-after-nfkc",
    ],
)
def test_good_password_is_accepted(password):
    """Long, printable passwords in any script, joiners and emoji included, pass."""
    assert password_problem(password, "alice", 12) is None


def test_shared_test_password_is_not_common():
    """The password the tests register with is not on the common list."""
    assert PASSWORD.casefold() not in _common_passwords()
    assert PASSWORD.replace(" ", "") not in _common_passwords()


def test_minimum_length_comes_from_the_caller():
    """The shortest length allowed is the one passed in, and the message says it."""
    message = "Use at least 16 characters; a few words work well."

    assert password_problem("x9!kQ2#vLm8pT4w%", None, 16) is None
    assert password_problem("x9!kQ2#vLm8pT4w", None, 16) == message


def test_length_is_counted_after_normalising():
    """A character NFKC writes as several counts as several, up to the maximum."""
    assert password_problem("ﬃ jade ﬃ kiln", None, 12) is None
    assert password_problem("ﬃ jade ﬃ kil", None, 13) is None
    assert password_problem("ﬃ" * 43, None, 12) == TOO_LONG


@pytest.mark.parametrize("username", [None, "", "al", "  "])
def test_missing_or_short_username_is_not_searched_for(username):
    """A username shorter than any allowed one does not refuse the password."""
    assert password_problem("always a long enough password", username, 12) is None


@quick
@given(st.text(), st.one_of(st.none(), st.text()), st.integers(8, 128))
def test_any_text_gets_a_sentence_or_none(password, username, min_length):
    """No input makes the policy raise; a refusal is always a whole sentence."""
    problem = password_problem(password, username, min_length)

    assert problem is None or problem.endswith(".")


@quick
@given(
    st.sampled_from(sorted(_common_passwords())),
    st.text(alphabet="0123456789!?.#$", min_size=12),
)
def test_common_password_with_digits_or_symbols_added_is_refused(common, added):
    """Any listed password, in capitals, with digits or symbols added, is refused."""
    password = (common.upper() + added)[:128]

    assert password_problem(password, None, 12) in {TOO_COMMON, COMMON_VARIANT}


def test_import_does_not_load_the_list():
    """Importing the policy leaves zxcvbn's lists unloaded until the first check."""
    code = "import sys, bastion.app.password_policy; print('zxcvbn' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "False"


def test_hash_made_with_current_parameters_needs_no_update(make_settings):
    """A hash made with the parameters in settings is kept."""
    passwords = Passwords(make_settings())

    assert not passwords.needs_update(passwords.hash(PASSWORD))


@pytest.mark.parametrize(
    "raised",
    [
        {"PASSWORD_HASH_ITERATIONS": "3"},
        {"PASSWORD_HASH_MEMORY_KIB": "32768"},
        {"PASSWORD_HASH_PARALLELISM": "2"},
    ],
    ids=["iterations", "memory", "parallelism"],
)
def test_hash_needs_update_when_parameters_rise(make_settings, raised):
    """After a cost setting rises, an older, cheaper hash needs updating."""
    old_hash = Passwords(make_settings()).hash(PASSWORD)
    stronger = Passwords(make_settings(**raised))

    assert stronger.needs_update(old_hash)
    assert stronger.verify(old_hash, PASSWORD)
    assert not stronger.needs_update(stronger.hash(PASSWORD))


def test_unreadable_hash_needs_update(make_settings):
    """A stored value that is not an argon2 hash is reported for replacement."""
    assert Passwords(make_settings()).needs_update("not a hash")


@pytest.mark.parametrize(
    "password",
    [
        "aaaaaaaaaaaa",
        "abcdefghijkl",
        "qwertyuiopas",
        "!!!!!!!!!!!!",
        "abababababab",
        "aaaaaaaaaaaaaaa1",
        " " * 12,
        "\u3000" * 12,
        "hunter2hunter2",
    ],
)
def test_easily_guessed_patterns_are_refused(password):
    """Repeats, sequences and keyboard runs are refused though not on the list."""
    problem = password_problem(password, None, 12)

    assert problem is not None
    assert problem.startswith(("This password is too easy to guess.", "This password"))


@pytest.mark.parametrize(
    "password", ["password\u200b1234", "pass\u00adword12345", "\u200b" * 12 + "x"]
)
def test_invisible_characters_do_not_hide_a_weak_password(password):
    """Zero-width spaces and soft hyphens are ignored when judging a password."""
    assert password_problem(password, None, 12) is not None
