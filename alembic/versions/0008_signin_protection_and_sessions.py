"""sign-in protection and server-side sessions

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

`signin_attempt` keeps the failed sign-ins of the last 15 minutes per username
and client address (the throttle, shared by every API process);
`user_session` is the server's record of each page session, which signing out,
a new password or a deactivation revokes; `app_user.session_epoch` is raised by
a new password, and bearer tokens of an older epoch are refused.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signin_attempt",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signin_attempt")),
    )
    op.create_index(
        "ix_signin_attempt_username_address_at",
        "signin_attempt",
        ["username", "address", "at"],
    )
    op.create_index(op.f("ix_signin_attempt_at"), "signin_attempt", ["at"])
    op.create_table(
        "user_session",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_user_session_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_session")),
    )
    op.create_index(op.f("ix_user_session_user_id"), "user_session", ["user_id"])
    # Plain ALTER TABLE (SQLite too): a batch copy of app_user would trip its foreign keys.
    op.add_column(
        "app_user", sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0")
    )


def downgrade() -> None:
    op.execute("ALTER TABLE app_user DROP COLUMN session_epoch")  # SQLite 3.35+ and PostgreSQL
    op.drop_index(op.f("ix_user_session_user_id"), table_name="user_session")
    op.drop_table("user_session")
    op.drop_index(op.f("ix_signin_attempt_at"), table_name="signin_attempt")
    op.drop_index("ix_signin_attempt_username_address_at", table_name="signin_attempt")
    op.drop_table("signin_attempt")
