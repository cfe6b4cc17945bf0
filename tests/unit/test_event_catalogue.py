"""The event catalogue: stable names, documented fields, and docs/events.md current."""

import re
from pathlib import Path

import pytest
from flask import Flask

from bastion.logs.catalogue import COMMON_FIELDS, EVENTS, render_markdown
from bastion.logs.events import init_events, pseudonym, record_event

EVENTS_DOC = Path(__file__).parents[2] / "docs" / "events.md"


def test_events_doc_is_generated_from_the_catalogue():
    """docs/events.md is current; run `make docs` after changing the catalogue."""
    assert EVENTS_DOC.read_text(encoding="utf-8") == render_markdown()


def test_every_event_is_documented():
    """Each event and each common field has a row in the document."""
    text = render_markdown()
    for event in EVENTS:
        assert f"| `{event.name}` |" in text
    for field in COMMON_FIELDS:
        assert f"| `{field}` |" in text


def test_names_are_unique_dotted_and_lower_case():
    """Names are what alerts match on: unique, lower case, dotted."""
    names = [event.name for event in EVENTS]
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[a-z]+(\.[a-z_]+)+", name) for name in names)


def test_own_fields_never_shadow_common_ones():
    """An event's own field cannot overwrite who, where or which request."""
    for event in EVENTS:
        assert not {name for name, _ in event.fields} & COMMON_FIELDS.keys()


def test_an_undeclared_field_is_a_programming_error():
    """record_event refuses a field the catalogue does not declare."""
    with pytest.raises(ValueError, match="no field"):
        record_event("auth.logout", password="x")


def test_pseudonyms_are_stable_keyed_and_case_blind():
    """The same name gives the same pseudonym; another key gives another."""
    first = pseudonym("Alice", b"k" * 32)

    assert first == pseudonym("alice", b"k" * 32)
    assert first != pseudonym("alice", b"j" * 32)
    assert re.fullmatch(r"anon:[0-9a-f]{16}", first)


def test_events_outside_a_request_have_no_address():
    """A command-line event has no IP, agent or request id, and still logs."""
    app = Flask(__name__)
    init_events(app, "k" * 40, pseudonymize=False)

    with app.app_context():
        entry = record_event("admin.role_granted", username="boss", target_user_id=3)

    assert (entry["ip"], entry["user_agent"], entry["request_id"]) == (None,) * 3
    assert (entry["username"], entry["target_user_id"]) == ("boss", 3)


def test_an_unknown_event_name_says_where_the_names_are():
    """A misspelt event name is a clear ValueError, not a bare KeyError."""
    with pytest.raises(ValueError, match="not in the event catalogue"):
        record_event("my.custom.event")
