"""Due times: when a new task is due and warned, and how long a task is over its time.

When a task is created its `due_at` and `warn_at` (80% of its working time)
are fixed on the calendar it runs on (the declaration's, else its department's,
else the standard one), and `next_sla_at` holds the instant of its first SLA step.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import calendar as cal_mod
from engine.models import Department, Task
from engine.sla.declarations import parse_sla

WARN_FRACTION = 0.8


@dataclass(frozen=True)
class SlaPlan:
    """The SLA a new task runs on."""

    due_at: datetime
    warn_at: datetime
    calendar: str
    ladder: str


def plan_task(
    *,
    properties: dict[str, Any],
    data: dict[str, Any],
    created_at: datetime,
    department_calendar: str | None = None,
    session: Session | None = None,
) -> SlaPlan | None:
    """Return the due and warning times of a task created at `created_at`, or None."""
    spec = parse_sla(properties)
    if spec is None:
        return None
    severity = str(data.get(spec.severity_variable) or "normal")
    name = (
        spec.calendar_by_severity.get(severity)
        or spec.calendar
        or department_calendar
        or cal_mod.STANDARD
    )
    calendar = cal_mod.get_calendar(name, session)
    due: datetime | None = None
    hours = spec.hours_by_severity.get(severity, spec.hours)
    if hours is None:
        hours = spec.hours_by_severity.get("normal")
    if spec.due_from_variable and spec.due_from_variable in data:
        due = _instant_from(data[spec.due_from_variable], calendar)
        if due is not None and due <= created_at:
            due = None  # a date in the past gives no time at all: use the default rhythm
        if due is None and spec.default_next_working_days:
            hours = spec.default_next_working_days * cal_mod.HOURS_PER_WORKING_DAY
    if due is None:
        assert hours is not None  # deploy-time validation requires a target
        due = calendar.add(created_at, hours)
    warn = calendar.add(created_at, calendar.between(created_at, due) * WARN_FRACTION)
    return SlaPlan(due_at=due, warn_at=min(warn, due), calendar=name, ladder=spec.ladder)


def _instant_from(value: Any, calendar: cal_mod.WorkingCalendar) -> datetime | None:
    """Return the due instant a variable gives: a date is due at the end of its working day."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=calendar.tz)
    if isinstance(value, date):
        return calendar.end_of_working_day(value)
    if isinstance(value, str):
        try:
            if len(value) == 10:
                return calendar.end_of_working_day(date.fromisoformat(value))
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=calendar.tz)
    return None


def first_sla_step(task: Task) -> datetime | None:
    """Return the instant of a new task's first SLA step."""
    if task.due_at is None:
        return None
    if task.warn_at is not None and task.warn_at < task.due_at:
        return task.warn_at
    return task.due_at


# The departments' calendars, per database, read once a minute at most: every new task
# asks for its department's, and they change by an admin's hand, rarely (the process
# that changes one forgets them at its commit; the others within CACHE_SECONDS, as
# with the loaded calendar years, engine/calendar.py).
_calendars: dict[str, tuple[float, dict[str, str | None]]] = {}
_calendars_lock = threading.Lock()


def department_calendar(session: Session, code: str) -> str | None:
    """Return the calendar configured for a department (None: the standard one)."""
    url = session.get_bind().engine.url.render_as_string(hide_password=False)
    now = time.monotonic()
    with _calendars_lock:
        hit = _calendars.get(url)
    if hit is None or hit[0] <= now:
        rows = session.execute(select(Department.code, Department.calendar))
        found = {department: name for department, name in rows}
        hit = (now + cal_mod.CACHE_SECONDS, found)
        with _calendars_lock:
            _calendars[url] = hit
    return hit[1].get(code)


def forget_department_calendars() -> None:
    """Read the departments' calendars anew on the next task (after a change; tests)."""
    with _calendars_lock:
        _calendars.clear()


def task_calendar(task: Task) -> cal_mod.WorkingCalendar:
    """Return the working calendar a task's SLA runs on."""
    return cal_mod.get_calendar(task.sla_calendar or cal_mod.STANDARD)


def breached_for(task: Task, at: datetime) -> timedelta | None:
    """Return the working time a breached open task has been over its due time."""
    if task.sla_status != "breached" or task.due_at is None:
        return None
    end = task.completed_at or at
    return task_calendar(task).between(task.due_at, end)


def time_taken(task: Task) -> timedelta | None:
    """Return how long a completed task took: the working time stored when it was
    completed, or the time on the clock for a task without an SLA."""
    if task.completed_at is None:
        return None
    if task.working_seconds is not None:
        return timedelta(seconds=task.working_seconds)
    return task.completed_at - task.created_at
