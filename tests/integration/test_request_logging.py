"""Request ids, the access log, and one format for every logger, gunicorn's included."""

import json
import logging
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.canary import CANARY_SECRET_KEY
from tests.helpers import events, free_port, login, register

ID_HEADER = "X-Request-ID"
JSON_KEYS = {"time", "level", "logger", "process", "message", "request_id"}


@pytest.fixture
def logged(caplog):
    caplog.set_level(logging.INFO, logger="bastion")
    return caplog


def _access(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "bastion.access"]


def test_every_response_has_its_own_request_id(client):
    """Each response names a fresh id of 16 hex digits."""
    first = client.get("/login").headers[ID_HEADER]
    second = client.get("/login").headers[ID_HEADER]

    assert len(first) == 16 and int(first, 16) >= 0
    assert first != second


def test_records_of_a_request_carry_its_id(client, logged):
    """The event and the access line of a request share the id it answered with."""
    register(client, "alice")
    logged.clear()

    response = login(client, "alice", "not the password")

    [failed] = events(logged, "auth.login.failed")
    access = _access(logged)[-1]
    assert failed.request_id == access.request_id == response.headers[ID_HEADER]


@pytest.mark.parametrize(
    "offered", ["a" * 65, "short", "id with space", "semi;colon;id"]
)
def test_offered_id_is_ignored_without_a_trusted_proxy(make_app, offered):
    """A client's own X-Request-ID is never believed when no proxy is trusted."""
    client = make_app().test_client()

    answered = client.get("/login", headers={ID_HEADER: "proxy-id-12345"})
    assert answered.headers[ID_HEADER] != "proxy-id-12345"
    assert client.get("/login", headers={ID_HEADER: offered}).headers[ID_HEADER] != (
        offered
    )


def test_trusted_proxy_id_is_kept_when_short_and_plain(make_app):
    """Behind a trusted proxy, its plain id joins the proxy's logs to ours."""
    client = make_app(TRUSTED_PROXY_HOPS="1").test_client()

    kept = client.get(
        "/login", headers={ID_HEADER: "3f2a9c1e-77aa-4b1c-9d0e-5a6b7c8d9e0f"}
    )
    long = client.get("/login", headers={ID_HEADER: "a" * 65})
    odd = client.get("/login", headers={ID_HEADER: "<script>alert(1)</script>"})

    assert kept.headers[ID_HEADER] == "3f2a9c1e-77aa-4b1c-9d0e-5a6b7c8d9e0f"
    assert long.headers[ID_HEADER] != "a" * 65
    assert len(odd.headers[ID_HEADER]) == 16


def test_access_line_has_method_path_status_duration_and_user(client, logged):
    """One access line per request; the query string, where tokens go, is left out."""
    register(client, "alice")
    login(client, "alice")
    logged.clear()

    client.get("/account?token=query-secret-value")

    [line] = _access(logged)
    assert (line.method, line.path, line.status, line.user_id) == (
        "GET",
        "/account",
        200,
        1,
    )
    assert isinstance(line.duration_ms, float)
    assert "query-secret-value" not in logged.text
    assert line.getMessage().startswith("GET /account 200 ")
    assert line.getMessage().endswith(" user=1")


def test_access_line_of_an_anonymous_request_has_no_user(client, logged):
    """Before sign-in the access line says user=-."""
    client.get("/no/such/page")

    [line] = _access(logged)
    assert (line.status, line.user_id) == (404, None)
    assert line.getMessage().endswith(" user=-")


def test_json_logs_are_one_object_per_line_with_the_documented_keys(make_app, capfd):
    """With LOG_FORMAT=json every line of stderr parses and carries the keys."""
    client = make_app(LOG_FORMAT="json").test_client()
    register(client, "alice")
    capfd.readouterr()

    login(client, "alice", 'wrong "quoted" password\n{ }')
    login(client, "alice")

    lines = capfd.readouterr().err.splitlines()
    records = [json.loads(line) for line in lines]
    assert records
    assert all(record.keys() >= JSON_KEYS for record in records)
    names = [record.get("event") for record in records]
    assert names.count("auth.login.failed") == 1
    assert names.count("auth.login.succeeded") == 1
    success = records[names.index("auth.login.succeeded")]
    assert (success["user_id"], success["username"], success["method"]) == (
        1,
        "alice",
        "password",
    )


def test_werkzeug_request_lines_are_left_to_the_access_log(app, capfd):
    """The dev server's own request lines (with query strings) are dropped."""
    werkzeug = logging.getLogger("werkzeug")
    capfd.readouterr()

    werkzeug.info(
        '127.0.0.1 - - [03/Dec/2026 10:00:00] "GET /?token=abc HTTP/1.1" 200 -'
    )
    werkzeug.info("Press CTRL+C to quit")

    err = capfd.readouterr().err
    assert "token=abc" not in err
    assert "werkzeug: Press CTRL+C to quit" in err


@pytest.mark.slow
def test_gunicorn_writes_through_the_same_json_handler(tmp_path):
    """gunicorn's own records and the app's share one JSON format on stderr."""
    port = free_port()
    environ = {
        "PATH": os.environ.get("PATH", ""),
        "APP_ENV": "development",
        "SECRET_KEY": CANARY_SECRET_KEY,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_PATH": str(tmp_path / "bastion.db"),
        "PORT": str(port),
        "WORKERS": "1",
        "LOG_FORMAT": "json",
    }
    bastion = [str(Path(sys.executable).parent / "bastion")]
    subprocess.run(
        [*bastion, "db", "upgrade"], env=environ, check=True, capture_output=True
    )
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen([*bastion, "serve"], env=environ, stderr=log, stdout=log)
    try:
        _wait_for(f"http://127.0.0.1:{port}/login?token=query-secret-value")
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()

    lines = (tmp_path / "server.log").read_text().splitlines()
    # Every line, the serve banner included, is one JSON record.
    records = [json.loads(line) for line in lines]
    loggers = {record["logger"] for record in records}
    assert {"gunicorn.error", "bastion.access", "bastion.security"} <= loggers
    assert not [line for line in lines if line.startswith("[")], "gunicorn's own format"
    access = [record for record in records if record["logger"] == "bastion.access"]
    assert access[-1]["path"] == "/login"
    assert "query-secret-value" not in "\n".join(lines)
    assert CANARY_SECRET_KEY not in "\n".join(lines)


def _wait_for(url: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5):  # noqa: S310 (loopback)
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"gunicorn did not answer at {url}")


def test_access_log_can_be_left_to_the_proxy(make_app, logged):
    """LOG_ACCESS=false writes no access line; the request id is still returned."""
    client = make_app(LOG_ACCESS="false").test_client()

    response = client.get("/login")

    assert response.headers[ID_HEADER]
    assert _access(logged) == []


def test_access_line_of_a_crash_has_the_500_and_a_non_ascii_path(make_app, logged):
    """A failing view still gets its access line, with the status the client saw."""
    # Production: the testing profile lets the exception reach the test instead.
    app = make_app(
        APP_ENV="production", SECRET_KEY=CANARY_SECRET_KEY, FORCE_HTTPS="false"
    )

    def fail():
        raise RuntimeError("failed on purpose")

    app.add_url_rule("/café/boom", "boom", fail)

    response = app.test_client().get("/café/boom?token=query-secret-value")

    assert response.status_code == 500
    [line] = _access(logged)
    assert (line.path, line.status) == ("/café/boom", 500)
    assert line.request_id == response.headers[ID_HEADER]
