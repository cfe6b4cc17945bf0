"""Typed names the database cannot hold, and statement errors that quote parameters."""

import flask_migrate
import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bastion.app.extensions import db
from tests.helpers import events, login


@pytest.mark.parametrize(
    "typed",
    ["bob\x00word", "b\u0131lly", "K\u212aelvin"],
    ids=["nul", "dotless-i", "kelvin"],
)
def test_a_name_no_account_can_have_is_refused_without_asking_the_database(
    build_app, database_url, caplog, typed
):
    """PostgreSQL refuses a NUL in text, with an error quoting it; such a name cannot
    belong to an account, so sign-in refuses it without a query and without a 500."""
    app = build_app(database_url)
    with app.app_context():
        flask_migrate.upgrade()

    response = login(app.test_client(), typed, "not the password")

    assert response.status_code == 200
    [failed] = events(caplog, "auth.login.failed")
    assert failed.reason == "unknown_user"
    assert typed.lower() not in caplog.text.lower()


def test_a_failed_statement_does_not_quote_its_parameters(build_app, database_url):
    """A statement error names the SQL but not the values bound to it, which can be
    typed names, password hashes or session tokens."""
    app = build_app(database_url)
    canary = "bound-parameter-canary-93"

    with app.app_context(), pytest.raises(SQLAlchemyError) as failure:
        db.session.execute(
            text("SELECT * FROM no_such_table WHERE name = :name"), {"name": canary}
        )

    assert "no_such_table" in str(failure.value)
    assert canary not in str(failure.value)
