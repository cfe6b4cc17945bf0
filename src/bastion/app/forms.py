"""The base of every form in the app: text fields read from the urlencoded body only."""

from flask import request
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto


class TextForm(FlaskForm):
    """A form whose fields only ever hold text.

    Flask-WTF also fills fields from uploaded files and JSON bodies, so a "username"
    sent as a file reached the validators as a FileStorage and crashed them. None of
    our forms takes files or JSON, so they read ``request.form`` alone.
    """

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form, formdata):
            if formdata is _Auto:
                return request.form if form.is_submitted() else None
            return formdata
