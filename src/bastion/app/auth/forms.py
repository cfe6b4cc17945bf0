"""Forms for registration and sign-in."""

from collections.abc import Callable

from flask_login import current_user
from wtforms import BooleanField, Field, PasswordField, StringField, SubmitField
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    Regexp,
    ValidationError,
)

from bastion.app.forms import TextForm
from bastion.app.models import (
    USERNAME_HAS_LETTER,
    USERNAME_MAX_LENGTH,
    USERNAME_MIN_LENGTH,
    USERNAME_PATTERN,
)
from bastion.app.password_policy import PASSWORD_MAX_LENGTH, password_problem
from bastion.context import current_settings

# PASSWORD_MAX_LENGTH is listed because the sign-in view reads it from here.
__all__ = [
    "PASSWORD_MAX_LENGTH",
    "NEEDS_A_LETTER",
    "LoginForm",
    "RegisterForm",
    "new_password_validator",
]

NEEDS_A_LETTER = "Use at least one letter."

Validator = Callable[[TextForm, Field], None]


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def new_password_validator(username_field: str | None = None) -> Validator:
    """Return a validator that refuses a weak new password and says why.

    The username it must not contain is read from the field ``username_field``, as
    on registration; without one it is the signed-in user's, as on a password
    change. The shortest length allowed is the PASSWORD_MIN_LENGTH setting.
    """

    def validate(form: TextForm, field: Field) -> None:
        username = _username(form, username_field)
        minimum = current_settings().password_min_length
        problem = password_problem(field.data or "", username, minimum)
        if problem is not None:
            raise ValidationError(problem)

    return validate


def _username(form: TextForm, username_field: str | None) -> str | None:
    if username_field is not None:
        value = form[username_field].data
        return value if isinstance(value, str) else None

    if current_user.is_authenticated:
        return current_user.username

    return None


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
            Regexp(USERNAME_HAS_LETTER, message=NEEDS_A_LETTER),
        ],
    )
    password = PasswordField(
        "Password", validators=[new_password_validator("username")]
    )
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
