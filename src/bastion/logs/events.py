"""Record security events: one log record each, then every sink (the audit table).

``record_event("auth.login.failed", username=typed, reason="wrong_password")`` fills in
who, when and where from the request, logs the event on ``bastion.security`` and hands
it to each sink added with ``add_event_sink``. A sink that fails is logged and skipped:
recording an event never breaks the request that caused it.
"""

import hashlib
import hmac
import ipaddress
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from flask import Flask, current_app, g, has_app_context, has_request_context, request
from limits import parse
from limits.strategies import RateLimiter

from bastion.logs.catalogue import BY_NAME, DENIED, FAILURE
from bastion.logs.redaction import ALREADY_MASKED, masked_for_log, quoted
from bastion.logs.requests import current_request_id, signed_in_user_id

security_logger = logging.getLogger("bastion.security")

EventSink = Callable[[dict[str, object]], None]
_EXTENSION = "bastion.events"
_PSEUDONYM_LABEL = b"bastion.log-pseudonym"
# The message leads with what no client controls, so text a client typed (which the
# redactor may mask to the end of the line) can never hide who, where or the outcome.
_MESSAGE_FIRST = ("outcome", "user_id", "ip")
_MESSAGE_LAST = ("username", "user_agent")
# Keys the message leaves out: the record has its own time, and text logs show the
# request id in front of every line.
_NOT_IN_MESSAGE = frozenset({"event", "time", "request_id"})
# Anyone can cause denied and failed events as fast as they can send requests. Past
# this many a minute from one address, each such event is still logged but no longer
# stored, so a flood cannot bury the audit trail or fill the disk. Events whose
# action the caller rate-limits itself (already_limited) are always stored: capping
# them too would let someone spend the cap on junk and keep real guesses unstored.
STORED_PER_ADDRESS = parse("30 per minute")
# Integers from here up have 13 digits, the fewest a card number has.
_SHORTEST_CARD = 10**12


class _EventSettings:
    def __init__(
        self, pseudonym_key: bytes, pseudonymize: bool, limiter: RateLimiter | None
    ) -> None:
        self.pseudonym_key = pseudonym_key
        self.pseudonymize = pseudonymize
        self.limiter = limiter
        self.sinks: list[EventSink] = []


def init_events(
    app: Flask,
    secret_key: str,
    pseudonymize: bool,
    limiter: RateLimiter | None = None,
) -> None:
    """Prepare ``app`` to record events; with ``pseudonymize``, hash usernames.

    The pseudonym key is derived from ``secret_key``, so pseudonyms are stable
    while the key is, and change when it is rotated. Names that match no account are
    hashed with it whatever ``pseudonymize`` says. With a ``limiter``, refusals are
    stored at most STORED_PER_ADDRESS per client address; without one, all are.
    """
    key = hmac.new(secret_key.encode(), _PSEUDONYM_LABEL, hashlib.sha256).digest()
    app.extensions[_EXTENSION] = _EventSettings(key, pseudonymize, limiter)


def add_event_sink(app: Flask, sink: EventSink) -> None:
    """Call ``sink(entry)`` for every audited event ``app`` records."""
    app.extensions[_EXTENSION].sinks.append(sink)


def pseudonym(username: str, key: bytes) -> str:
    """A stable keyed hash of ``username``, the same whatever its letter case."""
    digest = hmac.new(key, username.casefold().encode(), hashlib.sha256).hexdigest()
    return f"anon:{digest[:16]}"


def record_event(
    name: str,
    *,
    user_id: int | None = None,
    username: str | None = None,
    unknown_username: str | None = None,
    already_limited: bool = False,
    **fields: object,
) -> dict[str, object]:
    """Log event ``name`` with its fields and pass it to the sinks; return the entry.

    ``user_id`` and ``username`` default to the signed-in user's. ``username`` and
    every string field may be user-supplied: they are escaped and cut before they
    reach a log. Pass a typed name that matches no account as ``unknown_username``
    instead: people type passwords into the username field, so it is written only as
    a keyed hash. ``already_limited`` says the caller rate-limits the action itself,
    so the event is stored every time rather than capped per client address.
    """
    event = BY_NAME.get(name)
    if event is None:
        raise ValueError(
            f"{name!r} is not in the event catalogue; see bastion/logs/catalogue.py."
        )
    unknown = set(fields) - {field for field, _ in event.fields}
    if unknown:
        raise ValueError(f"{name} has no field(s) {sorted(unknown)}; see catalogue.py.")

    if unknown_username is not None:
        username = None
    entry = _describe(name, event.outcome, user_id, username, fields)
    if unknown_username is not None:
        entry["username"] = unknown_name_pseudonym(unknown_username)
    extra = {key: value for key, value in entry.items() if key != "time"}
    # Every value was masked as it went in; masking the built line again could cut
    # into a quoted value and let typed text pass for a field of its own.
    extra[ALREADY_MASKED] = True
    security_logger.log(event.level, _message(entry), extra=extra)
    if (
        event.audited
        and has_app_context()
        and (already_limited or _may_store(event.outcome, entry))
    ):
        _send_to_sinks(entry)
    return entry


