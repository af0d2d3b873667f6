"""the done tasks' indexes leave out the open tasks, the assignee's the unclaimed ones

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03

An update of a task row that moves an indexed column writes a new entry in every
index of the table, unless an index is partial and the new row falls outside it. The
SLA sweep moves three indexed columns of open tasks (its `UPDATE` was the largest part
of a round at a million open tasks), and a completion inserts its next open task. Two
indexes serve only tasks that are done: the completions of a period
(`ix_task_state_completed`, read with a bound on `completed_at`) and the values of the
working-time medians (`ix_task_working`, read with `working_seconds IS NOT NULL`).
Both now hold only the rows where that column is set, which an open task never has, so
neither write pays for them. Likewise the "mine" index (`ix_task_assignee_state_due`,
read with `assignee = :me`) leaves out the tasks nobody holds: a department queue's
tasks (most open tasks; a new task starts there) cost it nothing either.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# name: (columns, the column an open task leaves empty)
_PARTIAL: dict[str, tuple[list[str], str]] = {
    "ix_task_state_completed": (["state", "completed_at"], "completed_at"),
    "ix_task_working": (["working_seconds"], "working_seconds"),
    "ix_task_assignee_state_due": (
        ["assignee", "state", "due_at", "created_at", "id"],
        "assignee",
    ),
}


def upgrade() -> None:
    for name, (columns, column) in _PARTIAL.items():
        where = text(f"{column} IS NOT NULL")
        op.drop_index(name, table_name="task")
        op.create_index(name, "task", columns, postgresql_where=where, sqlite_where=where)


def downgrade() -> None:
    for name, (columns, _column) in _PARTIAL.items():
        op.drop_index(name, table_name="task")
        op.create_index(name, "task", columns)
