"""Forms of the account pages."""

from wtforms import PasswordField, SubmitField
from wtforms.validators import EqualTo, InputRequired

from bastion.app.auth.forms import new_password_validator
from bastion.app.forms import TextForm


class ConfirmForm(TextForm):
    """A button that posts nothing but its CSRF token."""

    submit = SubmitField("Confirm")


class ReauthForm(TextForm):
    """Enter the password again before a sensitive action."""

    password = PasswordField(
        "Password", validators=[InputRequired("Enter your password.")]
    )
    submit = SubmitField("Continue")


class ChangePasswordForm(TextForm):
    """Change the password: the current one, then the new one twice."""

    current_password = PasswordField(
        "Current password", validators=[InputRequired("Enter your current password.")]
    )
    new_password = PasswordField(
        "New password",
        validators=[InputRequired("Choose a new password."), new_password_validator()],
    )
    confirm = PasswordField(
        "Repeat new password",
        validators=[EqualTo("new_password", "The two passwords do not match.")],
    )
    submit = SubmitField("Change password")