def _may_store(outcome: str, entry: dict[str, object]) -> bool:
    if outcome not in (DENIED, FAILURE) or entry["ip"] is None:
        return True

    settings = current_app.extensions.get(_EXTENSION)
    limiter = settings.limiter if settings is not None else None
    if limiter is None:
        return True
    try:
        return limiter.hit(
            STORED_PER_ADDRESS, "bastion-audit", entry["event"], _sender(entry["ip"])
        )
    except Exception as error:  # noqa: BLE001 (the counter store, e.g. Redis, is down)
        # Better a flood stored than an event lost, and never a failed request.
        security_logger.warning(
            "Could not count stored events (%s); storing this one.",
            type(error).__name__,
        )
        return True


def _sender(address: str) -> str:
    """Who the cap counts: an IPv4 address, or the /64 network of an IPv6 one.

    One IPv6 client is routinely given a whole /64, and could send each request from
    a new address of it.
    """
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 4:
        return address
    return str(ipaddress.ip_network(f"{parsed}/64", strict=False))


def _describe(
    name: str,
    outcome: str,
    user_id: int | None,
    username: str | None,
    fields: dict[str, object],
) -> dict[str, object]:
    entry: dict[str, object] = {
        "event": name,
        "outcome": outcome,
        "time": datetime.now(UTC),
        "user_id": _masked(user_id),
        "username": None if username is None else logged_username(username),
        "ip": None,
        "user_agent": None,
        "request_id": None,
    }
    if has_request_context():
        if user_id is None:
            entry["user_id"] = signed_in_user_id()
            if username is None and entry["user_id"] is not None:
                entry["username"] = _signed_in_username()
        # Through a trusted proxy the address is whatever its X-Forwarded-For said.
        address = request.remote_addr
        entry["ip"] = None if address is None else canonical_address(address)
        entry["user_agent"] = masked_for_log(request.user_agent.string)
        entry["request_id"] = current_request_id()
    for key, value in fields.items():
        entry[key] = _masked(value)
    return entry


def _masked(value: object) -> object:
    """``value`` with every string in it masked, escaped and cut.

    Numbers, booleans and None stay as they are, so JSON keeps their type, except an
    integer long enough to be a card number. Anything else is logged as its masked
    text: an object's str() can hold anything.
    """
    if isinstance(value, dict):
        return {masked_for_log(key): _masked(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(item) for item in value]
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, int) and abs(value) < _SHORTEST_CARD:
        return value
    return masked_for_log(value)


def _signed_in_username() -> str | None:
    # Flask-Login knows users by id only; most user models call the name "username".
    name = getattr(g.get("_login_user"), "username", None)
    return logged_username(name) if isinstance(name, str) else None


def canonical_address(address: str) -> str:
    """``address`` in one spelling (2001:db8::1, never 2001:DB8:0::1), or cleaned text
    when it is not an IP address, so filters match what was stored."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return masked_for_log(address)
    # A dual-stack server sees IPv4 clients as ::ffff:a.b.c.d; they are one client.
    if parsed.version == 6 and parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    zone = getattr(parsed, "scope_id", None)
    if zone is not None:
        # The zone after "%" may be any text at all, a NUL included, which
        # PostgreSQL refuses to store or compare: escaped like anything typed.
        unzoned = ipaddress.ip_address(address.partition("%")[0])
        return f"{unzoned.compressed}%{masked_for_log(zone)}"
    return parsed.compressed


def logged_username(username: str) -> str:
    """``username`` as the logs and audit trail write it: escaped, or pseudonymized."""
    settings = current_app.extensions.get(_EXTENSION) if has_app_context() else None
    if settings is not None and settings.pseudonymize:
        return pseudonym(username, settings.pseudonym_key)
    return masked_for_log(username)


def unknown_name_pseudonym(typed: str) -> str | None:
    """How a typed name that matches no account is written: always as a keyed hash.

    Outside an app there is no key to hash with, and the name is left out.
    """
    settings = current_app.extensions.get(_EXTENSION) if has_app_context() else None
    if settings is None:
        return None
    return pseudonym(typed, settings.pseudonym_key)


def _message(entry: dict[str, object]) -> str:
    middle = [
        key
        for key in entry
        if key not in _MESSAGE_FIRST
        and key not in _MESSAGE_LAST
        and key not in _NOT_IN_MESSAGE
    ]
    parts = [str(entry["event"])]
    for key in (*_MESSAGE_FIRST, *middle, *_MESSAGE_LAST):
        if entry[key] is not None:
            parts.append(f"{key}={quoted(entry[key])}")
    return " ".join(parts)


def _send_to_sinks(entry: dict[str, object]) -> None:
    settings = current_app.extensions.get(_EXTENSION)
    for sink in settings.sinks if settings is not None else ():
        try:
            sink(entry)
        except Exception as error:  # noqa: BLE001 (any failure: log it, carry on)
            # The class name only: a driver's message can name hosts and users.
            security_logger.error(
                "Could not store event %s in the audit trail (%s); it is in this log.",
                entry["event"],
                type(error).__name__,
            )
