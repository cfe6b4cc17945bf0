"""The audit page for admins: newest first, filters, paging; and pruning old events."""

import html
import json
import logging
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from bastion.app.admin_accounts import create_or_promote_admin
from bastion.app.audit import prune, store
from bastion.app.extensions import db
from bastion.app.models import AuditEvent, User, utc_now
from bastion.logs.catalogue import BY_NAME
from bastion.logs.events import logged_username, record_event
from bastion.logs.requests import REQUEST_ID_HEADER
from tests.helpers import csrf_token, events, login, register, run_bastion

ADMIN_PASSWORD = "granite orchard seventeen kites"
WRONG_PASSWORD = "not the password at all"
# Request ids of the rows the tests store, so the page's own events stay out.
_MARK = re.compile(r"<code>(mark-[^<]*)</code>")
_LINK = re.compile(r'<a href="([^"]*)">(Newer|Older)</a>')


def _store(app, mark: str, name: str = "auth.login.failed", **entry) -> None:
    """Store one event the way the sink does, with request id ``mark``."""
    entry.setdefault("time", utc_now())
    entry.setdefault("ip", "203.0.113.5")
    row = {"event": name, "outcome": BY_NAME[name].outcome, "request_id": mark}
    row.update(dict.fromkeys(("user_id", "username", "user_agent")))
    with app.app_context():
        store({**row, **entry})


def _admin(app):
    """A test client signed in as a fresh admin."""
    with app.app_context():
        create_or_promote_admin("boss", ADMIN_PASSWORD)
    client = app.test_client()
    assert login(client, "boss", ADMIN_PASSWORD).status_code == 302
    return client


def _marks(client, query: str = "") -> list[str]:
    """The marks of the rows the audit page shows for ``query``, top to bottom."""
    response = client.get(f"/admin/audit{query}")
    assert response.status_code == 200, response.text
    return _MARK.findall(response.text)


def _links(page: str) -> dict[str, dict[str, list[str]]]:
    """The query of each paging link on ``page``, by its label."""
    return {
        label: parse_qs(urlsplit(html.unescape(href)).query)
        for href, label in _LINK.findall(page)
    }


def _user_id(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username == username))


def test_anonymous_visitor_is_sent_to_sign_in(client):
    """Without a sign-in, the audit page asks for one."""
    response = client.get("/admin/audit")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_non_admin_is_refused_and_it_is_recorded(app, client, caplog):
    """A signed-in user who is not an admin gets 403, logged and audited."""
    register(client, "nosy")
    login(client, "nosy")
    caplog.set_level(logging.INFO, logger="bastion")
    caplog.clear()

    response = client.get("/admin/audit")

    assert response.status_code == 403
    [denied] = events(caplog, "access.denied")
    assert (denied.user_id, denied.path) == (1, "/admin/audit")
    with app.app_context():
        [row] = db.session.scalars(
            select(AuditEvent).where(AuditEvent.event == "access.denied")
        ).all()
        assert (row.user_id, row.request_id) == (1, response.headers[REQUEST_ID_HEADER])
        assert json.loads(row.details) == {"path": "/admin/audit"}


def test_admin_sees_events_newest_first(app):
    """The latest event is at the top, each with its time, name, user and address."""
    admin = _admin(app)
    for number in range(1, 4):
        _store(app, f"mark-{number}", username=f"user{number}")

    page = admin.get("/admin/audit").text

    assert _MARK.findall(page) == ["mark-3", "mark-2", "mark-1"]
    assert "auth.login.failed" in page
    assert "user3" in page
    assert "203.0.113.5" in page
    # The admin's own sign-in is on the trail too.
    assert "auth.login.succeeded" in page


def test_filter_by_event(app):
    """Choosing an event shows only events of that name."""
    admin = _admin(app)
    _store(app, "mark-csrf", "csrf.failed", reason="The CSRF token is missing.")
    _store(app, "mark-denied", "access.denied", path="/admin/users")

    assert _marks(admin, "?event=csrf.failed") == ["mark-csrf"]
    assert _marks(admin, "?event=access.denied") == ["mark-denied"]


