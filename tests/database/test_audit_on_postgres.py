"""The audit page on a real PostgreSQL: filter values it refuses, and its time zone."""

from datetime import UTC, datetime

import flask_migrate
import pytest
from sqlalchemy.engine import make_url

from bastion.app.admin_accounts import create_or_promote_admin
from bastion.app.audit import store
from bastion.app.models import utc_now
from tests.helpers import csrf_token, login

ADMIN_PASSWORD = "granite orchard seventeen kites"


def _admin_client(app):
    with app.app_context():
        flask_migrate.upgrade()
        create_or_promote_admin("boss", ADMIN_PASSWORD)
    client = app.test_client()
    assert login(client, "boss", ADMIN_PASSWORD).status_code == 302
    return client


@pytest.mark.parametrize(
    "user", ["2147483648", "999999999999999999", "%00", "a%00b"], ids=str
)
def test_user_filters_postgres_would_refuse_find_nothing(build_app, database_url, user):
    """An id beyond a 32-bit column, or a NUL, is a search with no match, not a 500."""
    admin = _admin_client(build_app(database_url))

    response = admin.get(f"/admin/audit?user={user}")

    assert response.status_code == 200
    assert "No events match" in response.text


def test_an_address_zone_postgres_would_refuse_finds_nothing(build_app, database_url):
    """fe80::1%<NUL> is a valid IPv6 address to Python; the zone is escaped, no 500."""
    admin = _admin_client(build_app(database_url))

    response = admin.get("/admin/audit?ip=fe80::1%25%00")

    assert response.status_code == 200
    assert "No events match" in response.text


def test_times_are_utc_whatever_the_server_zone(build_app, postgres_url):
    """A server whose sessions default to New York time still shows and filters UTC."""
    url = make_url(postgres_url)
    options = url.query["options"] + " -ctimezone=America/New_York"
    app = build_app(url.update_query_dict({"options": options}).render_as_string(False))
    admin = _admin_client(app)
    when = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
    with app.app_context():
        store(_entry("mark-0930", when))
        store(_entry("mark-now", utc_now()))

    page = admin.get("/admin/audit?since=2025-03-01T09:00&until=2025-03-01T10:00").text

    assert "mark-0930" in page
    assert "mark-now" not in page
    assert "2025-03-01 09:30:00" in page


def _entry(mark: str, when: datetime) -> dict[str, object]:
    return {
        "event": "csrf.failed",
        "outcome": "denied",
        "time": when,
        "request_id": mark,
        "user_id": None,
        "username": None,
        "ip": "192.0.2.1",
        "user_agent": None,
        "reason": "x",
    }


@pytest.mark.parametrize(
    "path",
    ["/admin/users/{id}/end-sessions", "/account/sessions/{id}/end"],
    ids=["admin", "account"],
)
def test_an_id_beyond_the_id_columns_is_not_found(build_app, database_url, path):
    """2**31 fits in a URL but not in an INTEGER column: a 404, not PostgreSQL's
    "integer out of range" as a 500."""
    admin = _admin_client(build_app(database_url))
    token = csrf_token(admin, "/admin/users")

    response = admin.post(path.format(id=2**31), data={"csrf_token": token})

    assert response.status_code == 404
