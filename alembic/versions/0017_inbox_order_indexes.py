"""the inbox's indexes keyed by its whole order; a department's tasks of one step; the
project filter's probe

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03

The inbox lists tasks by due time, then creation, then id. Its indexes were keyed by
due time alone, so a page had to read and sort every task sharing the due time of its
last row: on a working calendar every task opened overnight or over a weekend is due at
the same instant (the bench's 1M-task database has 5 000 tasks a due time; a
department's first page read 5 000 rows for 25). The due-ordered indexes now end with
(due_at, created_at, id). A department's tasks of one step get their own index (the step
index read every other department's tasks of it first), and the project filter's probe
of each listed task's case reads (instance_id, project) from an index alone.

Every index of the task table costs each write of a row that moves an indexed column
(the SLA sweep moves three): `ix_task_state_escalation` (state, escalation_level),
which no query has read since the escalated tab got its partial indexes (0013; zero
scans over the inbox and SLA benchmarks), is dropped, so the table keeps 17.
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_ORDER = ["due_at", "created_at", "id"]
_ESCALATED = "escalation_level > 0"
# name: (leading columns, partial condition)
_REKEYED: dict[str, tuple[list[str], str | None]] = {
    "ix_task_department_state_due": (["department", "state"], None),
    "ix_task_assignee_state_due": (["assignee", "state"], None),
    "ix_task_state_due": (["state"], None),
    "ix_task_department_state_sla_due": (["department", "state", "sla_status"], None),
    "ix_task_state_sla_due": (["state", "sla_status"], None),
    "ix_task_process_state_due": (["process_key", "state"], None),
    "ix_task_element_state_due": (["element_id", "state"], None),
    "ix_task_escalated_department": (["department", "state"], _ESCALATED),
    "ix_task_escalated": (["state"], _ESCALATED),
}


def _create(name: str, columns: list[str], where: str | None) -> None:
    from sqlalchemy import text

    options = (
        {} if where is None else {"postgresql_where": text(where), "sqlite_where": text(where)}
    )
    op.create_index(name, "task", columns, **options)


def upgrade() -> None:
    for name, (leading, where) in _REKEYED.items():
        op.drop_index(name, table_name="task")
        _create(name, [*leading, *_ORDER], where)
    _create(
        "ix_task_department_element_state_due", ["department", "element_id", "state", *_ORDER], None
    )
    op.create_index("ix_case_fact_instance_project", "case_fact", ["instance_id", "project"])
    op.drop_index("ix_task_state_escalation", table_name="task")


def downgrade() -> None:
    op.create_index("ix_task_state_escalation", "task", ["state", "escalation_level"])
    op.drop_index("ix_case_fact_instance_project", table_name="case_fact")
    op.drop_index("ix_task_department_element_state_due", table_name="task")
    for name, (leading, where) in _REKEYED.items():
        op.drop_index(name, table_name="task")
        _create(name, [*leading, "due_at"], where)
