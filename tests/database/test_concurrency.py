"""Simultaneous registrations of one name create one account and never a 5xx."""

import threading

import flask_migrate
from sqlalchemy import func, select

from bastion.app.extensions import db
from bastion.app.models import User
from tests.helpers import PASSWORD, csrf_token

RACERS = 50


def _register_all_at_once(app, usernames: list[str]) -> list[tuple[int, str]]:
    clients = [app.test_client() for _ in usernames]
    tokens = [csrf_token(client, "/register") for client in clients]
    start = threading.Barrier(len(usernames))
    results: list[tuple[int, str]] = [(0, "")] * len(usernames)

    def race(index: int) -> None:
        start.wait()
        response = clients[index].post(
            "/register",
            data={
                "csrf_token": tokens[index],
                "username": usernames[index],
                "password": PASSWORD,
                "confirm": PASSWORD,
            },
        )
        results[index] = (response.status_code, response.get_data(as_text=True))

    threads = [threading.Thread(target=race, args=(i,)) for i in range(len(usernames))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_fifty_registrations_of_one_name_make_one_account(build_app, database_url):
    """50 racing sign-ups for one name in different cases: one account, no 5xx."""
    app = build_app(database_url, DB_POOL_SIZE="20")
    with app.app_context():
        flask_migrate.upgrade()
    variants = ["racer", "Racer", "RACER", "rAcEr", "raCER"]
    usernames = [variants[i % len(variants)] for i in range(RACERS)]

    results = _register_all_at_once(app, usernames)

    statuses = [status for status, _ in results]
    assert all(status < 500 for status in statuses), statuses
    assert statuses.count(302) == 1
    refused = [page for status, page in results if status == 200]
    assert len(refused) == RACERS - 1
    assert all("That username is taken" in page for page in refused)
    with app.app_context():
        count = db.session.scalar(
            select(func.count())
            .select_from(User)
            .where(func.lower(User.username) == "racer")
        )
    assert count == 1


def test_database_refuses_a_second_name_in_another_case(build_app, database_url):
    """The unique index itself refuses "ALICE" after "alice", whatever code writes."""
    import pytest
    from sqlalchemy.exc import IntegrityError

    app = build_app(database_url)
    with app.app_context():
        flask_migrate.upgrade()
        db.session.add(User(username="alice", password_hash="x"))
        db.session.commit()
        db.session.add(User(username="ALICE", password_hash="x"))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
