"""Regressions for what an attack on the first version found; each failed before."""

import io
import logging
import os
import secrets
import threading

import pytest
from flask.sessions import SecureCookieSessionInterface

from bastion.config import ConfigError, load_settings
from tests.helpers import PASSWORD, csrf_token, logout, register


def _sign_in_remembered(client, username: str) -> None:
    register(client, username)
    token = csrf_token(client, "/login")
    client.post(
        "/login",
        data={
            "csrf_token": token,
            "username": username,
            "password": PASSWORD,
            "remember": "y",
        },
    )


def test_sign_out_deletes_the_remember_me_cookie(client):
    """After sign-out, the remember-me cookie is gone and the account stays closed."""
    _sign_in_remembered(client, "forgetful")
    assert client.get_cookie("remember") is not None

    response = logout(client)

    cleared = [h for h in response.headers.getlist("Set-Cookie") if "remember" in h]
    assert cleared and "Expires=Thu, 01 Jan 1970" in cleared[0]
    assert client.get_cookie("remember") is None
    assert client.get("/account").status_code == 302


@pytest.mark.parametrize("field", ["username", "password"])
@pytest.mark.parametrize("url", ["/login", "/register"])
def test_a_field_sent_as_a_file_is_a_form_error(client, url, field):
    """A text field uploaded as a file gets the form back, not a 500."""
    token = csrf_token(client, url)
    data = {"csrf_token": token, "username": "filer", "password": PASSWORD}
    data["confirm"] = PASSWORD
    data[field] = (io.BytesIO(b"x" * 20), "a.txt")

    response = client.post(url, data=data, content_type="multipart/form-data")

    assert response.status_code == 200


def test_oversized_request_body_gets_413(client):
    """A body over MAX_CONTENT_LENGTH (1 MiB by default) is refused before parsing."""
    token = csrf_token(client, "/login")
    response = client.post(
        "/login", data={"csrf_token": token, "username": "x" * (2 * 1024 * 1024)}
    )

    assert response.status_code == 413
    assert "Traceback" not in response.get_data(as_text=True)


def test_tampered_user_id_in_a_signed_session_is_anonymous(app):
    """A validly signed session with a strange user id opens nothing and never 500s."""
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    for user_id in ("²", "١", "9" * 5000, ["1"], 1):
        client = app.test_client()
        client.set_cookie("session", serializer.dumps({"_user_id": user_id}))
        assert client.get("/").status_code == 200
        assert client.get("/account").status_code == 302


def test_development_key_that_is_a_fifo_is_an_error_not_a_hang(tmp_path):
    """instance/secret_key as a FIFO gives a ConfigError at once."""
    instance = tmp_path / "instance"
    instance.mkdir()
    os.mkfifo(instance / "secret_key")
    outcome = []

    def load():
        try:
            load_settings(
                environ={"APP_ENV": "development", "INSTANCE_PATH": str(instance)},
                env_file=None,
            )
        except ConfigError as error:
            outcome.append(error)

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    worker.join(timeout=5)

    assert outcome, "loading settings hung on the FIFO"
    assert "SECRET_KEY" in str(outcome[0])


@pytest.mark.parametrize("host", ["0", "1.2.3.4.5", "999", "localhost.0"])
def test_numeric_host_names_are_refused(make_settings, host):
    """HOST=0 would listen on every interface: names ending in digits are refused."""
    with pytest.raises(ConfigError) as caught:
        make_settings(HOST=host)

    assert caught.value.problems[0].name == "HOST"


def test_file_in_dotenv_overriding_the_environment_is_logged(
    make_settings, tmp_path, caplog
):
    """A SECRET_KEY_FILE line in .env beating SECRET_KEY from the environment warns."""
    key_file = tmp_path / "key"
    key_file.write_text(secrets.token_hex(32), encoding="ascii")
    env_file = tmp_path / ".env"
    env_file.write_text(f"SECRET_KEY_FILE={key_file}\n", encoding="utf-8")

    with caplog.at_level(logging.WARNING, logger="bastion"):
        make_settings(env_file=env_file, SECRET_KEY=secrets.token_hex(32))

    assert "SECRET_KEY_FILE" in caplog.text
    assert "overrides SECRET_KEY from environment" in caplog.text


def test_line_break_in_a_path_cannot_forge_a_problem_line(make_settings):
    """An ENV_FILE path with a line break stays on one problem line."""
    with pytest.raises(ConfigError) as caught:
        load_settings(
            environ={"APP_ENV": "testing", "ENV_FILE": "/nope\nPORT (environment): x"}
        )

    assert len(caught.value.report().splitlines()) == 1
