"""Pausing a task's SLA clock while the case waits (on the owner, access to the unit,
parts on order), and resuming it.

While a task is paused its `next_sla_at` is None, so no round warns, breaches or
escalates it. Resuming moves `due_at` and `warn_at` later by the working time (on
the task's calendar, by the server's clock) that passed while it was paused —
and with them every escalation step, which hangs on `due_at` — then asks the
ladder for the task's next step from the state it is in: a task paused at risk
or breached goes on from there, and no status moves backwards. The working
seconds of ended pauses add up in `paused_seconds`, which the working time of a
completed task (the SLA report) leaves out. Completing a paused task ends its
pause as a resume would.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from engine import access, clock
from engine.audit import PendingEvent, append_events
from engine.errors import (
    Conflict,
    FieldProblem,
    InvalidData,
    NotFound,
    TaskHeldByOther,
    TaskNotOpen,
)
from engine.identity import Actor
from engine.models import Task
from engine.sla.ladder import SLA_POLICY, rungs_of
from engine.sla.planning import task_calendar
from engine.task_events import append_task_event, lock_task_row, task_event

PAUSE_REASONS = ("waiting_customer", "waiting_access", "waiting_parts", "other")
NOTE_LIMIT = 2000


def pause_task(
    session: Session, *, task_id: str, reason: Any, note: Any = None, actor: Actor
) -> Task:
    """Stop the SLA clock of an open task, saying why; no round steps it while paused."""
    task = _task_to_pause(session, task_id, actor)
    reason, note = _checked(reason, note)
    lock_task_row(session, task)
    _require_open(task)
    if task.paused_at is not None:
        raise Conflict(key="error_task_already_paused")
    now = clock.now()
    task.paused_at = now
    task.paused_reason = reason
    task.paused_note = note
    task.next_sla_at = None
    append_task_event(
        session,
        task,
        "sla_paused",
        actor,
        {
            "reason": reason,
            "note": note,
            "due_at": _iso(task.due_at),
            "sla_status": task.sla_status,
            "escalation_level": task.escalation_level,
        },
        now,
    )
    return task


def resume_task(session: Session, *, task_id: str, actor: Actor) -> Task:
    """Start a paused task's clock again: it is due later by the working time it was paused."""
    task = _task_to_pause(session, task_id, actor)
    lock_task_row(session, task)
    _require_open(task)
    if task.paused_at is None:
        raise Conflict(key="error_task_not_paused")
    event = end_pause(task, now=clock.now(), actor=actor)
    session.flush()
    append_events(session, [event])
    return task


def end_pause(
    task: Task, *, now: datetime, actor: Actor, on_completion: bool = False
) -> PendingEvent:
    """End a task's pause at `now`: move its due and warning times later by the paused
    working time, count it in `paused_seconds`, and (unless it is being completed) plan
    its next SLA step again; return the `sla_resumed` event to append."""
    assert task.paused_at is not None
    calendar = task_calendar(task)
    paused_at = task.paused_at
    paused = timedelta(seconds=int(calendar.between(paused_at, now).total_seconds()))
    due_before, warn_before = task.due_at, task.warn_at
    if paused > timedelta(0):
        if task.due_at is not None:
            task.due_at = max(task.due_at, calendar.add(task.due_at, paused))
        if task.warn_at is not None:
            task.warn_at = max(task.warn_at, calendar.add(task.warn_at, paused))
    task.paused_seconds = (task.paused_seconds or 0) + int(paused.total_seconds())
    reason, note = task.paused_reason, task.paused_note
    task.paused_at = task.paused_reason = task.paused_note = None
    if not on_completion:
        task.next_sla_at = SLA_POLICY.next_step(task, rungs_of(task), calendar)
    return task_event(
        task,
        "sla_resumed",
        actor,
        {
            "reason": reason,
            "note": note,
            "paused_at": _iso(paused_at),
            "paused_working_seconds": int(paused.total_seconds()),
            "due_at_before": _iso(due_before),
            "due_at": _iso(task.due_at),
            "warn_at_before": _iso(warn_before),
            "warn_at": _iso(task.warn_at),
            "sla_status": task.sla_status,
            "escalation_level": task.escalation_level,
            "on_completion": on_completion,
        },
        now,
    )


def working_seconds_taken(task: Task, now: datetime) -> int:
    """Return the working seconds from the task's creation to `now`, paused time left out."""
    total = int(task_calendar(task).between(task.created_at, now).total_seconds())
    return max(0, total - (task.paused_seconds or 0))


def paused_working_seconds(task: Task, now: datetime) -> int:
    """Return the working seconds a task has been paused: its ended pauses and, while it
    is paused, the running one up to `now`."""
    seconds = task.paused_seconds or 0
    if task.paused_at is not None and task.state == "open":
        seconds += int(task_calendar(task).between(task.paused_at, now).total_seconds())
    return seconds


# ---------------------------------------------------------------- checks


def _task_to_pause(session: Session, task_id: str, actor: Actor) -> Task:
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound(key="error_task_not_found", task_id=task_id)
    access.require_pause(actor, task)
    if not access.can_pause(actor, task) and task.assignee is not None:
        raise TaskHeldByOther(key="error_task_claimed_by", assignee=task.assignee)
    return task


def _checked(reason: Any, note: Any) -> tuple[str, str | None]:
    problems = []
    if reason not in PAUSE_REASONS:
        problems.append(
            FieldProblem(
                "reason", key="problem_one_of", params={"values": ", ".join(PAUSE_REASONS)}
            )
        )
    if note is not None and not isinstance(note, str):
        problems.append(FieldProblem("note", key="form_string"))
    elif isinstance(note, str) and len(note) > NOTE_LIMIT:
        problems.append(FieldProblem("note", key="form_too_long", params={"n": NOTE_LIMIT}))
    if problems:
        raise InvalidData(problems)
    return str(reason), (note.strip() or None) if isinstance(note, str) else None


def _require_open(task: Task) -> None:
    if task.state != "open":
        raise TaskNotOpen(key=f"error_task_is_{task.state}")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
