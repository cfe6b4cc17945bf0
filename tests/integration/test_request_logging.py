"""Request ids, the access log, and one format for every logger, gunicorn's included."""

import json
import logging
import os
import socket
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
    assert line.getMessage().startswith("GET 200 ")
    assert line.getMessage().endswith(" user=1 path=/account")


def test_a_refused_form_names_the_signed_in_user_in_line_and_page(client, logged):
    """A CSRF failure is answered before the session loads, yet names who it was."""
    register(client, "alice")
    login(client, "alice")
    logged.clear()

    response = client.post("/logout")

    assert response.status_code == 400
    [line] = _access(logged)
    assert (line.status, line.user_id) == (400, 1)
    # The menu is the signed-in one: no invitation to sign in again.
    assert "Sign out" in response.text
    assert 'href="/login"' not in response.text


def test_access_line_of_an_anonymous_request_has_no_user(client, logged):
    """Before sign-in the access line says user=-."""
    client.get("/no/such/page")

    [line] = _access(logged)
    assert (line.status, line.user_id) == (404, None)
    assert line.getMessage().endswith(" user=- path=/no/such/page")


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
        # Read by the command, gunicorn's config and the worker; its repeated line
        # makes each of them warn while loading, before the log format is known.
        "ENV_FILE": str(_env_file_warned_about(tmp_path)),
    }
    bastion = [str(Path(sys.executable).parent / "bastion")]
    subprocess.run(
        [*bastion, "db", "upgrade"], env=environ, check=True, capture_output=True
    )
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen([*bastion, "serve"], env=environ, stderr=log, stdout=log)
    try:
        _wait_for(f"http://127.0.0.1:{port}/login?token=query-secret-value")
        # gunicorn itself refuses this header and logs it, from the worker, after
        # the app configured logging a second time there.
        _send_raw(port, b"Cookie session=raw-cookie-secret-value\r\n")
        # A request line gunicorn refuses, and quotes whole in its log line.
        _send_raw_line(port, b"GET /reset?token=line-secret-value")
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
    assert [record for record in records if "twice" in record["message"]]
    refused = [r for r in records if "Invalid request" in r["message"]]
    assert [r["logger"] for r in refused] == ["gunicorn.error"] * 2
    assert "line-secret-value" not in "\n".join(lines)
    assert "/reset?[query left out]" in refused[-1]["message"]
    assert "raw-cookie-secret-value" not in "\n".join(lines)
    assert "query-secret-value" not in "\n".join(lines)
    assert CANARY_SECRET_KEY not in "\n".join(lines)


def _send_raw(port: int, header_line: bytes) -> None:
    """Send one request with ``header_line`` as it is, and read the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(
            b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\n" + header_line + b"\r\n"
        )
        connection.recv(4096)


def _send_raw_line(port: int, request_line: bytes) -> None:
    """Send ``request_line`` as it is, then a Host, and read the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request_line + b"\r\nHost: 127.0.0.1\r\n\r\n")
        connection.recv(4096)


def _env_file_warned_about(folder: Path) -> Path:
    env_file = folder / "settings.env"
    env_file.write_text("LOG_ACCESS=true\nLOG_ACCESS=true\n")
    return env_file


OWN_APP = """
import logging

from flask import Flask

from bastion import Bastion

app = Flask(__name__)
Bastion(app)


@app.get("/")
def index():
    logging.getLogger("myapp.views").warning("signing in, password=%s", "{password}")
    app.logger.info("the app's own logger at INFO")
    return "ok"
"""


