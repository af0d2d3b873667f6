"""audit: search keys on history events, the incremental verification's progress

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.models.base

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Events recorded before this revision keep NULL here: their hashes were made
    # without these fields, and history is never rewritten.
    with op.batch_alter_table("history_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("process_key", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("department", sa.String(length=40), nullable=True))
        batch_op.create_index("ix_history_event_process_seq", ["process_key", "seq"], unique=False)
        batch_op.create_index(
            "ix_history_event_department_seq", ["department", "seq"], unique=False
        )
        batch_op.create_index("ix_history_event_element_seq", ["element_id", "seq"], unique=False)

    audit_check = op.create_table(
        "audit_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "verified_seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("verified_hash", sa.String(length=64), nullable=False),
        sa.Column("checked_at", engine.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column(
            "first_bad_seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("problem", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_check")),
    )
    op.bulk_insert(
        audit_check, [{"id": 1, "verified_seq": 0, "verified_hash": "0" * 64, "ok": True}]
    )


def downgrade() -> None:
    op.drop_table("audit_check")
    with op.batch_alter_table("history_event", schema=None) as batch_op:
        batch_op.drop_index("ix_history_event_element_seq")
        batch_op.drop_index("ix_history_event_department_seq")
        batch_op.drop_index("ix_history_event_process_seq")
        batch_op.drop_column("department")
        batch_op.drop_column("process_key")
