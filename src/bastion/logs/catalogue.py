"""The catalogue of security events: each declared once, with a stable name and fields.

Log searches, alerts and the audit trail match on these names, so a name never
changes once released; a new meaning gets a new name. ``docs/events.md`` is
generated from this list (``make docs``) and a test fails when it is stale.
"""

import logging
from dataclasses import dataclass

SUCCESS = "success"
FAILURE = "failure"
DENIED = "denied"
INFO = "info"

# Recorded with every event, filled in from the request when there is one.
COMMON_FIELDS = {
    "event": "The event's name, from this catalogue.",
    "outcome": "success, failure, denied or info.",
    "user_id": "Id of the user acting or concerned, when known.",
    "username": (
        "The username as typed or stored, when the event concerns one; the signed-in "
        "user's by default. A name that matches no account is written as a keyed "
        "hash, anon:<16 hex digits>, since it may be a password typed in the wrong "
        "field; with LOG_PSEUDONYMIZE every name is."
    ),
    "ip": "Client address, as the trusted proxy settings resolve it.",
    "user_agent": "The User-Agent header, escaped and cut to 200 characters.",
    "request_id": "The request's id, also sent in the X-Request-ID response header.",
}


@dataclass(frozen=True)
class Event:
    """The declaration of one security event."""

    name: str
    outcome: str
    description: str
    # Fields this event adds to the common ones, with what each holds.
    fields: tuple[tuple[str, str], ...] = ()
    # Refusals too: a refused request is the client's doing, not a fault of the
    # server. WARNING is kept for what an operator should act on.
    level: int = logging.INFO
    # Stored in the audit_events table as well as logged. Start-up events are only
    # logged: they happen in every process, before the database may exist.
    audited: bool = True


EVENTS: tuple[Event, ...] = (
    Event(
        "auth.login.succeeded",
        SUCCESS,
        "A user signed in.",
        (("method", "password, or remember_me for a remember-me cookie."),),
    ),
    Event(
        "auth.login.failed",
        FAILURE,
        "A sign-in was refused.",
        (
            (
                "reason",
                "unknown_user, wrong_password, locked (the account's attempt limit "
                "is reached) or password_changed (it changed during the sign-in).",
            ),
        ),
    ),
    Event("auth.logout", SUCCESS, "A user signed out."),
    Event(
        "auth.reauth.succeeded", SUCCESS, "A signed-in user re-entered their password."
    ),
    Event(
        "auth.reauth.failed",
        FAILURE,
        "A signed-in user entered a wrong password when asked to re-enter it.",
    ),
    Event(
        "session.expired",
        INFO,
        "A session passed its idle or absolute limit and was ended.",
        (("session_id", "Id of the ended session."),),
    ),
    Event(
        "session.revoked",
        SUCCESS,
        "Sessions were ended before their time.",
        (
            ("count", "How many sessions were ended."),
            ("by", "user (from the sessions page), admin, or password_change."),
            ("target_user_id", "Id of the user whose sessions were ended."),
        ),
    ),
    Event("account.registered", SUCCESS, "An account was created."),
    Event(
        "account.password_changed",
        SUCCESS,
        "A user changed their password; their other sessions were ended.",
    ),
    Event(
        "account.password_change_failed",
        FAILURE,
        "A password change was refused: the current password was wrong.",
    ),
    Event(
        "csrf.failed",
        DENIED,
        "A form was posted without a valid CSRF token.",
        (("reason", "Flask-WTF's description of what was wrong with the token."),),
    ),
    Event(
        "ratelimit.exceeded",
        DENIED,
        "A rate limit refused a request with 429.",
        (
            ("scope", "sign-in-ip, sign-in-account, register-ip or password-check."),
            ("limit", "The limit that was reached, e.g. '5 per 1 minute'."),
            ("path", "The path requested."),
        ),
    ),
    Event(
        "access.denied",
        DENIED,
        "A signed-in user opened a page their role does not allow.",
        (("path", "The path requested."),),
    ),
    Event(
        "host.rejected",
        DENIED,
        "A request named a Host outside TRUSTED_HOSTS and got 400.",
        (("host", "The Host header as sent, escaped."),),
    ),
    Event(
        "admin.user_created",
        SUCCESS,
        "An admin account was created from the command line.",
        (("target_user_id", "Id of the new admin."),),
    ),
    Event(
        "admin.role_granted",
        SUCCESS,
        "An existing user was made an admin from the command line.",
        (("target_user_id", "Id of the promoted user."),),
    ),
    Event(
        "admin.audit_pruned",
        SUCCESS,
        "Audit events older than the retention period were deleted.",
        (
            ("count", "How many audit events were deleted."),
            ("retention_days", "The retention period applied, in days."),
        ),
    ),
    Event(
        "config.loaded",
        INFO,
        "Settings were loaded and validated at start-up. Never holds a value.",
        (
            ("profile", "development, production or testing."),
            (
                "sources",
                "For each source (a .env file, the environment, a secret file, a "
                "profile's defaults, a generated key), the names of the settings it "
                "supplied. Settings at their plain default are not listed.",
            ),
        ),
        audited=False,
    ),
    Event(
        "config.key_rotation",
        INFO,
        "Start-up found SECRET_KEY_FALLBACKS: a key rotation is in progress.",
        (("fallback_count", "How many earlier keys are still accepted."),),
        level=logging.WARNING,
        audited=False,
    ),
)

BY_NAME: dict[str, Event] = {event.name: event for event in EVENTS}


def render_markdown() -> str:
    """The text of ``docs/events.md``."""
    lines = [
        "# Security events",
        "",
        "<!-- Generated from src/bastion/logs/catalogue.py by `make docs`; "
        "do not edit. -->",
        "",
        "Bastion logs each event below to the `bastion.security` logger, one record",
        "per event, and stores the audited ones in the `audit_events` table, shown",
        "at `/admin/audit` and pruned by `bastion audit prune`. In JSON logs every",
        "field is a key of the record; in text logs the fields that are set follow",
        "the event name as `key=value`.",
        "",
        "## Fields of every event",
        "",
        "| Field | Meaning |",
        "|---|---|",
        *(f"| `{name}` | {meaning} |" for name, meaning in COMMON_FIELDS.items()),
        "",
        "## Events",
        "",
        "| Event | Outcome | Level | Audited | Meaning | Its own fields |",
        "|---|---|---|---|---|---|",
    ]
    for event in EVENTS:
        own = "<br>".join(f"`{name}`: {meaning}" for name, meaning in event.fields)
        lines.append(
            f"| `{event.name}` | {event.outcome} | {logging.getLevelName(event.level)} "
            f"| {'yes' if event.audited else 'no, logged only'} | {event.description} "
            f"| {own or '-'} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    # `python -m bastion.logs.catalogue docs/events.md`, run by `make docs`.
    import sys
    from pathlib import Path

    Path(sys.argv[1]).write_text(render_markdown(), encoding="utf-8")
