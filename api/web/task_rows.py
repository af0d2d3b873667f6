"""How a task reads on the pages: one row of the inbox, the head of its own page, a line
of its case; and the working time it took or is overdue by."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from api.web.kit import Page, case_number
from engine import access, calendar, clock, reminders, texts
from engine.privacy import mask_phone, phones_whole_in
from engine.sla import pauses
from engine.sla.planning import breached_for, task_calendar, time_taken

if TYPE_CHECKING:
    from engine.models import CaseFact, Instance, Task


def remember_phone_visibility(page: Page, instance_ids: Iterable[str]) -> None:
    """Decide at once, for the rows of a list, which cases' phones the reader sees whole."""
    known: dict[str, bool] | None = getattr(page.request.state, "phones_whole", None)
    if known is None:
        known = page.request.state.phones_whole = {}
    wanted = set(instance_ids) - set(known)
    whole = phones_whole_in(page.session, actor=page.actor, instance_ids=wanted)
    known.update({instance_id: instance_id in whole for instance_id in wanted})


def shown_phone(page: Page, instance_id: str, phone: str | None) -> str:
    """Return a case's phone number as the reader may see it (whole or 138****5678)."""
    if not phone:
        return ""
    remember_phone_visibility(page, {instance_id})
    return phone if page.request.state.phones_whole[instance_id] else mask_phone(phone)


def task_row(
    page: Page,
    task: Task,
    instance: Instance | None,
    facts: CaseFact | None,
    *,
    escalated_to_actor: bool | None = None,
) -> dict[str, Any]:
    """Return what the pages show of a task: its name in the page's language, the case's
    facts (customer, phone whole for those working the case and masked for others,
    project, unit), department, assignee, due
    time and working time left (as at the pause while its clock is paused), and the row
    actions the reader may take (`escalated_to_actor`: known already, else looked up)."""
    name = task.name
    if instance is not None:
        name = page.element_name(instance.version_id, task.element_id, task.name)
    paused = task.paused_at is not None and task.state == "open"
    # A paused clock stands still: the time left is the time left at the pause.
    now = task.paused_at if paused and task.paused_at is not None else clock.now()
    left = ""
    if task.due_at is not None and task.state == "open":
        cal = task_calendar(task)
        overdue = cal.between(task.due_at, now) if now > task.due_at else timedelta(0)
        remaining = cal.between(now, task.due_at)
        if task.sla_status == "breached" and overdue == timedelta(0):
            remaining = timedelta(0)  # the round says breached: never show time left
        left = texts.time_left(remaining, overdue, page.language)
        if paused:
            left = page.t("paused_time_left", span=left)
    return {
        "task": task,
        "name": name,
        "assignee": page.people.get(task.assignee, task.assignee) if task.assignee else None,
        "customer_id": facts.customer_ref if facts else None,
        "business_key": case_number(
            page, instance.business_key if instance else None, task.instance_id
        ),
        "customer": (facts.customer_name if facts else None) or "",
        "phone": shown_phone(page, task.instance_id, facts.phone if facts else None),
        "project_unit": " ".join(v for v in (facts.project, facts.unit) if v) if facts else "",
        "department": page.department_name(task.department),
        "time_left": left,
        "overdue": task.due_at is not None and task.state == "open" and now > task.due_at,
        "due": texts.local_time(task.due_at, calendar.timezone(), page.language),
        "paused": paused,
        "paused_text": paused_text(page, task) if paused else "",
        "can_claim": access.can_claim(page.actor, task),
        "can_remind": can_remind(page, task, escalated_to_actor),
    }


def paused_text(page: Page, task: Task) -> str:
    """'已暂停（等待客户，自 2026-11-27 17:00）': why and since when a task's clock stands."""
    return page.t(
        "paused_since",
        reason=page.t(f"pause_reason_{task.paused_reason}"),
        since=texts.local_time(task.paused_at, calendar.timezone(), page.language),
    )


def can_remind(page: Page, task: Task, escalated_to_actor: bool | None = None) -> bool:
    """Tell whether the reader may chase this open task (the escalation looked up only
    when their role alone does not allow it)."""
    if task.state != "open":
        return False
    if access.can_remind(page.actor, task):
        return True
    if escalated_to_actor is None:
        escalated_to_actor = task.id in reminders.escalated_to_actor(
            page.session, page.actor, [task.id]
        )
    return access.can_remind(page.actor, task, escalated_to_actor=escalated_to_actor)


def sla_actions(page: Page, task: Task) -> dict[str, Any]:
    """What the task page offers about the SLA clock and chasing: pause with a reason,
    resume, 催办 — only what the engine will accept from the reader."""
    return {
        "open": task.state == "open",
        "paused": task.paused_at is not None,
        "paused_text": paused_text(page, task) if task.paused_at is not None else "",
        "can_pause": task.state == "open" and access.can_pause(page.actor, task),
        "can_remind": can_remind(page, task),
        "reasons": [(r, page.t(f"pause_reason_{r}")) for r in pauses.PAUSE_REASONS],
    }


def breached_hours(task: Task) -> float | None:
    """Return the working hours a task is past its due time (None when it is not)."""
    over = breached_for(task, task.paused_at or clock.now())  # a paused clock stands still
    return round(over.total_seconds() / 3600, 1) if over is not None else None


def working_time_taken(task: Task) -> timedelta | None:
    """Return how long a completed task took (the working time stored at completion)."""
    return time_taken(task)
