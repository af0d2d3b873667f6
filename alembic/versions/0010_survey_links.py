"""the customer's survey links

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

`survey_link` holds each one-time link customer service gives a complainant for
their own satisfaction answer: the SHA-256 of its token (never the token), the
case, who made it, when it expires, and the answer once given.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "survey_link",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instance.id"], name=op.f("fk_survey_link_instance_id_instance")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_link")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_survey_link_token_hash")),
    )
    op.create_index(op.f("ix_survey_link_instance_id"), "survey_link", ["instance_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_survey_link_instance_id"), table_name="survey_link")
    op.drop_table("survey_link")
