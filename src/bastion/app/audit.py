"""The audit trail: security events stored in ``audit_events``, pruned by age.

Each event is written on a connection of its own, committed at once: the request's
own transaction may still roll back, and the record of what happened must not go
with it. ``bastion.logs.events`` catches and logs a failed write, so the user's
request carries on.
"""

import json
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import SQLAlchemyError

from bastion.app.extensions import db
from bastion.app.models import AuditEvent, utc_now
from bastion.logs.catalogue import COMMON_FIELDS
from bastion.logs.events import add_event_sink, record_event

PRUNE_BATCH_SIZE = 5000


def init_audit(app: Flask) -> None:
    """Store every audited event ``app`` records."""
    add_event_sink(app, store)


def store(entry: dict[str, object]) -> None:
    """Insert one event, committed on its own connection."""
    details = {
        key: value
        for key, value in entry.items()
        if key not in COMMON_FIELDS and key != "time"
    }
    row = {
        "created_at": entry["time"],
        "event": entry["event"],
        "outcome": entry["outcome"],
        "user_id": _user_id(entry, "user_id"),
        "target_user_id": _user_id(entry, "target_user_id"),
        "username": _cut(entry.get("username"), "username"),
        "ip_address": _cut(entry.get("ip"), "ip_address"),
        "user_agent": _cut(entry.get("user_agent"), "user_agent"),
        "request_id": _cut(entry.get("request_id"), "request_id"),
        "details": json.dumps(details, sort_keys=True, default=str),
    }
    with db.engine.begin() as connection:
        connection.execute(insert(AuditEvent), row)


def _user_id(entry: dict[str, object], key: str) -> int | None:
    value = entry.get(key)
    # An app of the toolkit's may use ids that are no integers; details keep them.
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _cut(value: object, column: str) -> str | None:
    """``value`` as text that fits ``column``: PostgreSQL refuses a longer string."""
    if value is None:
        return None
    return str(value)[: AuditEvent.__table__.c[column].type.length]


class PruneInterrupted(Exception):
    """The database failed part-way through a prune; ``deleted`` events are gone."""

    def __init__(self, deleted: int, cause: SQLAlchemyError) -> None:
        super().__init__(f"{type(cause).__name__} after deleting {deleted} event(s)")
        self.deleted = deleted


def prune(retention_days: int) -> int:
    """Delete events older than ``retention_days``; record and return how many.

    Deletes in batches, each its own transaction, so a large backlog never holds
    the database's write lock long enough to stall the audit writes of live requests.
    If a batch fails, the batches already committed are recorded before
    ``PruneInterrupted`` is raised: rows never leave the trail unaccounted for.
    """
    cutoff: datetime = utc_now() - timedelta(days=retention_days)
    deleted = 0
    finished = False
    try:
        while True:
            batch = (
                select(AuditEvent.id)
                .where(AuditEvent.created_at < cutoff)
                .limit(PRUNE_BATCH_SIZE)
                .scalar_subquery()
            )
            result = db.session.execute(
                delete(AuditEvent).where(AuditEvent.id.in_(batch))
            )
            db.session.commit()
            deleted += result.rowcount
            if result.rowcount < PRUNE_BATCH_SIZE:
                break
        finished = True
    except SQLAlchemyError as error:
        db.session.rollback()
        raise PruneInterrupted(deleted, error) from None
    finally:
        # Also when interrupted (a database error, Ctrl-C): the committed batches
        # are gone, and the trail says so.
        if finished or deleted:
            record_event(
                "admin.audit_pruned", count=deleted, retention_days=retention_days
            )
    return deleted
