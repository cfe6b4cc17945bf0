"""A database outage: friendly 503s, honest health checks, recovery without restart."""

import time

import flask_migrate
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bastion.app.extensions import db
from bastion.app.models import User
from tests.database.proxy import CuttableProxy
from tests.helpers import login, register

RECOVERY_SECONDS = 10


def _through_proxy(url: str, proxy: CuttableProxy) -> str:
    proxied = make_url(url).set(host="127.0.0.1", port=proxy.port)
    return proxied.render_as_string(hide_password=False)


def _wait_until_ready(client) -> float:
    start = time.monotonic()
    while time.monotonic() - start < RECOVERY_SECONDS:
        if client.get("/health/ready").status_code == 200:
            return time.monotonic() - start
        time.sleep(0.2)
    raise AssertionError(f"not ready {RECOVERY_SECONDS} s after the database returned")


def test_outage_answers_503_and_recovers_by_itself(build_app, postgres_url):
    """Cut the database: 503s, live 200, ready 503; restore: back within seconds."""
    server = make_url(postgres_url)
    proxy = CuttableProxy(server.host, server.port or 5432)
    app = build_app(_through_proxy(postgres_url, proxy), DB_CONNECT_TIMEOUT_SECONDS="2")
    try:
        with app.app_context():
            flask_migrate.upgrade()
        client = app.test_client()
        register(client, "steady")
        login(client, "steady")
        assert client.get("/account").status_code == 200

        proxy.cut()
        page = client.get("/account")
        assert page.status_code == 503
        text = page.get_data(as_text=True)
        assert "briefly unavailable" in text
        for internal in ("psycopg", "OperationalError", "connection", "5432"):
            assert internal not in text
        assert client.get("/health/live").status_code == 200
        assert client.get("/health/ready").status_code == 503
        assert register(client.application.test_client(), "halfway").status_code == 503

        proxy.restore()
        _wait_until_ready(client)
        assert client.get("/account").status_code == 200
        with app.app_context():
            halfway = select(func.count()).where(func.lower(User.username) == "halfway")
            assert db.session.scalar(halfway) == 0
    finally:
        proxy.close()
