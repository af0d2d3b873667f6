"""The task page's SLA actions: pause the clock with a reason, resume it, chase the task
(催办). Each is one engine call; a refused form shows the task page again."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlencode

from fastapi.responses import RedirectResponse

from api.web.kit import WriterPage, page_router
from api.web.task import TaskForm
from engine import reminders
from engine.errors import InvalidData
from engine.sla import pauses

router = page_router()


def _done(task_id: str, notice: str) -> RedirectResponse:
    return RedirectResponse(f"/tasks/{task_id}?{urlencode({'sla_done': notice})}", 303)


@router.post("/tasks/{task_id}/pause")
def pause(task_id: str, page: WriterPage, form: TaskForm) -> RedirectResponse:
    pauses.pause_task(
        page.session,
        task_id=task_id,
        reason=form.get("reason"),
        note=form.get("note") or None,
        actor=page.actor,
    )
    return _done(task_id, "paused_ok")


@router.post("/tasks/{task_id}/resume")
def resume(task_id: str, page: WriterPage, form: TaskForm) -> RedirectResponse:
    pauses.resume_task(page.session, task_id=task_id, actor=page.actor)
    return _done(task_id, "resumed_ok")


@router.post("/tasks/{task_id}/remind")
def remind(task_id: str, page: WriterPage, form: TaskForm) -> RedirectResponse:
    try:
        reminders.remind_task(
            page.session, task_id=task_id, text=form.get("remind_text"), actor=page.actor
        )
    except InvalidData as exc:
        # The page's field is `remind_text` (the comment box beside it is `text`).
        raise InvalidData([replace(p, field="remind_text") for p in exc.problems]) from exc
    return _done(task_id, "reminded_ok")