def test_filter_by_user_id_or_name_in_any_case(app):
    """A user id, or the account's name in any letter case, finds its events."""
    admin = _admin(app)
    register(app.test_client(), "Carol")
    carol = _user_id(app, "Carol")
    _store(app, "mark-carol", user_id=carol, username="Carol")
    _store(app, "mark-dave", user_id=carol + 50, username="dave")

    assert _marks(admin, f"?user={carol}") == ["mark-carol"]
    assert _marks(admin, "?user=Carol") == ["mark-carol"]
    assert _marks(admin, "?user=cAROL") == ["mark-carol"]
    assert _marks(admin, "?user=%20carol%20") == ["mark-carol"]


def test_filter_by_account_name_or_id_shows_its_lock_out(make_app):
    """Filtering by an account's name or id shows the sign-ins refused as locked."""
    app = make_app(RATELIMIT_SIGN_IN_PER_ACCOUNT="2 per minute")
    admin = _admin(app)
    guesser = app.test_client()
    register(guesser, "Carol")
    token = csrf_token(guesser, "/login")
    guess = {"csrf_token": token, "username": "Carol", "password": WRONG_PASSWORD}
    statuses = [guesser.post("/login", data=guess).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]

    carol = _user_id(app, "Carol")

    for user in ("Carol", str(carol)):
        page = admin.get(f"/admin/audit?user={user}&event=auth.login.failed").text
        assert page.count("wrong_password") == 2
        assert page.count("locked") == 1


def test_filter_by_user_finds_what_an_admin_did_to_them(app):
    """An admin ending Carol's sessions shows under Carol's name and id too."""
    admin = _admin(app)
    register(app.test_client(), "Carol")
    carol = _user_id(app, "Carol")
    assert login(app.test_client(), "Carol").status_code == 302
    token = csrf_token(admin, "/admin/users")
    admin.post(f"/admin/users/{carol}/end-sessions", data={"csrf_token": token})

    for user in ("Carol", str(carol)):
        page = html.unescape(
            admin.get(f"/admin/audit?user={user}&event=session.revoked").text
        )
        assert '"by": "admin"' in page
        assert f'"target_user_id": {carol}' in page


def test_names_masked_alike_are_not_mixed_up(app):
    """Two names whose digits the redactor masks both read order_[REDACTED]; each
    name's filter finds only its own account's events."""
    admin = _admin(app)
    first, second = "order_4111111111111111", "order_5555555555554444"
    for name in (first, second):
        assert register(app.test_client(), name).status_code == 302
    first_id, second_id = _user_id(app, first), _user_id(app, second)
    _store(app, "mark-first", user_id=first_id, username="order_[REDACTED]")
    _store(app, "mark-second", user_id=second_id, username="order_[REDACTED]")

    assert _marks(admin, f"?user={first}&event=auth.login.failed") == ["mark-first"]
    assert _marks(admin, f"?user={second}&event=auth.login.failed") == ["mark-second"]


def test_filter_by_ip(app):
    """An address shows only the events from it, IPv4 or IPv6."""
    admin = _admin(app)
    _store(app, "mark-v4", ip="198.51.100.7")
    _store(app, "mark-v6", ip="2001:db8::1")
    _store(app, "mark-other", ip="203.0.113.5")

    assert _marks(admin, "?ip=198.51.100.7") == ["mark-v4"]
    assert _marks(admin, "?ip=2001:db8::1") == ["mark-v6"]


def test_filter_by_time(app):
    """From and until (UTC) keep only the events between them, both included."""
    admin = _admin(app)
    start = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    for hours in range(3):
        _store(app, f"mark-{9 + hours}h", time=start + timedelta(hours=hours))

    assert _marks(admin, "?since=2025-03-01T09:30&until=2025-03-01T10:30") == [
        "mark-10h"
    ]
    assert _marks(admin, "?since=2025-03-01T10:00") == ["mark-11h", "mark-10h"]
    assert _marks(admin, "?until=2025-03-01T10:00:00") == ["mark-10h", "mark-9h"]


