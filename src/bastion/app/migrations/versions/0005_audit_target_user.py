"""Audit events name the user an action was done to, so a user's filter finds them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "audit_events", sa.Column("target_user_id", sa.Integer(), nullable=True)
    )
    op.create_index(
        op.f("ix_audit_events_target_user_id"),
        "audit_events",
        ["target_user_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_audit_events_target_user_id"), table_name="audit_events")
    # SQLite before 3.35 cannot drop a column in place; batch mode copies the table.
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("target_user_id")
