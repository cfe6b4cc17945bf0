"""Accounts through the web app: registration, sign-in, sign-out and their rules."""

import re
import statistics
import time
import unicodedata

import pytest
from sqlalchemy import func, select

from bastion.app.extensions import db
from bastion.app.models import User
from tests.helpers import PASSWORD, csrf_token, login, logout, register

SIGN_IN_FAILED = "Invalid username or password."
USERNAME_TAKEN = "That username is taken. Choose another."
USERNAME_LENGTH = "Use 3 to 32 characters."
USERNAME_CHARACTERS = "Use only letters, digits, dots, underscores and hyphens."
PASSWORD_TOO_SHORT = "Use at least 12 characters; a few words work well."
PASSWORD_TOO_LONG = "Use at most 128 characters."
PASSWORD_UNPRINTABLE = "Use printable characters only, no tabs or line breaks."
PASSWORDS_DIFFER = "The two passwords do not match."

_CSRF_VALUE = re.compile(r'(name="csrf_token"[^>]*value=")[^"]+')
_NONCE = re.compile(r'nonce="[^"]+"')


def _user_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def _stored_hash(app, username: str) -> str:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        return user.password_hash


def _argon2_parameters(password_hash: str) -> tuple[str, dict[str, int]]:
    # "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>"
    _, variant, _version, parameters, _salt, _digest = password_hash.split("$")
    pairs = (item.split("=") for item in parameters.split(","))
    return variant, {name: int(value) for name, value in pairs}


def _signed_in(client) -> bool:
    return client.get("/account").status_code == 200


def _page_without(response, name: str) -> str:
    # The CSRF token, the CSP nonce and the typed username are the only parts
    # allowed to differ.
    page = _CSRF_VALUE.sub(r"\1TOKEN", response.get_data(as_text=True))
    page = _NONCE.sub('nonce="NONCE"', page)
    return page.replace(f'value="{name}"', 'value="NAME"')


def test_register_sign_in_and_sign_out(client):
    """A new account signs in, sees its username on /account, and signs out."""
    response = register(client, "alice")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"

    assert login(client, "alice").status_code == 302
    page = client.get("/account")
    assert page.status_code == 200
    assert "<dd>alice</dd>" in page.get_data(as_text=True)

    assert logout(client).status_code == 302
    response = client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=%2Faccount"


def test_registration_confirms_and_asks_to_sign_in(client):
    """After registering, the sign-in page says the account was created."""
    register(client, "alice")

    page = client.get("/login").get_data(as_text=True)
    assert "Your account was created. Sign in to continue." in page
    assert not _signed_in(client)


def test_sign_out_says_so_and_forgets_the_user(client):
    """Signing out says so and the home page offers sign-in again."""
    register(client, "alice")
    login(client, "alice")

    response = logout(client)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You have signed out." in page
    assert "You are not signed in." in page


def test_sign_in_ignores_letter_case_of_username(client):
    """The username signs in in any letter case and shows as registered."""
    register(client, "Alice")

    assert login(client, "ALICE").status_code == 302
    assert "<dd>Alice</dd>" in client.get("/account").get_data(as_text=True)


def test_username_in_another_letter_case_is_taken(app, client):
    """Registering "ALICE" after "alice" is refused and adds no second row."""
    assert register(client, "alice").status_code == 302

    response = register(client, "ALICE")
    assert response.status_code == 200
    assert USERNAME_TAKEN in response.get_data(as_text=True)
    assert _user_count(app) == 1


@pytest.mark.parametrize(
    ("username", "message"),
    [
        ("", "Choose a username."),
        ("ab", USERNAME_LENGTH),
        ("a" * 33, USERNAME_LENGTH),
        ("bad name", USERNAME_CHARACTERS),
        ("bad/name", USERNAME_CHARACTERS),
        ("évé", USERNAME_CHARACTERS),
        ("a\nb", USERNAME_CHARACTERS),
        ("ali<ce>", USERNAME_CHARACTERS),
        ("4111111111111111", "Use at least one letter."),
        ("123-456.7", "Use at least one letter."),
    ],
)
def test_bad_username_is_refused(app, client, username, message):
    """A username outside 3..32 letters, digits, . _ - is refused with a reason."""
    response = register(client, username)

    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _user_count(app) == 0


@pytest.mark.parametrize("username", ["abc", "a" * 32, "A.b_c-9", "  padded  "])
def test_good_username_is_accepted(app, client, username):
    """Usernames of 3..32 allowed characters register; outer spaces are dropped."""
    assert register(client, username).status_code == 302

    assert login(client, username.strip()).status_code == 302
    assert _user_count(app) == 1


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [
        ("", None, PASSWORD_TOO_SHORT),
        ("a" * 11, None, PASSWORD_TOO_SHORT),
        ("a" * 129, None, PASSWORD_TOO_LONG),
        ("tab\tin a long password", None, PASSWORD_UNPRINTABLE),
        ("line\nbreak in a password", None, PASSWORD_UNPRINTABLE),
        ("carriage\rreturn password", None, PASSWORD_UNPRINTABLE),
        (PASSWORD, PASSWORD + "!", PASSWORDS_DIFFER),
    ],
    ids=["empty", "11", "129", "tab", "newline", "cr", "mismatch"],
)
def test_bad_password_is_refused(app, client, password, confirm, message):
    """A password that breaks a rule is refused with the rule, and no account."""
    response = register(client, "alice", password, confirm=confirm)

    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _user_count(app) == 0