def test_paging_shows_fifty_a_page_and_keeps_the_filters(app):
    """Past 50 events an Older link appears; both links keep the filters."""
    admin = _admin(app)
    for number in range(60):
        _store(app, f"mark-{number:02d}", "csrf.failed", ip="192.0.2.9", reason="x")
    _store(app, "mark-elsewhere", "csrf.failed", ip="192.0.2.10", reason="x")
    filters = {"event": ["csrf.failed"], "ip": ["192.0.2.9"]}

    first = admin.get("/admin/audit?event=csrf.failed&ip=192.0.2.9").text
    older = _links(first)
    second = admin.get("/admin/audit", query_string={**filters, "page": "2"}).text
    newer = _links(second)

    expected = [f"mark-{number:02d}" for number in range(59, -1, -1)]
    assert _MARK.findall(first) == expected[:50]
    assert older == {"Older": {**filters, "page": ["2"]}}
    assert _MARK.findall(second) == expected[50:]
    assert newer == {"Newer": {**filters, "page": ["1"]}}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("event=nope", "Choose an event from the list."),
        ("ip=1.2.3", "Enter an IPv4 or IPv6 address."),
        ("since=garbage", "Not a valid datetime value."),
        ("until=2025-13-01T00:00", "Not a valid datetime value."),
        ("page=0", "Pages run from 1 to 2000."),
        ("page=abc", "Not a valid integer value."),
        ("page=99999999999999999999", "Pages run from 1 to 2000."),
        ("user=" + "x" * 200, "Field cannot be longer than 64 characters."),
    ],
    ids=["event", "ip", "since", "until", "page-0", "page-abc", "page-huge", "user"],
)
def test_bad_filter_is_refused_with_a_reason(app, query, message):
    """A bad filter value gets 400 and says what is wrong, never a server error."""
    admin = _admin(app)

    response = admin.get(f"/admin/audit?{query}")

    assert response.status_code == 400
    assert message in response.text
    assert "Fix the filters above to see events." in response.text
    assert "Traceback" not in response.text
    assert _MARK.findall(response.text) == []


def test_username_with_markup_is_shown_escaped(app):
    """A username of <script> shows as text on the audit page, never as HTML."""
    admin = _admin(app)
    typed = "<script>alert(1)</script>"
    # As an app using the toolkit would record a name it found; Bastion's own app
    # writes names that match no account as hashes.
    with app.test_request_context("/login", method="POST"):
        record_event("auth.login.failed", username=typed, reason="wrong_password")

    page = admin.get("/admin/audit?event=auth.login.failed").text

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert typed not in page


def _stored_marks(app) -> list[str]:
    with app.app_context():
        query = select(AuditEvent.request_id).where(
            AuditEvent.request_id.like("mark-%")
        )
        return sorted(db.session.scalars(query))


def test_prune_deletes_only_events_past_retention(app, tmp_path, monkeypatch):
    """`bastion audit prune` deletes events older than AUDIT_RETENTION_DAYS."""
    now = utc_now()
    for days in (100, 31, 29, 1):
        _store(app, f"mark-{days:03d}d", time=now - timedelta(days=days))

    result = run_bastion(
        tmp_path, monkeypatch, "audit", "prune", AUDIT_RETENTION_DAYS="30"
    )

    assert result.exit_code == 0, result.output
    assert "Deleted 2 audit event(s) older than 30 day(s)." in result.stdout
    assert _stored_marks(app) == ["mark-001d", "mark-029d"]


def test_prune_refuses_zero_days(app, tmp_path, monkeypatch):
    """`--days 0` would delete everything; click refuses it as a usage error."""
    _store(app, "mark-today")

    result = run_bastion(tmp_path, monkeypatch, "audit", "prune", "--days", "0")

    assert result.exit_code == 2
    assert "Invalid value for '--days'" in result.output
    assert _stored_marks(app) == ["mark-today"]
    with app.app_context():
        pruned = select(func.count()).where(AuditEvent.event == "admin.audit_pruned")
        assert db.session.scalar(pruned) == 0


def test_user_filter_with_other_digits_is_not_an_error(app):
    """A superscript digit is not a user id: the filter answers, never 500."""
    admin = _admin(app)

    for value in ("%C2%B2", "1%C2%B2", "%D9%A3"):
        assert admin.get(f"/admin/audit?user={value}").status_code == 200


