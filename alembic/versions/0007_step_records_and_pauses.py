"""step records and SLA pauses: what each completion submitted, and the paused clock

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

Every completed task keeps what its completion submitted (`task.submitted`), so
a later step cannot overwrite an earlier department's work; tasks completed
before this revision get theirs from their `task_completed` event, which
already carried the submitted variables (no event is rewritten). A task's SLA
clock can be paused: `paused_at`, `paused_reason`, `paused_note`, and the
working seconds of the pauses already ended (`paused_seconds`).
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.add_column(sa.Column("submitted", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("paused_reason", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("paused_note", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("paused_seconds", sa.Integer(), nullable=False, server_default="0")
        )
    _backfill_submissions()


def _backfill_submissions() -> None:
    """Copy each completed task's submitted variables from its `task_completed` event."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT task_id, data FROM history_event WHERE type = 'task_completed'")
    )
    value = ":submitted" if bind.dialect.name == "sqlite" else "CAST(:submitted AS JSON)"
    update = sa.text(f"UPDATE task SET submitted = {value} WHERE id = :task_id")
    for task_id, data in rows.fetchall():
        if task_id is None:
            continue
        if isinstance(data, str):
            data = json.loads(data)
        variables = (data or {}).get("variables")
        if isinstance(variables, dict):
            bind.execute(update, {"task_id": task_id, "submitted": json.dumps(variables)})


def downgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_column("paused_seconds")
        batch_op.drop_column("paused_note")
        batch_op.drop_column("paused_reason")
        batch_op.drop_column("paused_at")
        batch_op.drop_column("submitted")