@pytest.mark.slow
def test_own_app_under_gunicorn_logs_only_json_through_the_redactor(tmp_path):
    """Someone's own app under gunicorn: every line JSON, its own loggers masked.

    The config sets only ``logger_class``; gunicorn's first lines come before the app
    is imported, so the logger class has to set up the format itself.
    """
    port = free_port()
    password = "own-app-canary-password-41"
    (tmp_path / "ownapp.py").write_text(OWN_APP.format(password=password))
    (tmp_path / "gunicorn.conf.py").write_text(
        'logger_class = "bastion.logs.gunicorn.GunicornLogger"\n'
        f'bind = "127.0.0.1:{port}"\nworkers = 1\n'
    )
    environ = {
        "PATH": os.environ.get("PATH", ""),
        "APP_ENV": "development",
        "SECRET_KEY": CANARY_SECRET_KEY,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "LOG_FORMAT": "json",
        "ENV_FILE": str(_env_file_warned_about(tmp_path)),
    }
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "ownapp:app"]
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        command, cwd=tmp_path, env=environ, stderr=log, stdout=log
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}/?token=query-secret-value")
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()

    text = (tmp_path / "server.log").read_text()
    records = [json.loads(line) for line in text.splitlines()]
    messages = {record["logger"]: record["message"] for record in records}
    assert any(
        m.startswith("Starting gunicorn") for m in _messages(records, "gunicorn.error")
    )
    assert messages["myapp.views"] == "signing in, password=[REDACTED]"
    assert "the app's own logger at INFO" in _messages(records, "ownapp")
    assert [record for record in records if "twice" in record["message"]]
    assert password not in text
    assert CANARY_SECRET_KEY not in text
    assert "query-secret-value" not in text


def _messages(records: list[dict], logger: str) -> list[str]:
    return [record["message"] for record in records if record["logger"] == logger]


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


@pytest.mark.parametrize(
    ("path", "hidden"),
    [
        ("/card/4111%091111%091111%091111", "1111"),
        ("/card/4111%C2%A01111%C2%A01111%C2%A01111", "1111"),
        ("/" + "a" * 150 + CANARY_SECRET_KEY, CANARY_SECRET_KEY[:12]),
    ],
    ids=["tab-separated-card", "nbsp-separated-card", "key-past-the-cut"],
)
def test_access_path_is_masked_before_it_is_escaped_and_cut(
    client, logged, path, hidden
):
    """Escaping a tab to \\x09, or cutting at 200 characters, must not hide a secret
    from the redactor: it sees the path whole first."""
    client.get(path)

    [line] = _access(logged)
    assert hidden not in line.getMessage()
    assert hidden not in line.path


def test_a_masked_path_cannot_hide_the_status_or_the_user(client, logged):
    """The path goes last: masking what follows cookie: or a card keeps the rest."""
    register(client, "alice")
    login(client, "alice")
    logged.clear()

    client.get("/account/cookie:1")
    client.get("/n/4111111111111111")

    messages = [line.getMessage() for line in _access(logged)]
    assert [message.split()[:2] for message in messages] == [["GET", "404"]] * 2
    assert all(" user=1 path=/" in message for message in messages)


def test_digits_in_the_path_cannot_join_the_user_id_into_a_card(client, logged):
    """user=1 then /100000000007 would read as one Luhn-valid number without path=."""
    register(client, "alice")
    login(client, "alice")
    logged.clear()

    client.get("/100000000007")

    [line] = _access(logged)
    assert " 404 " in line.getMessage()
    assert " user=1 path=" in line.getMessage()


def test_an_odd_method_cannot_hide_the_rest_of_the_line(client, logged):
    """The method is the client's too: one that is not plain capitals shows as -."""
    client.open("/login", method='password="')

    [line] = _access(logged)
    assert line.getMessage().startswith("- 405 ")
    assert " user=- path=/login" in line.getMessage()
    assert line.method == 'password="'


def test_a_path_with_spaces_cannot_add_fields_to_the_access_line(client, logged):
    """A decoded path such as "/admin user=1 path=/x" is one quoted value."""
    client.get("/admin%20user=1%20path=/admin/users")

    [line] = _access(logged)
    assert line.getMessage().endswith(' user=- path="/admin user=1 path=/admin/users"')
    assert line.path == "/admin user=1 path=/admin/users"


def test_python_warnings_are_json_records_too(tmp_path):
    """A library's warning goes through the handler: JSON, and masked, like the rest."""
    script = (
        "import warnings\n"
        "from bastion.logs.setup import configure_logging\n"
        "configure_logging('INFO', 'json', ['warned-secret-value'])\n"
        "warnings.warn('a library is unhappy about warned-secret-value')\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )

    [record] = [json.loads(line) for line in result.stderr.splitlines()]
    assert record["logger"] == "py.warnings"
    assert "a library is unhappy" in record["message"]
    assert "warned-secret-value" not in result.stderr