@pytest.mark.parametrize(
    "password",
    [
        "x9!kQ2#vLm8p",
        ("quiet harbor lantern violet 42 " * 5)[:128],
        "pässwörd 密码 long enough",
        "   spaces around it   ",
        "emoji 🔒 and symbols ~!@#$%^&*()",
    ],
    ids=["12", "128", "unicode", "spaces", "emoji"],
)
def test_good_password_registers_and_signs_in(client, password):
    """Passwords of 12..128 printable characters, spaces included, work."""
    assert register(client, "alice", password).status_code == 302

    assert login(client, "alice", password).status_code == 302
    assert _signed_in(client)


def test_password_spaces_are_kept(client):
    """Spaces around a password are part of it; sign-in without them fails."""
    register(client, "alice", "  spaced password  ")

    response = login(client, "alice", "spaced password")
    assert SIGN_IN_FAILED in response.get_data(as_text=True)
    assert not _signed_in(client)


def test_password_in_another_unicode_form_signs_in(client):
    """A password typed decomposed (NFD) matches the one registered composed."""
    password = unicodedata.normalize("NFC", "café crème brûlée")
    register(client, "alice", password)

    decomposed = unicodedata.normalize("NFD", password)
    assert decomposed != password
    assert login(client, "alice", decomposed).status_code == 302
    assert _signed_in(client)


def test_password_of_spaces_is_refused_with_a_reason(client):
    """Twelve spaces are too easy to guess; the form says so."""
    response = register(client, "alice", " " * 12)

    assert response.status_code == 200
    assert "This password is too easy to guess." in response.text


def test_password_with_spaces_signs_in_as_typed(client):
    """Leading and inner spaces are part of the password at sign-in, too."""
    password = "   spaces around it   "
    assert register(client, "alice", password).status_code == 302

    assert login(client, "alice", password).status_code == 302
    other_device = client.application.test_client()
    assert SIGN_IN_FAILED in login(other_device, "alice", password.strip()).text


@pytest.mark.parametrize(
    "password",
    ["می\u200cخواهم رمز عبور", "family 👨\u200d👩\u200d👧 passphrase"],
    ids=["persian-zwnj", "emoji-zwj"],
)
def test_password_with_joiner_characters_is_accepted(client, password):
    """Passwords in scripts and emoji that need zero-width joiners register."""
    assert register(client, "alice", password).status_code == 302


def test_stored_hash_is_argon2id_with_safe_parameters(app, client):
    """The password is stored as an argon2id hash at OWASP's minimum cost or more."""
    register(client, "alice")

    stored = _stored_hash(app, "alice")
    variant, parameters = _argon2_parameters(stored)
    assert variant == "argon2id"
    assert parameters["m"] >= 19456
    assert parameters["t"] >= 2
    assert parameters["p"] >= 1
    assert stored != PASSWORD
    assert PASSWORD not in stored


def test_same_password_gets_different_hashes(app, client):
    """Two accounts with one password store different, salted hashes."""
    register(client, "alice")
    register(client, "bob")

    assert _stored_hash(app, "alice") != _stored_hash(app, "bob")


def test_pages_never_echo_the_password(client):
    """Neither a refused registration nor a failed sign-in shows the password."""
    canary = "canary-password-4f1c9e"
    refused = register(client, "alice", canary, confirm=canary + "x")
    failed = login(client, "nobody", canary)

    assert canary not in refused.get_data(as_text=True)
    assert canary not in failed.get_data(as_text=True)


def test_wrong_password_and_unknown_user_look_the_same(client):
    """A wrong password and an unknown username give the same status and page."""
    register(client, "alice")

    wrong_password = login(client, "alice", "not the right password")
    unknown_user = login(client, "nobody", "not the right password")

    assert wrong_password.status_code == unknown_user.status_code == 200
    assert SIGN_IN_FAILED in wrong_password.get_data(as_text=True)
    assert _page_without(wrong_password, "alice") == _page_without(
        unknown_user, "nobody"
    )


def _median_sign_in_seconds(client, username: str, rounds: int = 5) -> float:
    token = csrf_token(client, "/login")
    data = {"csrf_token": token, "username": username, "password": "wrong password"}
    durations = []
    for _ in range(rounds):
        start = time.perf_counter()
        response = client.post("/login", data=data)
        durations.append(time.perf_counter() - start)
        assert SIGN_IN_FAILED in response.get_data(as_text=True)
    return statistics.median(durations)


@pytest.mark.parametrize("unknown", ["nobody", "x" * 40], ids=["short", "too-long"])
def test_unknown_user_sign_in_still_spends_a_hash(client, unknown):
    """Sign-in for an unknown username takes about as long as a wrong password."""
    register(client, "alice")

    wrong_password = _median_sign_in_seconds(client, "alice")
    unknown_user = _median_sign_in_seconds(client, unknown)

    assert unknown_user >= 0.5 * wrong_password


def test_long_password_is_not_truncated(client):
    """A 100-character password does not match its first 72 characters."""
    password = ("violet harbor lantern " * 5)[:100]
    register(client, "alice", password)

    response = login(client, "alice", password[:72])
    assert SIGN_IN_FAILED in response.get_data(as_text=True)
    assert not _signed_in(client)

    assert login(client, "alice", password).status_code == 302


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("", PASSWORD, "Enter your username."),
        ("alice", "", "Enter your password."),
    ],
)
def test_sign_in_needs_both_fields(client, username, password, message):
    """The sign-in form asks for a missing username or password."""
    register(client, "alice")

    response = login(client, username, password)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert not _signed_in(client)


def test_signed_in_user_opening_login_goes_home(client):
    """Opening /login while signed in redirects instead of showing the form."""
    register(client, "alice")
    login(client, "alice")

    response = client.get("/login")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
