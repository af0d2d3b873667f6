"""How a task reads on the pages: one row of the inbox, the head of its own page, a line
of its case; and the working time it took or is overdue by."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from api.web.kit import Page
from engine import calendar, clock, texts
from engine.privacy import mask_phone
from engine.sla.planning import breached_for, task_calendar, time_taken

if TYPE_CHECKING:
    from engine.models import CaseFact, Instance, Task


def task_row(
    page: Page, task: Task, instance: Instance | None, facts: CaseFact | None
) -> dict[str, Any]:
    """Return what the pages show of a task: its name in the page's language, the case's
    facts (customer with the phone masked, project, unit), department, assignee, due
    time and working time left."""
    name = task.name
    if instance is not None:
        name = page.element_name(instance.version_id, task.element_id, task.name)
    now = clock.now()
    left = ""
    if task.due_at is not None and task.state == "open":
        cal = task_calendar(task)
        overdue = cal.between(task.due_at, now) if now > task.due_at else timedelta(0)
        remaining = cal.between(now, task.due_at)
        if task.sla_status == "breached" and overdue == timedelta(0):
            remaining = timedelta(0)  # the round says breached: never show time left
        left = texts.time_left(remaining, overdue, page.language)
    phone = (facts.phone if facts else None) or ""
    return {
        "task": task,
        "name": name,
        "assignee": page.people.get(task.assignee, task.assignee) if task.assignee else None,
        "customer_id": facts.customer_ref if facts else None,
        "business_key": (instance.business_key if instance else None) or task.instance_id[:8],
        "customer": (facts.customer_name if facts else None) or "",
        "phone": mask_phone(phone) if phone else "",
        "project_unit": " ".join(v for v in (facts.project, facts.unit) if v) if facts else "",
        "department": page.department_name(task.department),
        "time_left": left,
        "overdue": task.due_at is not None and task.state == "open" and now > task.due_at,
        "due": texts.local_time(task.due_at, calendar.timezone(), page.language),
    }


def breached_hours(task: Task) -> float | None:
    """Return the working hours a task is past its due time (None when it is not)."""
    over = breached_for(task, clock.now())
    return round(over.total_seconds() / 3600, 1) if over is not None else None


def working_time_taken(task: Task) -> timedelta | None:
    """Return how long a completed task took (the working time stored at completion)."""
    return time_taken(task)
