"""Chasing a task (催办): those who watch a task over its owners — the supervisors of its
department and of the department supervising its ladder, executives, whoever it
escalated to — send its assignee (or, while nobody holds it, its department) a
reminder in words of their own. The notification names the task, the case and the
sender; the history records it."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import False_

from engine import access, clock, identity
from engine.errors import FieldProblem, InvalidData, NotFound, TaskNotOpen
from engine.identity import Actor
from engine.models import Instance, Task
from engine.notifications import NotificationBatch, Recipient
from engine.sla.ladder import escalated_to
from engine.task_events import append_task_event

REMINDER_LIMIT = 2000


@dataclass(frozen=True)
class Reminder:
    """A reminder sent: the task, the words, who sent it and to whom."""

    task: Task
    text: str
    sender: str
    recipient: str | None  # the assignee, or None when it went to the department
    to_department: str | None
    created_at: datetime


def escalated_to_actor(session: Session, actor: Actor, task_ids: Iterable[str]) -> set[str]:
    """Return which of these tasks escalated to the actor (the `escalated` scope's rule)."""
    ids, reached = set(task_ids), escalated_to(actor)
    if not ids or isinstance(reached, False_):  # no rung reaches the actor
        return set()
    return set(session.execute(select(Task.id).where(Task.id.in_(ids), reached)).scalars())


def remind_task(session: Session, *, task_id: str, text: object, actor: Actor) -> Reminder:
    """Chase an open task: notify its assignee (or department) and record it."""
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound(key="error_task_not_found", task_id=task_id)
    escalated = task.id in escalated_to_actor(session, actor, [task.id])
    access.require_remind(actor, task, escalated_to_actor=escalated)
    if not isinstance(text, str) or not text.strip():
        raise InvalidData([FieldProblem("text", key="problem_reminder_empty")])
    if len(text) > REMINDER_LIMIT:
        raise InvalidData([FieldProblem("text", key="form_too_long", params={"n": REMINDER_LIMIT})])
    if task.state != "open":
        raise TaskNotOpen(key=f"error_task_is_{task.state}")
    words = text.strip()
    now = clock.now()
    sender = identity.get_user(session, actor.username)
    sender_name = (sender.display_name if sender else None) or actor.username
    instance = session.get(Instance, task.instance_id)
    data = {
        "name": task.name,
        "case": (instance.business_key if instance else None) or task.instance_id[:8],
        "sender": actor.username,
        "sender_name": sender_name,
        "text": words,
        "department": task.department,
        "assignee": task.assignee,
        "due_at": task.due_at.isoformat() if task.due_at else None,
        "process_key": task.process_key,
    }
    dedup = f"task_reminded:{task.id}:{uuid.uuid4().hex}"
    batch = NotificationBatch()
    if task.assignee:
        holder = identity.get_user(session, task.assignee)
        batch.add(
            [Recipient(task.assignee, holder.email, holder.language)] if holder else [],
            kind="task_reminded",
            dedup=dedup,
            data=data,
            at=now,
            task_id=task.id,
            instance_id=task.instance_id,
        )
    else:
        members = [
            Recipient(u.username, u.email, u.language)
            for u in identity.active_users(session, department=task.department, roles=("staff",))
        ]
        batch.add_department(
            task.department,
            members,
            kind="task_reminded",
            dedup=dedup,
            data=data,
            at=now,
            task_id=task.id,
            instance_id=task.instance_id,
        )
    batch.write(session)
    append_task_event(
        session,
        task,
        "task_reminded",
        actor,
        {
            "text": words,
            "sender_name": sender_name,
            "to": task.assignee,
            "to_department": None if task.assignee else task.department,
        },
        now,
    )
    return Reminder(
        task=task,
        text=words,
        sender=actor.username,
        recipient=task.assignee,
        to_department=None if task.assignee else task.department,
        created_at=now,
    )
