"""Forms for registration and sign-in."""

import unicodedata

from wtforms import BooleanField, PasswordField, StringField, SubmitField
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    Regexp,
    ValidationError,
)

from bastion.app.forms import TextForm
from bastion.app.models import USERNAME_MAX_LENGTH
from bastion.app.passwords import normalise

USERNAME_MIN_LENGTH = 3
PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 128
USERNAME_PATTERN = r"[A-Za-z0-9._-]+"
# Control characters, lone surrogates, and line and paragraph separators. Format
# characters stay allowed: Persian text and emoji sequences need zero-width joiners.
_REFUSED = frozenset({"Cc", "Cs", "Zl", "Zp"})


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def password_policy(form: TextForm, field: PasswordField) -> None:
    """Check length in characters after normalising, and refuse control characters."""
    password = normalise(field.data or "")
    if len(password) < PASSWORD_MIN_LENGTH:
        raise ValidationError(
            f"Use at least {PASSWORD_MIN_LENGTH} characters; a few words work well."
        )

    if len(password) > PASSWORD_MAX_LENGTH:
        raise ValidationError(f"Use at most {PASSWORD_MAX_LENGTH} characters.")

    if any(unicodedata.category(character) in _REFUSED for character in password):
        raise ValidationError("Use printable characters only, no tabs or line breaks.")


class RegisterForm(TextForm):
    """New account: a username and a password typed twice."""

    username = StringField(
        "Username",
        filters=[_strip],
        validators=[
            DataRequired("Choose a username."),
            Length(
                USERNAME_MIN_LENGTH,
                USERNAME_MAX_LENGTH,
                f"Use {USERNAME_MIN_LENGTH} to {USERNAME_MAX_LENGTH} characters.",
            ),
            Regexp(
                rf"^{USERNAME_PATTERN}\Z",
                message="Use only letters, digits, dots, underscores and hyphens.",
            ),
        ],
    )
    password = PasswordField("Password", validators=[password_policy])
    confirm = PasswordField(
        "Repeat password",
        validators=[EqualTo("password", "The two passwords do not match.")],
    )
    submit = SubmitField("Create account")


class LoginForm(TextForm):
    """Sign-in: the form itself checks only that both fields are filled in."""

    username = StringField(
        "Username",
        filters=[_strip],
        validators=[DataRequired("Enter your username.")],
    )
    password = PasswordField(
        # InputRequired, not DataRequired: a password of spaces is still a password.
        "Password",
        validators=[InputRequired("Enter your password.")],
    )
    remember = BooleanField("Remember me on this device")
    submit = SubmitField("Sign in")
