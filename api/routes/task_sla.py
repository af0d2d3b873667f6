"""The SLA clock of a task paused while the case waits, resumed, and chasing a task (催办)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentActor
from api.schemas.errors import error_responses
from api.schemas.tasks import PauseTask, ReminderSent, RemindTask, TaskRead
from engine import reminders
from engine.db import unit_of_work
from engine.sla import pauses

router = APIRouter(tags=["tasks"], responses=error_responses(401))


@router.post("/tasks/{task_id}/pause", responses=error_responses(403, 404, 409, 422))
def pause_task(task_id: str, body: PauseTask, actor: CurrentActor) -> TaskRead:
    """Pause the task's SLA clock with a reason: no round warns, breaches or escalates it."""
    with unit_of_work() as session:
        task = pauses.pause_task(
            session, task_id=task_id, reason=body.reason, note=body.note, actor=actor
        )
        return TaskRead.from_task(task)


@router.post("/tasks/{task_id}/resume", responses=error_responses(403, 404, 409, 422))
def resume_task(task_id: str, actor: CurrentActor) -> TaskRead:
    """Resume the clock: the task is due later by the working time it was paused."""
    with unit_of_work() as session:
        return TaskRead.from_task(pauses.resume_task(session, task_id=task_id, actor=actor))


@router.post(
    "/tasks/{task_id}/remind", status_code=201, responses=error_responses(403, 404, 409, 422)
)
def remind_task(task_id: str, body: RemindTask, actor: CurrentActor) -> ReminderSent:
    """Chase the task: its assignee (or, while unclaimed, its department) is notified."""
    with unit_of_work() as session:
        sent = reminders.remind_task(session, task_id=task_id, text=body.text, actor=actor)
        return ReminderSent(
            task_id=sent.task.id,
            text=sent.text,
            sender=sent.sender,
            recipient=sent.recipient,
            to_department=sent.to_department,
            created_at=sent.created_at,
            task=TaskRead.from_task(sent.task),
        )
