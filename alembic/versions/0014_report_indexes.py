"""tasks by creation time and by working time

Revision ID: 0014
Revises: 0011
Create Date: 2026-12-02

The SLA report and its bottleneck steps read the tasks created in a period; without an
index on `created_at` a month of a million-task table was a scan of all of it. Their
medians, and the heat map's, read the values of the few histogram buckets the middles
fall in (engine/report_sql.py): by `working_seconds` they read those rows only.
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_task_created", "task", ["created_at"])
    op.create_index("ix_task_working", "task", ["working_seconds"])


def downgrade() -> None:
    op.drop_index("ix_task_working", table_name="task")
    op.drop_index("ix_task_created", table_name="task")
