"""the seqs of each task's creation and completion events on its row

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03

The case record (engine/steps.py) orders a case's steps by their completion events and
tells a loop's rounds apart by the creation events: two reads of the history on every
completion's answer. The task row now keeps both seqs, written with the row by the step
that creates or completes it; this fills them from the history for the tasks so far.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_SEQ = sa.BigInteger().with_variant(sa.Integer, "sqlite")
_task = sa.table(
    "task",
    sa.column("id", sa.String),
    sa.column("created_seq", _SEQ),
    sa.column("completed_seq", _SEQ),
)
_event = sa.table(
    "history_event",
    sa.column("seq", _SEQ),
    sa.column("type", sa.String),
    sa.column("task_id", sa.String),
)


def _first(event_type: str) -> sa.ColumnElement[int]:
    return sa.func.min(sa.case((_event.c.type == event_type, _event.c.seq)))


def upgrade() -> None:
    with op.batch_alter_table("task") as batch:
        batch.add_column(sa.Column("created_seq", _SEQ, nullable=True))
        batch.add_column(sa.Column("completed_seq", _SEQ, nullable=True))
    firsts = (  # one pass over the task events, not one lookup per task
        sa.select(
            _event.c.task_id,
            _first("task_created").label("created"),
            _first("task_completed").label("completed"),
        )
        .where(_event.c.type.in_(("task_created", "task_completed")))
        .where(_event.c.task_id.is_not(None))
        .group_by(_event.c.task_id)
        .subquery()
    )
    op.execute(
        _task.update()
        .where(_task.c.id == firsts.c.task_id)
        .values(created_seq=firsts.c.created, completed_seq=firsts.c.completed)
    )


def downgrade() -> None:
    with op.batch_alter_table("task") as batch:
        batch.drop_column("completed_seq")
        batch.drop_column("created_seq")
