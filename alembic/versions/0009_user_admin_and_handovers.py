"""user administration and handovers

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

`app_user.last_signin_at` is set by every successful sign-in (a page session or
a bearer token); `handover` keeps what each handover of a user's open work
moved (tasks and the cases whose assignee variable named them), so that a
holiday cover can be handed back.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE (SQLite too): a batch copy of app_user would trip its foreign keys.
    op.add_column(
        "app_user", sa.Column("last_signin_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_table(
        "handover",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("from_user", sa.String(length=80), nullable=False),
        sa.Column("to_users", sa.JSON(), nullable=False),
        sa.Column("department", sa.String(length=40), nullable=True),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("moves", sa.JSON(), nullable=False),
        sa.Column("returned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("returned_by", sa.String(length=80), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handover")),
    )
    op.create_index(op.f("ix_handover_from_user"), "handover", ["from_user"])


def downgrade() -> None:
    op.drop_index(op.f("ix_handover_from_user"), table_name="handover")
    op.drop_table("handover")
    op.execute("ALTER TABLE app_user DROP COLUMN last_signin_at")  # SQLite 3.35+ and PostgreSQL
