"""Helpers the tests share: real CSRF tokens and the account flows."""

import re
import socket

from flask.testing import FlaskClient

from tests.canary import CANARY_PASSWORD

_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

# The password every account in the tests uses; a canary the logs must never show.
PASSWORD = CANARY_PASSWORD


def events(caplog, name: str) -> list:
    """The log records of security event ``name`` that ``caplog`` captured."""
    return [
        record for record in caplog.records if getattr(record, "event", None) == name
    ]


def csrf_token(client: FlaskClient, url: str) -> str:
    """Open ``url`` and return the CSRF token from its form, as a browser would."""
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    match = _TOKEN.search(response.get_data(as_text=True))
    assert match, f"no CSRF token in the form at {url}"
    return match.group(1)


def register(
    client: FlaskClient, username: str, password: str = PASSWORD, confirm=None
):
    """Submit the registration form with a real token."""
    token = csrf_token(client, "/register")
    return client.post(
        "/register",
        data={
            "csrf_token": token,
            "username": username,
            "password": password,
            "confirm": password if confirm is None else confirm,
        },
    )


def login(
    client: FlaskClient,
    username: str,
    password: str = PASSWORD,
    next_url=None,
    remember: bool = False,
):
    """Submit the sign-in form with a real token, optionally with ``?next=``."""
    query = {"next": next_url} if next_url is not None else {}
    token = csrf_token(client, "/login")
    data = {"csrf_token": token, "username": username, "password": password}
    if remember:
        data["remember"] = "y"
    return client.post("/login", query_string=query, data=data)


def logout(client: FlaskClient):
    """Press the sign-out button on the home page."""
    token = csrf_token(client, "/")
    return client.post("/logout", data={"csrf_token": token})


def copy_cookies(source: FlaskClient, target: FlaskClient, *names: str) -> None:
    """Give ``target`` the cookies ``names`` that ``source`` holds, as a thief would."""
    for name in names:
        cookie = source.get_cookie(name)
        if cookie is not None:
            target.set_cookie(name, cookie.value)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_bastion(tmp_path, monkeypatch, *args: str, answer=None, **settings: str):
    """Run the `bastion` command in-process on the test's database in ``tmp_path``.

    ``answer`` is typed at its prompts; ``settings`` are added to its environment.
    """
    from click.testing import CliRunner

    from bastion.cli import main

    monkeypatch.chdir(tmp_path)
    environ = {
        "APP_ENV": "testing",
        "DATABASE_PATH": str(tmp_path / "test.db"),
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "ENV_FILE": None,
        "DATABASE_URL": None,
        "SECRET_KEY": None,
        **settings,
    }
    return CliRunner().invoke(main, list(args), env=environ, input=answer)
