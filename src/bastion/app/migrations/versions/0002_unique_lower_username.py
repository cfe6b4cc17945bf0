"""Enforce case-insensitive usernames with an index on lower(username).

The first schema kept a lower-cased copy of each name with a unique constraint, which
holds only as long as every writer fills the copy in correctly. An expression index
makes the database itself refuse a second "Alice".

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SQLite rebuilds the table to drop a column; do that before the expression index
    # exists, since SQLAlchemy cannot reflect such an index into the copy.
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("uq_users_username_key", type_="unique")
        batch.drop_column("username_key")
    op.create_index(
        "uq_users_username_lower",
        "users",
        [sa.text("lower(username)")],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("uq_users_username_lower", table_name="users")
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("username_key", sa.String(length=32), nullable=True))
    op.execute("UPDATE users SET username_key = lower(username)")
    with op.batch_alter_table("users") as batch:
        batch.alter_column("username_key", existing_type=sa.String(32), nullable=False)
        batch.create_unique_constraint("uq_users_username_key", ["username_key"])
