"""The argon2 rehash at sign-in, racing a password change or another sign-in.

After the argon2 settings rise, a sign-in stores a fresh hash of the password it
checked. It must never overwrite a password change that committed since its check,
never take the changed hash as the one it checked, and never refuse a right password
because a parallel sign-in rehashed the same password first.
"""

import threading

import flask_migrate
from sqlalchemy import select

from bastion.app.extensions import db
from bastion.app.models import User, UserSession
from bastion.app.passwords import Passwords
from tests.helpers import PASSWORD, csrf_token, login, register

NEW_PASSWORD = "a brand new passphrase 4Kx9"
LOW = {"PASSWORD_HASH_MEMORY_KIB": "19456", "PASSWORD_HASH_ITERATIONS": "2"}
HIGH = {"PASSWORD_HASH_MEMORY_KIB": "20480", "PASSWORD_HASH_ITERATIONS": "2"}


def _change_password(client, old: str, new: str) -> int:
    token = csrf_token(client, "/account/password")
    response = client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": old,
            "new_password": new,
            "confirm": new,
        },
    )
    return response.status_code


def test_rehash_at_sign_in_never_undoes_a_password_change(
    build_app, database_url, monkeypatch
):
    # Before the restart: the account and the owner's session, with low argon2 costs.
    before = build_app(database_url, **LOW)
    with before.app_context():
        flask_migrate.upgrade()
    owner = before.test_client()
    register(owner, "victim")
    login(owner, "victim")

    # After the restart with higher costs: stored hashes need an update.
    after = build_app(database_url, **HIGH)
    owner_after, thief = after.test_client(), after.test_client()
    owner_after.set_cookie("session", owner.get_cookie("session").value)
    assert owner_after.get("/account").status_code == 200

    real_needs_update = Passwords.needs_update
    changes: list[int] = []

    def owner_changes_password_meanwhile(self, password_hash):
        # Called by the thief's sign-in right after it verified the OLD password.
        # The owner's change, served by another worker, commits now.
        if not changes:
            worker = threading.Thread(
                target=lambda: changes.append(
                    _change_password(owner_after, PASSWORD, NEW_PASSWORD)
                )
            )
            worker.start()
            worker.join(timeout=60)
        return real_needs_update(self, password_hash)

    monkeypatch.setattr(Passwords, "needs_update", owner_changes_password_meanwhile)
    thief_answer = login(thief, "victim", PASSWORD)
    monkeypatch.setattr(Passwords, "needs_update", real_needs_update)

    assert changes == [302], changes
    with after.app_context():
        stored = db.session.scalar(select(User.password_hash))
        rows = db.session.scalars(select(UserSession.id)).all()
        db.session.remove()
    hasher = after.extensions["passwords"]
    facts = {
        "thief_status": thief_answer.status_code,
        "thief_signed_in": thief.get("/account").status_code == 200,
        "new_password_stored": hasher.verify(stored, NEW_PASSWORD),
        "old_password_stored": hasher.verify(stored, PASSWORD),
        "sessions": len(rows),
    }
    assert facts == {
        "thief_status": 200,  # refused, as the change committed first
        "thief_signed_in": False,
        "new_password_stored": True,
        "old_password_stored": False,
        "sessions": 1,  # the owner's alone
    }, facts


def _two_apps(build_app, database_url):
    before = build_app(database_url, **LOW)
    with before.app_context():
        flask_migrate.upgrade()
    return before, build_app(database_url, **HIGH)


def test_two_simultaneous_sign_ins_after_a_cost_rise_both_succeed(
    build_app, database_url, monkeypatch
):
    from bastion.app import sessions

    before, after = _two_apps(build_app, database_url)
    register(before.test_client(), "twodevices")
    phone, laptop = after.test_client(), after.test_client()

    real_needs_update = Passwords.needs_update
    real_start = sessions.start
    laptop_at_start = threading.Event()
    phone_rehashed = threading.Event()
    answers: dict[str, int] = {}
    laptops: list[threading.Thread] = []

    def needs_update(self, password_hash):
        # The phone has checked the password against the old hash; the laptop's
        # sign-in, served by another worker, runs up to its start() meanwhile.
        if threading.current_thread() is threading.main_thread() and not laptops:
            laptops.append(
                threading.Thread(
                    target=lambda: answers.update(
                        laptop=login(laptop, "twodevices").status_code
                    )
                )
            )
            laptops[0].start()
            assert laptop_at_start.wait(timeout=60)
        return real_needs_update(self, password_hash)

    def start(user, remember, verified_hash, accepts):
        if threading.current_thread() is threading.main_thread():
            phone_rehashed.set()  # the phone's rehash has committed by now
        else:
            laptop_at_start.set()
            assert phone_rehashed.wait(timeout=60)
        return real_start(user, remember, verified_hash, accepts)

    monkeypatch.setattr(Passwords, "needs_update", needs_update)
    monkeypatch.setattr(sessions, "start", start)
    answers["phone"] = login(phone, "twodevices").status_code
    laptops[0].join(timeout=60)

    assert answers == {"phone": 302, "laptop": 302}, answers


def test_old_password_sign_in_never_adopts_the_new_hash_after_its_rehash(
    build_app, database_url, monkeypatch
):
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    before, after = _two_apps(build_app, database_url)
    owner = before.test_client()
    register(owner, "victim3")
    login(owner, "victim3")
    owner_after, thief = after.test_client(), after.test_client()
    owner_after.set_cookie("session", owner.get_cookie("session").value)

    real_needs_update = Passwords.needs_update
    armed: list[bool] = []
    changes: list[int] = []

    def needs_update(self, password_hash):
        answer = real_needs_update(self, password_hash)
        if threading.current_thread() is threading.main_thread() and answer:
            armed.append(True)  # the thief is about to store the rehash
        return answer

    def owner_changes_password_after_the_rehash(session):
        # Right after the thief's rehash committed, before anything reads the row
        # again, the owner's change (another worker) commits.
        if threading.current_thread() is threading.main_thread() and armed:
            armed.clear()
            worker = threading.Thread(
                target=lambda: changes.append(
                    _change_password(owner_after, PASSWORD, NEW_PASSWORD)
                )
            )
            worker.start()
            worker.join(timeout=60)

    monkeypatch.setattr(Passwords, "needs_update", needs_update)
    event.listen(Session, "after_commit", owner_changes_password_after_the_rehash)
    try:
        thief_answer = login(thief, "victim3", PASSWORD)
    finally:
        event.remove(Session, "after_commit", owner_changes_password_after_the_rehash)
        monkeypatch.setattr(Passwords, "needs_update", real_needs_update)

    assert changes == [302], changes
    with after.app_context():
        stored = db.session.scalar(select(User.password_hash))
        db.session.remove()
    assert after.extensions["passwords"].verify(stored, NEW_PASSWORD)
    # The old password was checked before the change committed; whatever the order,
    # the thief must end up signed out.
    facts = {
        "thief_status": thief_answer.status_code,
        "thief_signed_in": thief.get("/account").status_code == 200,
    }
    assert facts == {"thief_status": 200, "thief_signed_in": False}, facts
