"""SLA achievement per department (`GET /reports/sla`) and the bottleneck steps.

Both count in the database (engine/report_sql.py) from one grouped aggregate over the
tasks of the period (per department, step and ladder level: `sla_overview` gives the
/reports page both from one read), the medians' middle buckets in a query of their own
per grouping, and in Python only the pauses running now (each on its own calendar).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import access, clock
from engine import calendar as cal_mod
from engine.identity import Actor
from engine.models import Department, Task
from engine.report_sql import count_if, grouped_with_medians_by, tune

EMPTY = ("done", "with_sla", "on_time", "breached", "escalated", "open", "paused_seconds")
BOTTLENECK_MEASURES = ("name", "tasks", "breached", "open")


def _hours(seconds: Any) -> float:
    return float(seconds / 3600)


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


def _pauses_so_far(pauses: Any, now: datetime) -> list[tuple[str, int]]:
    """Return the department and the working seconds until `now` of each pause running
    now (department, paused_at, calendar), on its task's calendar. Each calendar walks
    the days back from now once: the pauses latest first, each one's time the next
    one's plus the working time between them."""
    by_calendar: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for department, paused_at, calendar in pauses:
        by_calendar[calendar or cal_mod.STANDARD].append((paused_at, department))
    found = []
    for name, started in by_calendar.items():
        on = cal_mod.get_calendar(name)
        so_far, edge = timedelta(0), now
        for paused_at, department in sorted(started, reverse=True):
            if paused_at < edge:
                so_far += on.between(paused_at, edge)
                edge = paused_at
            found.append((department, int(so_far.total_seconds())))
    return found


STEP_KEYS = (Task.department, Task.process_key, Task.element_id, Task.escalation_level)


def _scan(
    session: Session,
    conditions: list[Any],
    *,
    steps: bool,
    median_keys: tuple[int, ...],
    measures: tuple[str, ...] = (*BOTTLENECK_MEASURES, *EMPTY),
) -> tuple[dict[tuple[Any, ...], dict[str, Any]], dict[int, dict[tuple[Any, ...], float]]]:
    """One read of the period's tasks: the `measures` per department (per department,
    step and ladder level when `steps`), and the median working hours per department
    (width 1) and per department and step (width 3), as `median_keys` asks."""
    done = Task.state == "completed"
    measured = done & Task.due_at.is_not(None) & Task.completed_at.is_not(None)
    every = {
        "name": func.min(Task.name),
        "tasks": func.count(),
        "done": count_if(done),
        "with_sla": count_if(measured),
        "on_time": count_if(measured & (Task.completed_at <= Task.due_at)),
        "breached": count_if(Task.sla_status == "breached"),
        "escalated": count_if(Task.escalation_level > 0),
        "open": count_if(Task.state == "open"),
        "paused_seconds": func.coalesce(func.sum(Task.paused_seconds), 0),
    }
    tune(session, work_mem="64MB")  # its many groups hashed, not sorted on disk
    return grouped_with_medians_by(
        session,
        list(STEP_KEYS if steps else STEP_KEYS[:1]),
        {name: every[name] for name in dict.fromkeys(measures)},
        conditions,
        value=Task.working_seconds,
        of=done,
        scale=_hours,
        median_keys=median_keys,
    )


def _sla_items(
    session: Session,
    conditions: list[Any],
    groups: dict[tuple[Any, ...], dict[str, Any]],
    hours: dict[tuple[Any, ...], float],
) -> list[dict[str, Any]]:
    """The SLA report's rows, one per department, from the scan's groups."""
    stats: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(EMPTY, 0))
    for group, figures in groups.items():
        s = stats[group[0]]
        for name in EMPTY:
            s[name] += int(figures[name])
    paused_now: dict[str, int] = defaultdict(int)
    for department, seconds in _pauses_so_far(
        session.execute(
            select(Task.department, Task.paused_at, Task.sla_calendar).where(
                *conditions, Task.state == "open", Task.paused_at.is_not(None)
            )
        ),
        clock.now(),
    ):
        paused_now[department] += 1
        stats[department]["paused_seconds"] += seconds
    items = []
    for dept in session.execute(select(Department).order_by(Department.code)).scalars():
        s = stats.get(dept.code) or dict.fromkeys(EMPTY, 0)
        median = hours.get((dept.code,))
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
                "median_working_hours": round(median, 2) if median is not None else None,
                "paused_hours": round(int(s["paused_seconds"]) / 3600, 2),
                "paused_now": paused_now.get(dept.code, 0),
            }
        )
    return items


def _bottlenecks(
    groups: dict[tuple[Any, ...], dict[str, Any]],
    hours: dict[tuple[Any, ...], float],
    department: str | None,
    limit: int,
) -> dict[str, Any]:
    """The bottleneck steps (of one department when given) and the tasks per department
    by the highest ladder level they reached, from the scan's groups."""
    steps: dict[tuple[str, str, str], dict[str, Any]] = {}
    levels: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for (dept, key, element, level), figures in groups.items():
        if department and dept != department:
            continue
        s = steps.setdefault(
            (dept, key, element),
            {"process_key": key, "element_id": element, "name": figures["name"]}
            | {"department": dept, "tasks": 0, "breached": 0, "escalated": 0, "open": 0},
        )
        s["name"] = min(s["name"], figures["name"])
        s["tasks"] += figures["tasks"]
        s["breached"] += int(figures["breached"])
        s["open"] += int(figures["open"])
        if level > 0:
            s["escalated"] += figures["tasks"]
            levels[dept][level] += figures["tasks"]
    items = []
    for step, s in steps.items():
        median = hours.get(step)
        s["median_working_hours"] = round(median, 2) if median is not None else None
        items.append(s)
    items.sort(key=lambda s: (-s["breached"], -(s["median_working_hours"] or 0), s["name"]))
    return {
        "steps": items[:limit],
        "escalation_levels": {d: dict(sorted(by.items())) for d, by in sorted(levels.items())},
    }


def _period(
    since: datetime | None, until: datetime | None, process_key: str | None
) -> dict[str, Any]:
    return {
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "process_key": process_key,
    }


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
    groups, hours = _scan(session, conditions, steps=False, median_keys=(1,), measures=EMPTY)
    return _period(since, until, process_key) | {
        "items": _sla_items(session, conditions, groups, hours[1])
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
    if department:  # a department's rows only (the scan's groups are per department)
        conditions.append(Task.department == department)
    groups, hours = _scan(
        session, conditions, steps=True, median_keys=(3,), measures=BOTTLENECK_MEASURES
    )
    return _bottlenecks(groups, hours[3], department, limit)


def sla_overview(
    session: Session,
    *,
    actor: Actor,
    since: datetime | None = None,
    until: datetime | None = None,
    process_key: str | None = None,
    department: str | None = None,
    limit: int = 10,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return `sla_report` (every department) and `bottleneck_tasks` (of `department`
    when given) from one read of the period's tasks (the /reports page shows both)."""
    access.require_report_reader(actor)
    conditions = _task_conditions(since, until, process_key)
    groups, hours = _scan(session, conditions, steps=True, median_keys=(1, 3))
    report = _period(since, until, process_key) | {
        "items": _sla_items(session, conditions, groups, hours[1])
    }
    return report, _bottlenecks(groups, hours[3], department, limit)
