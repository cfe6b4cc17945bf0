"""A sign-in with the old password, racing a password change, never outlives it."""

import threading

import flask_migrate

from bastion.app import sessions
from tests.helpers import PASSWORD, csrf_token, login, register

NEW_PASSWORD = "a brand new passphrase 4Kx9"
# Long enough for an unguarded sign-in to finish; a guarded one waits for the
# password change's lock until the change commits, which the test holds back.
UNGUARDED_SIGN_IN_SECONDS = 3


def test_old_password_sign_in_during_a_change_is_refused(
    build_app, postgres_url, monkeypatch
):
    """The thief checked the old password before the change committed; whichever
    commits first, the thief ends up signed out (on PostgreSQL, where two requests
    really run at once; SQLite's write lock puts them in order)."""
    app = build_app(postgres_url)
    with app.app_context():
        flask_migrate.upgrade()
    owner, thief = app.test_client(), app.test_client()
    register(owner, "victim")
    login(owner, "victim")
    token = csrf_token(owner, "/account/password")
    real_mark_authenticated = sessions.mark_authenticated
    thief_answer: dict[str, int] = {}
    thieves: list[threading.Thread] = []

    def thief_signs_in_meanwhile(forget_remember=False):
        # The change has set the new hash and ended the other sessions, uncommitted;
        # the thief's request, in a thread as another worker would serve it, still
        # reads the old hash.
        if not thieves:
            thieves.append(
                threading.Thread(
                    target=lambda: thief_answer.update(
                        status=login(thief, "victim", PASSWORD).status_code
                    )
                )
            )
            thieves[0].start()
            thieves[0].join(timeout=UNGUARDED_SIGN_IN_SECONDS)
        return real_mark_authenticated(forget_remember)

    monkeypatch.setattr(sessions, "mark_authenticated", thief_signs_in_meanwhile)
    response = owner.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    thieves[0].join(timeout=60)

    assert response.headers["Location"] == "/account"
    # Refused as a wrong password is, once the change had committed.
    assert thief_answer["status"] == 200
    assert thief.get("/account").status_code == 302