def test_prune_deletes_in_batches(app, tmp_path, monkeypatch):
    """A backlog larger than one batch is deleted whole, a batch at a time."""
    monkeypatch.setattr("bastion.app.audit.PRUNE_BATCH_SIZE", 3)
    old = utc_now() - timedelta(days=100)
    for number in range(7):
        _store(app, f"mark-old-{number}", time=old)
    _store(app, "mark-new")

    result = run_bastion(tmp_path, monkeypatch, "audit", "prune")

    assert "Deleted 7 audit event(s) older than 90 day(s)." in result.stdout
    assert _stored_marks(app) == ["mark-new"]


def test_prune_without_the_table_says_what_to_do(tmp_path, monkeypatch):
    """Before `bastion db upgrade`, prune says to run it; no traceback."""
    result = run_bastion(tmp_path, monkeypatch, "audit", "prune")

    assert result.exit_code == 1
    assert "run `bastion db upgrade`" in result.output
    assert "Traceback" not in result.output


def test_interrupted_prune_records_what_it_deleted(app, tmp_path, monkeypatch):
    """If the database fails mid-prune, the batches already deleted are recorded and
    the command says so in one line, without a traceback."""
    failure = OperationalError("DELETE", {}, Exception("database is locked"))
    _fail_the_second_batch(app, monkeypatch, failure)

    result = run_bastion(tmp_path, monkeypatch, "audit", "prune")

    assert result.exit_code == 1
    assert "OperationalError after deleting 3 event(s)" in result.output
    assert "Traceback" not in result.output
    assert len(_stored_marks(app)) == 4
    [pruned] = _stored_events(app, "admin.audit_pruned")
    assert json.loads(pruned.details) == {"count": 3, "retention_days": 90}


def test_a_prune_that_failed_at_once_claims_no_record(app, tmp_path, monkeypatch):
    """With nothing deleted there is no admin.audit_pruned, and the message agrees."""
    failure = OperationalError("DELETE", {}, Exception("database is locked"))

    def fails(*args, **kwargs):
        raise failure

    monkeypatch.setattr(db.session, "execute", fails)
    result = run_bastion(tmp_path, monkeypatch, "audit", "prune")
    monkeypatch.undo()

    assert result.exit_code == 1
    assert "OperationalError after deleting 0 event(s)" in result.output
    assert "admin.audit_pruned" not in result.output
    assert _stored_events(app, "admin.audit_pruned") == []


def _fail_the_second_batch(app, monkeypatch, failure: BaseException) -> None:
    """Seven events due for pruning in batches of three; the second batch raises."""
    monkeypatch.setattr("bastion.app.audit.PRUNE_BATCH_SIZE", 3)
    old = utc_now() - timedelta(days=100)
    for number in range(7):
        _store(app, f"mark-old-{number}", time=old)
    execute = db.session.execute
    calls = []

    def second_batch_fails(statement, *args, **kwargs):
        calls.append(statement)
        if len(calls) == 2:
            raise failure
        return execute(statement, *args, **kwargs)

    monkeypatch.setattr(db.session, "execute", second_batch_fails)


def _stored_events(app, name: str) -> list[AuditEvent]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.event == name))
        return list(rows)


def test_ip_filter_finds_an_address_however_it_is_written(app):
    """2001:DB8:0:0::1 finds the events of 2001:db8::1: both sides are canonical."""
    admin = _admin(app)
    _store(app, "mark-v6", ip="2001:db8::1")

    assert _marks(admin, "?ip=2001:DB8:0:0:0:0:0:1") == ["mark-v6"]


def test_an_end_before_the_start_is_refused(app):
    """until earlier than since would show nothing; it is refused with a reason."""
    admin = _admin(app)

    response = admin.get("/admin/audit?since=2025-03-02T00:00&until=2025-03-01T00:00")

    assert response.status_code == 400
    assert "Choose an end after the start." in response.text


