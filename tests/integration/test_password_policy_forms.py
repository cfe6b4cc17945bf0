"""The password policy as the forms apply it: registration and the shared validator."""

import pytest
from flask_login import login_user
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict
from wtforms import PasswordField

from bastion.app.auth.forms import new_password_validator
from bastion.app.extensions import db
from bastion.app.forms import TextForm
from bastion.app.models import User
from bastion.app.password_policy import COMMON_VARIANT, CONTAINS_USERNAME, TOO_COMMON
from tests.helpers import login, register

STRONG_PASSPHRASE = "the quiet lighthouse keeper counts seventeen gulls"


class ChangePasswordForm(TextForm):
    """A form like a later password change: no username field of its own."""

    password = PasswordField(validators=[new_password_validator()])


def _shown(message: str) -> str:
    # Templates escape the apostrophe in "Don't", as markupsafe writes it.
    return message.replace("'", "&#39;")


def _user_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("password1234", TOO_COMMON),
        ("Password!!!!!", COMMON_VARIANT),
        ("qwertyqwerty", COMMON_VARIANT),
        ("Alice in Wonderland", CONTAINS_USERNAME),
    ],
    ids=["common", "common-with-symbols", "common-repeated", "username"],
)
def test_registration_refuses_weak_password_with_reason(app, client, password, message):
    """A common password, or one holding the username, is refused and says why."""
    response = register(client, "alice", password)

    assert response.status_code == 200
    assert _shown(message) in response.get_data(as_text=True)
    assert _user_count(app) == 0


def test_registration_accepts_strong_passphrase(client):
    """A long passphrase of ordinary words registers and signs in."""
    assert register(client, "alice", STRONG_PASSPHRASE).status_code == 302

    assert login(client, "alice", STRONG_PASSPHRASE).status_code == 302


def test_registration_reads_minimum_length_from_settings(make_app):
    """PASSWORD_MIN_LENGTH sets the shortest password registration accepts."""
    app = make_app(PASSWORD_MIN_LENGTH="20")
    client = app.test_client()

    refused = register(client, "alice", "nineteen characters")
    page = refused.get_data(as_text=True)
    assert "Use at least 20 characters; a few words work well." in page
    assert _user_count(app) == 0

    assert register(client, "alice", "twenty characters ok").status_code == 302


def _validated_change_form(password: str) -> ChangePasswordForm:
    form = ChangePasswordForm(
        formdata=MultiDict({"password": password}), meta={"csrf": False}
    )
    form.validate()
    return form


def test_validator_without_field_uses_signed_in_username(app, client):
    """With no username field, the validator refuses the signed-in user's name."""
    register(client, "alice")

    with app.test_request_context(method="POST"):
        login_user(db.session.scalar(select(User)))
        form = _validated_change_form("alice's new password")

    assert form.password.errors == [CONTAINS_USERNAME]


def test_validator_without_field_or_user_checks_the_rest(app):
    """Signed out and without a username field, only the other rules apply."""
    with app.test_request_context(method="POST"):
        accepted = _validated_change_form("alice's new password")
        refused = _validated_change_form("password1234")

    assert accepted.password.errors == []
    assert refused.password.errors == [TOO_COMMON]
