"""Helpers the tests share: real CSRF tokens and the account flows."""

import re

from flask.testing import FlaskClient

_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

PASSWORD = "correct horse battery staple"


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


def login(client: FlaskClient, username: str, password: str = PASSWORD, next_url=None):
    """Submit the sign-in form with a real token, optionally with ``?next=``."""
    query = {"next": next_url} if next_url is not None else {}
    token = csrf_token(client, "/login")
    return client.post(
        "/login",
        query_string=query,
        data={"csrf_token": token, "username": username, "password": password},
    )


def logout(client: FlaskClient):
    """Press the sign-out button on the home page."""
    token = csrf_token(client, "/")
    return client.post("/logout", data={"csrf_token": token})
