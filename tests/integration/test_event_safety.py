"""Events are safe to keep: masked in the table too, unforgeable, and flood-proof."""

import re
import secrets
import shlex

import pytest
from sqlalchemy import func, select

from bastion.app.extensions import db
from bastion.app.models import AuditEvent
from bastion.logs.events import STORED_PER_ADDRESS, record_event
from tests.helpers import csrf_token, events, login, register

_OTHER_KEY = secrets.token_hex(32)


def _stored(app, name: str) -> list[AuditEvent]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.event == name))
        return list(rows)


@pytest.mark.parametrize(
    ("typed", "hidden"),
    [
        ("4111111111111111", "4111111111111111"),
        ("4111 1111 1111 1111 9", "4111 1111 1111 1111"),
        (_OTHER_KEY, _OTHER_KEY),
    ],
    ids=["card", "card-with-digit-added", "secret-key"],
)
def test_secrets_typed_as_a_username_are_masked_in_the_table(
    make_app, logged, typed, hidden
):
    """The audit row is masked like the log: a card or the key typed is not kept."""
    # Not the canary key: a test with the canary key in a row would trip the ledger.
    app = make_app(SECRET_KEY=_OTHER_KEY)
    _record_typed_name(app, typed)

    [row] = _stored(app, "auth.login.failed")
    assert hidden not in (row.username or "")
    assert "[REDACTED]" in row.username
    assert hidden not in logged.text


def test_typed_text_cannot_hide_who_where_or_the_outcome(app, logged):
    """A typed 'cookie=' masks only what follows it, after the fixed fields."""
    _record_typed_name(app, "cookie=x")

    [failed] = events(logged, "auth.login.failed")
    message = failed.getMessage()
    assert message.startswith(
        "auth.login.failed outcome=failure ip=127.0.0.1 reason=wrong_password "
        'username="cookie=[REDACTED]'
    )


def test_typed_quotes_and_backslashes_cannot_forge_fields(app, logged):
    """A username built to close its quotes adds no key=value pair of its own."""
    _record_typed_name(app, 'x\\" outcome=success user_id=1 ip=10.9.9.9 z=\\')

    [failed] = events(logged, "auth.login.failed")
    message = failed.getMessage()
    assert message.count("outcome=") == 2
    assert message.startswith("auth.login.failed outcome=failure ip=127.0.0.1 ")
    # The typed quote stays escaped inside the quoted value: x\\\" ...
    assert 'username="x\\\\\\" outcome=success' in message


def _record_typed_name(app, typed: str) -> None:
    """Record a refused sign-in naming ``typed``, as an app using the toolkit would
    for a name it found (Bastion's app writes names it did not find as hashes)."""
    client_address = {"REMOTE_ADDR": "127.0.0.1"}
    with app.test_request_context("/login", method="POST", environ_base=client_address):
        record_event("auth.login.failed", username=typed, reason="wrong_password")


def test_a_name_matching_no_account_is_kept_only_as_its_hash(app, client, logged):
    """A password typed into the username field reaches no log line and no row."""
    typed = "Pass-in-the-wrong-field-7731"
    login(client, typed, "not the password")

    [row] = _stored(app, "auth.login.failed")
    assert re.fullmatch(r"anon:[0-9a-f]{16}", row.username)
    assert typed.lower() not in repr(vars(row)).lower()
    assert typed.lower() not in logged.text.lower()
    assert all(typed.lower() not in repr(vars(r)).lower() for r in logged.records)


def test_every_guess_is_stored_whatever_junk_came_first(make_app, logged):
    """Junk names cannot use up the stored-event cap and hide the guesses after them:
    sign-in failures are bounded by the sign-in limits, so each one is kept."""
    app = make_app(RATELIMIT_SIGN_IN_PER_IP="1000 per minute")
    client = app.test_client()
    register(client, "victim")
    for number in range(STORED_PER_ADDRESS.amount):
        login(client, f"junk{number}", "not the password")

    for _ in range(5):
        login(client, "victim", "not the password")

    with app.app_context():
        query = select(AuditEvent).where(AuditEvent.user_id.is_not(None))
        guesses = db.session.scalars(
            query.where(AuditEvent.event == "auth.login.failed")
        )
        assert len(list(guesses)) == 5


def test_a_flood_of_denied_requests_is_logged_but_stored_only_up_to_a_cap(
    app, client, logged
):
    """Past the per-address cap, CSRF failures are still logged but not stored."""
    cap = STORED_PER_ADDRESS.amount

    for _ in range(cap + 5):
        assert client.post("/login").status_code == 400

    assert len(events(logged, "csrf.failed")) == cap + 5
    with app.app_context():
        count = select(func.count()).where(AuditEvent.event == "csrf.failed")
        assert db.session.scalar(count) == cap


def test_the_cap_is_per_address(app, logged):
    """One address reaching the cap does not stop another's events being stored."""
    flooder = app.test_client()
    for _ in range(STORED_PER_ADDRESS.amount + 1):
        flooder.post("/login")

    app.test_client().post("/login", environ_overrides={"REMOTE_ADDR": "198.51.100.7"})

    addresses = {row.ip_address for row in _stored(app, "csrf.failed")}
    assert addresses == {"127.0.0.1", "198.51.100.7"}