def test_user_filter_finds_a_pseudonym_as_the_page_shows_it(make_app):
    """With LOG_PSEUDONYMIZE the page shows hashes; pasting one back finds its rows."""
    app = make_app(LOG_PSEUDONYMIZE="true")
    admin = _admin(app)
    register(app.test_client(), "Carol")
    with app.app_context():
        shown = logged_username("Carol")
    _store(app, "mark-carol", username=shown)

    assert _marks(admin, f"?user={shown}") == ["mark-carol"]
    assert _marks(admin, "?user=carol") == ["mark-carol"]


def test_time_filter_to_the_minute_keeps_the_whole_minute(app):
    """Until 10:00 keeps an event at 10:00:30; until 10:00:00 does not."""
    admin = _admin(app)
    _store(app, "mark-late", time=datetime(2025, 3, 1, 10, 0, 30, tzinfo=UTC))

    assert _marks(admin, "?since=2025-03-01T10:00&until=2025-03-01T10:00") == [
        "mark-late"
    ]
    assert _marks(admin, "?until=2025-03-01T10:00:00") == []
    assert _marks(admin, "?until=2025-03-01T10:00:30") == ["mark-late"]


def test_a_page_that_is_no_number_gets_one_error(app):
    """page=abc says it is not a number, and not also that it is out of range."""
    response = _admin(app).get("/admin/audit?page=abc")

    assert response.status_code == 400
    assert "Not a valid integer value." in response.text
    assert "Pages run from" not in response.text


def test_user_filter_finds_names_that_matched_no_account(app):
    """A name that matched no account is stored as its hash, found by typing it."""
    admin = _admin(app)
    login(app.test_client(), "Ghost.Writer", WRONG_PASSWORD)

    page = admin.get("/admin/audit?user=ghost.writer&event=auth.login.failed").text

    assert "unknown_user" in page
    assert "Ghost.Writer" not in page


def test_an_interrupted_prune_is_recorded_even_on_ctrl_c(app, monkeypatch):
    """Ctrl-C between batches leaves the deleted ones accounted for in the trail."""
    _fail_the_second_batch(app, monkeypatch, KeyboardInterrupt())

    with app.app_context(), pytest.raises(KeyboardInterrupt):
        prune(90)
    monkeypatch.undo()

    [pruned] = _stored_events(app, "admin.audit_pruned")
    assert json.loads(pruned.details) == {"count": 3, "retention_days": 90}


def test_ip_filter_finds_an_ipv4_client_seen_through_ipv6(app):
    """::ffff:192.0.2.7 is the IPv4 client 192.0.2.7, stored and found as that."""
    admin = _admin(app)
    with app.test_request_context(
        "/login", method="POST", environ_base={"REMOTE_ADDR": "::ffff:192.0.2.7"}
    ):
        record_event("csrf.failed", reason="x")

    assert _stored_events(app, "csrf.failed")[0].ip_address == "192.0.2.7"
    assert "csrf.failed" in admin.get("/admin/audit?ip=::ffff:192.0.2.7").text


def test_time_filter_takes_a_date_alone_as_that_whole_day(app):
    """since=2025-03-01 starts at its midnight; until=2025-03-01 keeps all of it, as
    typed in an address bar or a script, with a space instead of T too."""
    admin = _admin(app)
    _store(app, "mark-eve", time=datetime(2025, 2, 28, 23, 59, 59, tzinfo=UTC))
    _store(app, "mark-day", time=datetime(2025, 3, 1, 23, 59, 30, tzinfo=UTC))
    _store(app, "mark-next", time=datetime(2025, 3, 2, 0, 0, 0, tzinfo=UTC))

    assert _marks(admin, "?since=2025-03-01&until=2025-03-01") == ["mark-day"]
    assert _marks(admin, "?since=2025-03-01 23:59&until=2025-03-02") == [
        "mark-next",
        "mark-day",
    ]


@pytest.mark.parametrize(
    "until", ["9999-12-31T23:59", "9999-12-31T23:59:59", "9999-12-31"]
)
def test_an_end_at_the_last_day_there_is_keeps_everything(app, until):
    """Nothing comes after the end of 9999: such an end is no limit, and no 500."""
    admin = _admin(app)
    _store(app, "mark-any", time=datetime(2025, 3, 1, 10, 0, tzinfo=UTC))

    assert _marks(admin, f"?until={until}") == ["mark-any"]
