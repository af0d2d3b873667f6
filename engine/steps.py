"""The case record across departments: every completed user task of an instance as its
own step, with what its completion submitted (CONTRACT.md "The case record across
departments").

A step's `data` is the task row's `submitted` (written once, at completion, from the
validated submission), so nothing a later step submits changes it; a task completed
before that column existed, and not backfilled, falls back to its `task_completed`
event, which always carried the same data.

Steps are ordered by their completion events (the history's sequence, kept on each task
row as `completed_seq`), which stays right when several completions share an instant (a
frozen test clock); a loop's rounds are told apart by the creation events
(`created_seq`). A completion's answer builds the record from the rows the step loaded
(`steps_of`): no read of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import HistoryEvent, Task
from engine.privacy import Masker


class Step(TypedDict):
    """One completed user task of a case, as the API shows it."""

    task_id: str
    element_id: str
    name: str
    department: str
    completed_by: str | None
    completed_at: datetime | None
    data: dict[str, Any]
    round: int


def case_steps(session: Session, instance_id: str) -> list[Step]:
    """Return every completed user task of an instance, oldest first, with its record.

    `round` tells a loop's rounds apart, per element: the first task of an element is
    round 1, and a task of that element created after an earlier one of it was
    completed starts the next round. Tasks created before any task of the current
    round was completed share it: the parallel instances of a multi-instance task (one
    proposal per department) are one round, the proposals after a rejected approval
    or a reopened case the next. (The instances of a *sequential* multi-instance task
    are created one after the other's completion, so each counts as a round.)
    """
    tasks = list(
        session.execute(
            select(Task).where(Task.instance_id == instance_id, Task.state == "completed")
        ).scalars()
    )
    return steps_of(tasks, session=session, instance_id=instance_id)


def steps_of(
    tasks: Iterable[Task], *, session: Session | None = None, instance_id: str | None = None
) -> list[Step]:
    """Return the case record of these task rows of one instance (every row of it, or
    its completed ones), as `case_steps` does. The order and the rounds come from the
    seqs of the tasks' creation and completion events kept on the rows; rows written
    without them (by a bulk copy) have them read from the history, through `session`."""
    done = [t for t in tasks if t.state == "completed"]
    created = {t.id: t.created_seq for t in done if t.created_seq is not None}
    completed = {t.id: t.completed_seq for t in done if t.completed_seq is not None}
    unstamped = len(created) < len(done) or len(completed) < len(done)
    missing = [t.id for t in done if t.submitted is None]
    fallback: dict[str, dict[str, Any]] = {}
    if unstamped or missing:
        assert session is not None and instance_id is not None, "rows need the history"
        if unstamped:
            created, completed = _event_seqs(session, instance_id)
        if missing:
            fallback = _submitted_by_events(session, instance_id, missing)

    def completion_order(task: Task) -> tuple[int, datetime | None, str]:
        return (completed.get(task.id, 0), task.completed_at, task.id)

    done.sort(key=completion_order)
    rounds = _rounds(done, created, completed)
    return [
        Step(
            task_id=t.id,
            element_id=t.element_id,
            name=t.name,
            department=t.department,
            completed_by=t.completed_by,
            completed_at=t.completed_at,
            data=dict(t.submitted if t.submitted is not None else fallback.get(t.id, {})),
            round=rounds[t.id],
        )
        for t in done
    ]


def _event_seqs(session: Session, instance_id: str) -> tuple[dict[str, int], dict[str, int]]:
    """Return the seq of each task's first creation and completion event, from the
    history (tasks written without them on their rows)."""
    created: dict[str, int] = {}
    completed: dict[str, int] = {}
    events = session.execute(
        select(HistoryEvent.task_id, HistoryEvent.type, HistoryEvent.seq)
        .where(
            HistoryEvent.instance_id == instance_id,
            HistoryEvent.type.in_(("task_created", "task_completed")),
        )
        .order_by(HistoryEvent.seq)
    )
    for task_id, type_, seq in events:
        if task_id is not None:
            (created if type_ == "task_created" else completed).setdefault(task_id, seq)
    return created, completed


def _rounds(
    tasks: list[Task], created: dict[str, int], completed: dict[str, int]
) -> dict[str, int]:
    """Return each task's round within its element (see `case_steps`)."""
    by_element: dict[str, list[Task]] = {}
    for task in tasks:
        by_element.setdefault(task.element_id, []).append(task)
    rounds: dict[str, int] = {}
    for element_tasks in by_element.values():
        element_tasks = sorted(element_tasks, key=lambda t: (created.get(t.id, 0), t.created_at))
        current, first_done = 0, None
        for task in element_tasks:
            born = created.get(task.id, 0)
            if current == 0 or (first_done is not None and born > first_done):
                current, first_done = current + 1, None
            done = completed.get(task.id)
            if done is not None and (first_done is None or done < first_done):
                first_done = done
            rounds[task.id] = current
    return rounds


def _submitted_by_events(
    session: Session, instance_id: str, task_ids: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """Return what the `task_completed` events of these tasks say they submitted."""
    found: dict[str, dict[str, Any]] = {}
    rows = session.execute(
        select(HistoryEvent.task_id, HistoryEvent.data).where(
            HistoryEvent.instance_id == instance_id,
            HistoryEvent.type == "task_completed",
            HistoryEvent.task_id.in_(list(task_ids)),
        )
    )
    for task_id, data in rows:
        variables = (data or {}).get("variables")
        if task_id is not None and isinstance(variables, dict):
            found[task_id] = variables
    return found


def masked_steps(steps: list[Step], masker: Masker | None) -> list[Step]:
    """Return the steps as someone without the need to know reads them (phones masked
    as in the case variables); unchanged when `masker` is None."""
    if masker is None:
        return steps
    return [Step(**{**step, "data": masker.variables(step["data"])}) for step in steps]


class Intake(TypedDict):
    """What the case was started with: the start form's data, by whom and when."""

    element_id: str | None
    started_by: str
    started_at: datetime
    data: dict[str, Any]


def case_intake(session: Session, instance_id: str) -> Intake | None:
    """Return the case's start record (a lead's registration notes stay readable here
    when a later step submits `notes` of its own), from its `instance_started` event."""
    event = session.execute(
        select(HistoryEvent)
        .where(HistoryEvent.instance_id == instance_id, HistoryEvent.type == "instance_started")
        .order_by(HistoryEvent.seq)
        .limit(1)
    ).scalar_one_or_none()
    if event is None:
        return None
    variables = (event.data or {}).get("variables")
    return Intake(
        element_id=event.element_id,
        started_by=event.actor,
        started_at=event.at,
        data=dict(variables) if isinstance(variables, dict) else {},
    )
