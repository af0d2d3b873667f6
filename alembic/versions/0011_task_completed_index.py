"""completed tasks by time

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02

The scorecards and the reports read the tasks completed in a period; without an
index on (state, completed_at) that was a scan of the whole task table.
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_task_state_completed", "task", ["state", "completed_at"])


def downgrade() -> None:
    op.drop_index("ix_task_state_completed", table_name="task")