def test_ipv6_addresses_of_one_network_share_the_cap(app, logged):
    """Addresses of one /64, which one client can hold, count as one sender."""
    client = app.test_client()
    for host in range(STORED_PER_ADDRESS.amount + 5):
        client.post("/login", environ_overrides={"REMOTE_ADDR": f"2001:db8::{host:x}"})

    app.test_client().post("/login", environ_overrides={"REMOTE_ADDR": "2001:db8:1::1"})

    stored = [row.ip_address for row in _stored(app, "csrf.failed")]
    assert len(stored) == STORED_PER_ADDRESS.amount + 1
    assert stored[-1] == "2001:db8:1::1"
    assert len(events(logged, "csrf.failed")) == STORED_PER_ADDRESS.amount + 6


def test_failed_password_re_entries_are_all_stored(make_app):
    """Wrong passwords at re-entry are bounded by their own limit, so never capped."""
    app = make_app(RATELIMIT_PASSWORD_CHECKS="1000 per minute")
    client = app.test_client()
    register(client, "alice")
    login(client, "alice")
    token = csrf_token(client, "/account/reauth")
    attempts = STORED_PER_ADDRESS.amount + 3

    for _ in range(attempts):
        client.post(
            "/account/reauth", data={"csrf_token": token, "password": "wrong guess"}
        )

    assert len(_stored(app, "auth.reauth.failed")) == attempts


def test_successful_events_are_never_capped(make_app):
    """Only denied and failed events are capped; sign-ins are always stored."""
    app = make_app(
        RATELIMIT_SIGN_IN_PER_IP="1000 per minute",
        RATELIMIT_SIGN_IN_PER_ACCOUNT="1000 per minute",
    )
    client = app.test_client()
    register(client, "alice")
    for _ in range(STORED_PER_ADDRESS.amount + 2):
        login(client, "alice")
        client.post("/logout", data={"csrf_token": csrf_token(client, "/")})

    assert len(_stored(app, "auth.login.succeeded")) == STORED_PER_ADDRESS.amount + 2


def test_a_broken_counter_store_still_stores_the_event(
    app, client, logged, monkeypatch
):
    """If the counters (Redis) fail, the event is stored and the request answers."""

    def broken(*args):
        raise ConnectionError("counter store down")

    monkeypatch.setattr(app.extensions["bastion.ratelimit"], "hit", broken)

    assert client.post("/logout").status_code == 400

    assert len(_stored(app, "csrf.failed")) == 1
    assert "Could not count stored events (ConnectionError)" in logged.text


def test_a_key_typed_after_filler_is_masked_before_the_cut(make_app):
    """A secret near the 200-character cut is masked whole, not cut in half."""
    app = make_app(SECRET_KEY=_OTHER_KEY)

    login(app.test_client(), "A" * 190 + _OTHER_KEY, "not the password")

    [row] = _stored(app, "auth.login.failed")
    assert _OTHER_KEY[:8] not in row.username


def test_a_forwarded_address_cannot_forge_fields(app, logged):
    """An address a proxy passed on unchecked stays one quoted value in the log."""
    forged = '"x\\" user_id=1 outcome=success z=\\"'

    # What REMOTE_ADDR holds when a trusted proxy forwards a client's own header.
    app.test_client().post("/login", environ_overrides={"REMOTE_ADDR": forged})

    [failed] = events(logged, "csrf.failed")
    message = failed.getMessage()
    assert message.count("outcome=") == 2
    assert message.startswith("csrf.failed outcome=denied ip=")
    assert '\\\\\\" user_id=1' in message


def test_accounts_per_address_are_limited(make_app, logged):
    """Past RATELIMIT_REGISTER_PER_IP, sign-ups get 429 before any hashing."""
    client = make_app(RATELIMIT_REGISTER_PER_IP="2 per minute").test_client()

    statuses = [register(client, f"user{number}").status_code for number in range(3)]

    assert statuses == [302, 302, 429]
    [exceeded] = events(logged, "ratelimit.exceeded")
    assert exceeded.scope == "register-ip"


def test_a_typed_quote_cannot_close_a_field_early(client, capfd):
    """Masking the written line again let token="" close the quoted Host early and
    add outcome=success as a field; each value is masked once, then quoted."""
    host = 'evil token="" outcome=success user_id=1 x'
    capfd.readouterr()
    client.get("/", headers={"Host": host})

    [line] = [line for line in capfd.readouterr().err.splitlines() if "host." in line]
    fields = shlex.split(line.split(" bastion.security: ", 1)[1])
    assert [field for field in fields if field.startswith("outcome=")] == [
        "outcome=denied"
    ]
    assert f"host={host}" in fields


class _Talkative:
    """An object whose text holds secrets, as a caller might pass by mistake."""

    def __str__(self) -> str:
        return "password=hunter2-obj card 4111111111111111"


@pytest.mark.parametrize(
    "value",
    [_Talkative(), b"password=hunter2-obj", 4111111111111111, {"k": _Talkative()}],
    ids=["object", "bytes", "card-as-int", "nested-object"],
)
def test_fields_of_any_type_are_masked(app, logged, capfd, value):
    """Not only strings: an object, bytes or a card-length integer is masked too."""
    capfd.readouterr()
    with app.test_request_context("/admin", environ_base={"REMOTE_ADDR": "127.0.0.1"}):
        record_event("access.denied", path=value)

    written = capfd.readouterr().err + logged.text
    assert "hunter2-obj" not in written
    assert "4111111111111111" not in written
    [row] = _stored(app, "access.denied")
    assert "hunter2-obj" not in row.details
    assert "4111111111111111" not in row.details
