"""The audit page: security events, newest first, filtered by event, user, IP, time."""

import ipaddress
import re
from datetime import UTC, datetime, timedelta

from flask import render_template, request
from sqlalchemy import Select, func, or_, select
from wtforms import Form, IntegerField, SelectField, StringField
from wtforms.fields import DateTimeLocalField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError

from bastion.app.admin import admin_required, bp
from bastion.app.extensions import db
from bastion.app.models import LARGEST_ROW_ID, AuditEvent
from bastion.app.users import find_user
from bastion.logs.catalogue import BY_NAME, EVENTS
from bastion.logs.events import (
    canonical_address,
    logged_username,
    unknown_name_pseudonym,
)
from bastion.logs.redaction import MASK

PAGE_SIZE = 50
# Offset paging reads every skipped row; past this, narrow the filters instead.
LAST_PAGE = 2000
_USER_ID = re.compile(r"[0-9]{1,18}")
# A pseudonym copied from the page, as bastion.logs.events.pseudonym writes them.
_PSEUDONYM = re.compile(r"anon:[0-9a-f]{16}")
# As the browser's picker sends them, and as typed in an address: a date alone, or
# a date and time with T or a space between.
_TIME_FORMATS = [
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
]


def _stripped(text: str | None) -> str | None:
    return text.strip() if text else text


def _known_event(form: Form, field: SelectField) -> None:
    if field.data not in BY_NAME or not BY_NAME[field.data].audited:
        raise ValidationError("Choose an event from the list.")


def _valid_address(form: Form, field: StringField) -> None:
    if field.data:
        try:
            ipaddress.ip_address(field.data)
        except ValueError:
            raise ValidationError("Enter an IPv4 or IPv6 address.") from None


def _page_in_range(form: Form, field: IntegerField) -> None:
    # Text that is no number already has its own error; this one would only add noise.
    if field.data is not None and not 1 <= field.data <= LAST_PAGE:
        raise ValidationError(f"Pages run from 1 to {LAST_PAGE}.")


def _not_before_since(form: Form, field: DateTimeLocalField) -> None:
    if field.data and form.since.data and field.data < form.since.data:
        raise ValidationError("Choose an end after the start.")


class AuditFilterForm(Form):
    """Filters read from the query string; a GET form changes nothing, so no CSRF."""

    event = SelectField(
        "Event",
        choices=[SelectChoice("", "Any event")]
        + [SelectChoice(e.name) for e in EVENTS if e.audited],
        # An absent filter is no choice at all; _known_event checks a given one.
        validate_choice=False,
        validators=[Optional(), _known_event],
    )
    user = StringField(
        "User id or username",
        validators=[Optional(), Length(max=64)],
        filters=[_stripped],
    )
    ip = StringField(
        "IP address",
        validators=[Optional(), Length(max=45), _valid_address],
        filters=[_stripped],
    )
    since = DateTimeLocalField(
        "From (UTC)", format=_TIME_FORMATS, validators=[Optional()]
    )
    until = DateTimeLocalField(
        "Until (UTC)", format=_TIME_FORMATS, validators=[Optional(), _not_before_since]
    )
    page = IntegerField(
        "Page",
        default=1,
        validators=[Optional(), _page_in_range],
    )


@bp.route("/audit")
@admin_required
def audit():
    """Page through the audit trail, filtered by the query string."""
    form = AuditFilterForm(request.args)
    if not form.validate():
        return render_template("admin/audit.html", form=form, rows=[], pages={}), 400

    page = form.page.data or 1
    rows = db.session.scalars(
        _filtered(form)
        .order_by(AuditEvent.id.desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
    ).all()
    # Only the form's own filters go back into the paging links; the page is new.
    filters = {
        field.name: request.args[field.name]
        for field in form
        if field.name != "page" and request.args.get(field.name)
    }
    pages = {
        "newer": page - 1 if page > 1 else None,
        "older": page + 1 if len(rows) > PAGE_SIZE and page < LAST_PAGE else None,
        "current": page,
        "filters": filters,
    }
    return render_template(
        "admin/audit.html", form=form, rows=rows[:PAGE_SIZE], pages=pages
    )


def _filtered(form: AuditFilterForm) -> Select:
    query = select(AuditEvent)
    if form.event.data:
        query = query.where(AuditEvent.event == form.event.data)
    if form.user.data:
        query = query.where(_user_condition(form.user.data))
    if form.ip.data:
        # Stored in canonical form, so 2001:DB8:0::1 finds 2001:db8::1.
        query = query.where(AuditEvent.ip_address == canonical_address(form.ip.data))
    # The form's times are UTC, as the page says; given a zone, no database reads
    # them in its own.
    if form.since.data:
        query = query.where(
            AuditEvent.created_at >= form.since.data.replace(tzinfo=UTC)
        )
    end = _end_of(form.until) if form.until.data else None
    if end is not None:
        query = query.where(AuditEvent.created_at < end)
    return query


def _end_of(until: DateTimeLocalField) -> datetime | None:
    """The first instant after what ``until`` names, so that all of it is included,
    or None when nothing comes after it (the last minute of the year 9999).

    A time picked to the minute means the whole minute: until 11:41 keeps an event
    at 11:41:30. With seconds, it means that whole second; a date alone, that day.
    """
    colons = until.raw_data[0].strip().count(":")
    step = {0: timedelta(days=1), 1: timedelta(minutes=1)}.get(
        colons, timedelta(seconds=1)
    )
    try:
        return until.data.replace(tzinfo=UTC) + step
    except OverflowError:
        return None


def _user_condition(text: str):
    """Events of the account with this id or name, or naming it as typed."""
    # A name that matched no account is stored as its keyed hash, found by hashing
    # it again.
    conditions = [AuditEvent.username == unknown_name_pseudonym(text)]
    shown = logged_username(text)
    if MASK not in shown:
        # Typed names are stored as typed; pseudonyms ignore case already. A name
        # the redactor masked (one holding a card-like number) reads the same as
        # every other name masked alike, so only its account's id can find it.
        conditions.append(func.lower(AuditEvent.username) == shown.lower())
    if _PSEUDONYM.fullmatch(text):
        # With LOG_PSEUDONYMIZE the page shows only hashes; hashing one again finds
        # nothing, so a hash is also looked for as it is.
        conditions.append(AuditEvent.username == text)
    if _USER_ID.fullmatch(text):
        # Beyond the id column's range no row can match; PostgreSQL would refuse it.
        if int(text) <= LARGEST_ROW_ID:
            conditions += _about_user(int(text))
    else:
        account = find_user(text)
        if account is not None:
            conditions += _about_user(account.id)
    return or_(*conditions)


def _about_user(user_id: int) -> list:
    """Events by the user, and those done to them, such as an admin's revocation."""
    return [AuditEvent.user_id == user_id, AuditEvent.target_user_id == user_id]
