"""Admins: created from the command line, see users, end their sessions; others 403."""

import logging
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from bastion.app.admin_accounts import create_or_promote_admin
from bastion.app.extensions import db
from bastion.app.models import User
from tests.helpers import PASSWORD, csrf_token, events, login, register, run_bastion

ADMIN_PASSWORD = "granite orchard seventeen kites"


def _make_admin(app, username="boss"):
    with app.app_context():
        create_or_promote_admin(username, ADMIN_PASSWORD)


def test_non_admin_gets_403_and_it_is_logged(client, caplog):
    """A signed-in user who is not an admin is refused, and the attempt is logged."""
    register(client, "nosy")
    login(client, "nosy")

    with caplog.at_level(logging.INFO, logger="bastion"):
        response = client.get("/admin/users")

    assert response.status_code == 403
    [denied] = events(caplog, "access.denied")
    assert denied.path == "/admin/users"
    assert denied.user_id == 1


def test_anonymous_visitor_is_sent_to_sign_in(client):
    """Without a sign-in, the admin page asks for one."""
    response = client.get("/admin/users")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_admin_sees_users_and_ends_their_sessions(app, client):
    """An admin lists users and ends all of one user's sessions."""
    victim = app.test_client()
    register(victim, "target")
    login(victim, "target")
    _make_admin(app)
    login(client, "boss", ADMIN_PASSWORD)

    page = client.get("/admin/users")
    assert page.status_code == 200
    assert "target" in page.text
    with app.app_context():
        target_id = db.session.scalar(select(User.id).where(User.username == "target"))

    token = csrf_token(client, "/admin/users")
    client.post(f"/admin/users/{target_id}/end-sessions", data={"csrf_token": token})

    assert victim.get("/account").status_code == 302
    assert client.get("/admin/users").status_code == 200


def test_create_admin_prompts_for_the_password(tmp_path, monkeypatch):
    """`bastion users create-admin NAME` asks for the password; never an argument."""
    assert run_bastion(tmp_path, monkeypatch, "db", "upgrade").exit_code == 0

    answer = f"{ADMIN_PASSWORD}\n{ADMIN_PASSWORD}\n"
    result = run_bastion(
        tmp_path, monkeypatch, "users", "create-admin", "chief", answer=answer
    )

    assert result.exit_code == 0, result.output
    assert "Created admin chief." in result.output
    assert ADMIN_PASSWORD not in result.output


@pytest.mark.parametrize(
    ("username", "reason"),
    [
        ("x", "3 to 32 letters"),
        ("123", "needs at least one letter"),
        ("a b c", "3 to 32 letters"),
    ],
)
def test_create_admin_refuses_a_bad_name_before_asking(
    tmp_path, monkeypatch, username, reason
):
    """A name that cannot be used is refused first, not after the password twice."""
    assert run_bastion(tmp_path, monkeypatch, "db", "upgrade").exit_code == 0

    result = run_bastion(tmp_path, monkeypatch, "users", "create-admin", username)

    assert result.exit_code == 1
    assert reason in result.output
    assert "Password" not in result.output


def test_a_piped_password_creates_the_admin_without_a_warning(tmp_path):
    """Scripts pipe the password in: no getpass warning, no log line about it."""
    environ = {
        **os.environ,
        "APP_ENV": "testing",
        "DATABASE_PATH": str(tmp_path / "test.db"),
        "INSTANCE_PATH": str(tmp_path / "instance"),
    }
    for name in ("ENV_FILE", "DATABASE_URL", "SECRET_KEY"):
        environ.pop(name, None)
    bastion = [str(Path(sys.executable).parent / "bastion")]
    subprocess.run([*bastion, "db", "upgrade"], env=environ, cwd=tmp_path, check=True)

    result = subprocess.run(
        [*bastion, "users", "create-admin", "piper"],
        input=f"{ADMIN_PASSWORD}\n{ADMIN_PASSWORD}\n",
        capture_output=True,
        text=True,
        env=environ,
        cwd=tmp_path,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert "Created admin piper." in result.stdout
    assert "GetPassWarning" not in result.stderr
    assert "warnings" not in result.stderr
    assert ADMIN_PASSWORD not in result.stdout + result.stderr


def test_promoting_asks_for_the_current_password_once(tmp_path, monkeypatch):
    """For an existing user there is no new password to repeat: one prompt."""
    assert run_bastion(tmp_path, monkeypatch, "db", "upgrade").exit_code == 0
    answer = f"{ADMIN_PASSWORD}\n{ADMIN_PASSWORD}\n"
    run_bastion(tmp_path, monkeypatch, "users", "create-admin", "chief", answer=answer)
    demoted = "UPDATE users SET role = 'user'"
    with sqlite3.connect(tmp_path / "test.db") as connection:
        connection.execute(demoted)

    result = run_bastion(
        tmp_path,
        monkeypatch,
        "users",
        "create-admin",
        "Chief",
        answer=f"{ADMIN_PASSWORD}\n",
    )

    assert result.exit_code == 0, result.output
    assert "chief exists; enter their current password" in result.output.lower()
    assert "Repeat" not in result.output
    assert "chief is now an admin." in result.output


def test_create_admin_refuses_a_weak_password(app):
    """The command holds admins to the same password policy as registration."""
    from bastion.app.admin_accounts import AdminAccountError

    with app.app_context(), pytest.raises(AdminAccountError):
        create_or_promote_admin("weakling", "password1234")


def test_promoting_an_existing_user_needs_their_password(app, client):
    """An existing name becomes admin only with that user's own password."""
    from bastion.app.admin_accounts import AdminAccountError

    register(client, "member")
    with app.app_context():
        with pytest.raises(AdminAccountError):
            create_or_promote_admin("member", ADMIN_PASSWORD)
        assert create_or_promote_admin("MEMBER", PASSWORD) == "member is now an admin."


def test_promoting_an_admin_again_changes_and_records_nothing(app, client, caplog):
    """Running create-admin twice says the user is an admin already; no new event."""
    register(client, "member")
    with app.app_context():
        create_or_promote_admin("member", PASSWORD)
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="bastion"):
            answer = create_or_promote_admin("member", PASSWORD)

    assert answer == "member is already an admin."
    assert events(caplog, "admin.role_granted") == []
