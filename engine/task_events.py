"""What every change of one task row does around it: lock the row, and record the
change as a history event of the task (its name, with what the change adds).

Claiming, assigning, commenting (engine/runtime.py), pausing (engine/sla/pauses.py),
chasing (engine/reminders.py) and drafts (engine/drafts.py) all use these, so a task
event always has the same shape.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.audit import PendingEvent, append_events
from engine.db import is_sqlite
from engine.identity import Actor
from engine.models import Instance, Task


def lock_task_row(session: Session, task: Task) -> None:
    """Lock the task's case and row and read the task afresh (SQLite's write transaction
    already locks). The case first, as a step does: its head takes the task's event,
    and two writers locking in the same order never deadlock."""
    stmt = select(Task).where(Task.id == task.id).execution_options(populate_existing=True)
    if not is_sqlite(session):
        session.execute(
            select(Instance.id).where(Instance.id == task.instance_id).with_for_update()
        )
        stmt = stmt.with_for_update()
    session.execute(stmt)


def task_event(
    task: Task, type_: str, actor: Actor, data: dict[str, Any], at: datetime | None = None
) -> PendingEvent:
    """Return the history event of a change of `task` (`data` beside the task's name)."""
    return PendingEvent(
        type=type_,
        actor=actor.username,
        instance_id=task.instance_id,
        task_id=task.id,
        element_id=task.element_id,
        data={"name": task.name, **data},
        at=at,
    )


def append_task_event(
    session: Session,
    task: Task,
    type_: str,
    actor: Actor,
    data: dict[str, Any],
    at: datetime | None = None,
) -> None:
    """Write the task's pending changes and append the event of that change."""
    session.flush()
    append_events(session, [task_event(task, type_, actor, data, at)])
