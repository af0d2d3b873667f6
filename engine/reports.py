"""SLA achievement per department (`GET /reports/sla`)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import access, clock
from engine import calendar as cal_mod
from engine.identity import Actor
from engine.models import Department, Task


def _empty() -> dict[str, Any]:
    return {
        "done": 0,
        "with_sla": 0,
        "on_time": 0,
        "breached": 0,
        "escalated": 0,
        "open": 0,
        "hours": [],
        "paused_seconds": 0,
        "paused_now": 0,
    }


def _task_conditions(
    since: datetime | None, until: datetime | None, process_key: str | None
) -> list[Any]:
    """The tasks (not cancelled) created in [since, until), of one process when given."""
    conditions: list[Any] = [Task.state != "cancelled"]
    if since is not None:
        conditions.append(Task.created_at >= clock.to_utc(since))
    if until is not None:
        conditions.append(Task.created_at < clock.to_utc(until))
    if process_key:
        conditions.append(Task.process_key == process_key)
    return conditions


def sla_report(
    session: Session,
    *,
    actor: Actor,
    since: datetime | None = None,
    until: datetime | None = None,
    process_key: str | None = None,
) -> dict[str, Any]:
    """Return per department, over the tasks created in [since, until): tasks done, the
    share done on time, breached, escalated, open, the median working hours to done (paused
    time left out) and the working hours the SLA clock was paused (pauses running now
    counted up to now)."""
    access.require_report_reader(actor)
    conditions = _task_conditions(since, until, process_key)
    rows = session.execute(
        select(
            Task.department,
            Task.state,
            Task.due_at,
            Task.completed_at,
            Task.sla_status,
            Task.escalation_level,
            Task.working_seconds,
            Task.paused_seconds,
            Task.paused_at,
            Task.sla_calendar,
        ).where(*conditions)
    )
    now = clock.now()
    stats: dict[str, dict[str, Any]] = defaultdict(_empty)
    for (
        department,
        state,
        due_at,
        completed_at,
        status,
        level,
        seconds,
        paused_seconds,
        paused_at,
        calendar,
    ) in rows:
        s = stats[department]
        s["paused_seconds"] += paused_seconds or 0
        if paused_at is not None and state == "open":  # the pause running now, so far
            s["paused_now"] += 1
            s["paused_seconds"] += int(
                cal_mod.get_calendar(calendar or cal_mod.STANDARD)
                .between(paused_at, now)
                .total_seconds()
            )
        if state == "completed":
            s["done"] += 1
            if due_at is not None and completed_at is not None:
                s["with_sla"] += 1
                s["on_time"] += completed_at <= due_at
            if seconds is not None:
                s["hours"].append(seconds / 3600)
        else:
            s["open"] += 1
        s["breached"] += status == "breached"
        s["escalated"] += level > 0
    items = []
    for dept in session.execute(select(Department).order_by(Department.code)).scalars():
        s = stats.get(dept.code) or _empty()
        items.append(
            {
                "department": dept.code,
                "name_zh": dept.name_zh,
                "name_en": dept.name_en,
                "tasks_done": s["done"],
                "on_time_pct": round(100 * s["on_time"] / s["with_sla"], 1)
                if s["with_sla"]
                else None,
                "breached": s["breached"],
                "escalated": s["escalated"],
                "open": s["open"],
                "median_working_hours": round(statistics.median(s["hours"]), 2)
                if s["hours"]
                else None,
                "paused_hours": round(s["paused_seconds"] / 3600, 2),
                "paused_now": s["paused_now"],
            }
        )
    return {
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "process_key": process_key,
        "items": items,
    }


def bottleneck_tasks(
    session: Session,
    *,
    actor: Actor,
    since: datetime | None = None,
    until: datetime | None = None,
    process_key: str | None = None,
    department: str | None = None,
    limit: int = 10,
) -> dict[str, Any]:
    """Return the steps that hold work up, over the tasks created in [since, until): per
    process step and department, its tasks, median working hours to done, breached,
    escalated and open — most breaches first, then the slowest — and per department the
    tasks by the highest level of the ladder they reached."""
    access.require_report_reader(actor)
    conditions = _task_conditions(since, until, process_key)
    if department:
        conditions.append(Task.department == department)
    steps: dict[tuple[str, str, str], dict[str, Any]] = {}
    levels: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for key, element, name, dept, state, status, level, seconds in session.execute(
        select(
            Task.process_key,
            Task.element_id,
            Task.name,
            Task.department,
            Task.state,
            Task.sla_status,
            Task.escalation_level,
            Task.working_seconds,
        ).where(*conditions)
    ):
        s = steps.setdefault(
            (key, element, dept),
            {"process_key": key, "element_id": element, "name": name, "department": dept}
            | {"tasks": 0, "breached": 0, "escalated": 0, "open": 0, "hours": []},
        )
        s["tasks"] += 1
        s["breached"] += status == "breached"
        s["escalated"] += level > 0
        s["open"] += state == "open"
        if state == "completed" and seconds is not None:
            s["hours"].append(seconds / 3600)
        if level > 0:
            levels[dept][level] += 1
    items = []
    for s in steps.values():
        hours = s.pop("hours")
        s["median_working_hours"] = round(statistics.median(hours), 2) if hours else None
        items.append(s)
    items.sort(key=lambda s: (-s["breached"], -(s["median_working_hours"] or 0), s["name"]))
    return {
        "steps": items[:limit],
        "escalation_levels": {d: dict(sorted(by.items())) for d, by in sorted(levels.items())},
    }
