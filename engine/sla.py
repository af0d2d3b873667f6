"""The SLA clock: due times declared in the BPMN, warnings, breaches and the escalation ladder.

A user task declares its SLA with spiff extension properties (literal values):

| property | meaning |
| --- | --- |
| `sla_hours` | target in working hours |
| `sla_hours_urgent` / `_high` / `_normal` | per-severity targets (the case's `severity`) |
| `sla_severity_variable` | the variable holding the severity (default `severity`) |
| `sla_calendar`, `sla_calendar_<severity>` | calendar to use (default: the department's) |
| `escalation` | the ladder: `complaint`, `lead` or `default` |
| `due_from_variable` | a date/instant variable that sets the due time once it exists |
| `default_next_working_days` | when that variable exists but is empty: N working days |

When a task is created its `due_at` and `warn_at` (80% of its working time)
are fixed, and `next_sla_at` holds the instant of its next SLA step. A round
(`sweep`) claims the open tasks whose next step is due by its instant —
on an index, in batches, `FOR UPDATE SKIP LOCKED` — and takes every step due
by then: at risk, breached, then each escalation level. Each step moves
`next_sla_at` past the round's instant, so a repeated round, an earlier round
or a concurrent one finds nothing more to do: each step happens once.
"""

from __future__ import annotations

import math
import re
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Table, and_, false, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from engine import calendar as cal_mod
from engine import clock
from engine.audit import PendingEvent, append_events
from engine.config import get_settings
from engine.db import bulk_update, is_sqlite, unit_of_work
from engine.identity import SYSTEM, Actor
from engine.models import Department, Task, User
from engine.notifications import NotificationBatch, Recipient

SEVERITIES = ("urgent", "high", "normal")
WARN_FRACTION = 0.8
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# ---------------------------------------------------------------- ladders


@dataclass(frozen=True)
class Rung:
    """One escalation level: reached `after_hours` working hours past the breach."""

    level: int
    after_hours: float
    # "owning_supervisors" | "supervisors:<department>" | "executives"
    recipients: str


LADDERS: dict[str, tuple[Rung, ...]] = {
    # CONTRACT.md: complaints climb to customer service's supervisors, then executives.
    "complaint": (
        Rung(1, 0, "owning_supervisors"),
        Rung(2, 8, "supervisors:customer_service"),
        Rung(3, 24, "executives"),
    ),
    # Leads: the owning department's supervisors, then executives.
    "lead": (Rung(1, 0, "owning_supervisors"), Rung(2, 8, "executives")),
    "default": (Rung(1, 0, "owning_supervisors"), Rung(2, 8, "executives")),
}


def describe_recipients(rule: str, department: str) -> str:
    """Return who a rung reaches, in words."""
    if rule == "owning_supervisors":
        return f"supervisors of {department}"
    if rule.startswith("supervisors:"):
        return f"supervisors of {rule.split(':', 1)[1]}"
    return "executives"


# ---------------------------------------------------------------- declaration


@dataclass(frozen=True)
class SlaSpec:
    hours: float | None
    hours_by_severity: dict[str, float]
    severity_variable: str
    ladder: str
    calendar: str | None
    calendar_by_severity: dict[str, str]
    due_from_variable: str | None
    default_next_working_days: float | None


SLA_PROPERTIES = (
    {"sla_hours", "sla_severity_variable", "sla_calendar", "escalation"}
    | {"due_from_variable", "default_next_working_days"}
    | {f"sla_hours_{s}" for s in SEVERITIES}
    | {f"sla_calendar_{s}" for s in SEVERITIES}
)


def _positive(value: str) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and 0 < number <= 10_000 else None


def sla_problems(properties: dict[str, str]) -> list[str]:
    """Return what is wrong with a task's SLA properties (deploy-time check)."""
    problems: list[str] = []
    for name in sorted(properties):
        if name.startswith("sla_") and name not in SLA_PROPERTIES:
            problems.append(
                f"unknown SLA property '{name}'; known: {', '.join(sorted(SLA_PROPERTIES))}"
            )
    for name in ["sla_hours", "default_next_working_days"] + [f"sla_hours_{s}" for s in SEVERITIES]:
        if name in properties and _positive(properties[name]) is None:
            problems.append(
                f"the SLA property '{name}' is {properties[name]!r}; give a number of working "
                "hours (days) greater than 0"
            )
    for name in ["sla_calendar"] + [f"sla_calendar_{s}" for s in SEVERITIES]:
        if name in properties and properties[name] not in cal_mod.CALENDAR_NAMES:
            problems.append(
                f"the SLA property '{name}' names the calendar {properties[name]!r}; known "
                f"calendars: {', '.join(cal_mod.CALENDAR_NAMES)}"
            )
    if "escalation" in properties and properties["escalation"] not in LADDERS:
        problems.append(
            f"the escalation ladder {properties['escalation']!r} does not exist; known: "
            f"{', '.join(LADDERS)}"
        )
    for name in ("sla_severity_variable", "due_from_variable"):
        if name in properties and not _IDENTIFIER.match(properties[name]):
            problems.append(f"the SLA property '{name}' must name a variable")
    declared = set(properties) & SLA_PROPERTIES
    has_target = "sla_hours" in properties or all(
        f"sla_hours_{s}" in properties for s in SEVERITIES
    )
    if declared and not has_target:
        problems.append(
            "an SLA needs 'sla_hours' or all of "
            + ", ".join(f"'sla_hours_{s}'" for s in SEVERITIES)
        )
    if "default_next_working_days" in properties and "due_from_variable" not in properties:
        problems.append("'default_next_working_days' needs 'due_from_variable'")
    return problems


def parse_sla(properties: dict[str, Any]) -> SlaSpec | None:
    """Return the task's SLA declaration, or None when it declares none."""
    if not set(properties) & SLA_PROPERTIES:
        return None
    days = properties.get("default_next_working_days")
    return SlaSpec(
        hours=_positive(properties["sla_hours"]) if "sla_hours" in properties else None,
        hours_by_severity={
            s: h
            for s in SEVERITIES
            if (h := _positive(properties.get(f"sla_hours_{s}", ""))) is not None
        },
        severity_variable=properties.get("sla_severity_variable") or "severity",
        ladder=properties.get("escalation") or "default",
        calendar=properties.get("sla_calendar") or None,
        calendar_by_severity={
            s: properties[f"sla_calendar_{s}"]
            for s in SEVERITIES
            if properties.get(f"sla_calendar_{s}")
        },
        due_from_variable=properties.get("due_from_variable") or None,
        default_next_working_days=_positive(days) if days else None,
    )


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


def task_calendar(task: Task) -> cal_mod.WorkingCalendar:
    return cal_mod.get_calendar(task.sla_calendar or cal_mod.STANDARD)


def breached_for(task: Task, at: datetime) -> timedelta | None:
    """Return the working time a breached open task has been over its due time."""
    if task.sla_status != "breached" or task.due_at is None:
        return None
    end = task.completed_at or at
    return task_calendar(task).between(task.due_at, end)


# ---------------------------------------------------------------- who sees escalations


def escalated_to(actor: Actor) -> ColumnElement[bool]:
    """Return the condition selecting the tasks that escalated to `actor`."""
    conditions: list[ColumnElement[bool]] = []
    for name, rungs in LADDERS.items():
        ladder_is = (
            or_(Task.escalation_ladder == name, Task.escalation_ladder.is_(None))
            if name == "default"
            else Task.escalation_ladder == name
        )
        for rung in rungs:
            reached = and_(ladder_is, Task.escalation_level >= rung.level)
            if rung.recipients == "owning_supervisors":
                if actor.has("supervisor") and actor.department:
                    conditions.append(and_(reached, Task.department == actor.department))
            elif rung.recipients.startswith("supervisors:"):
                department = rung.recipients.split(":", 1)[1]
                if actor.has("supervisor") and actor.department == department:
                    conditions.append(reached)
            elif rung.recipients == "executives" and actor.has("executive"):
                conditions.append(reached)
    return or_(*conditions) if conditions else false()


# ---------------------------------------------------------------- the sweep


@dataclass
class SweepCounts:
    warnings: int = 0
    breaches: int = 0
    escalations: int = 0


@dataclass
class _Directory:
    """The active users of the organisation, read once per batch."""

    members: dict[str, list[Recipient]] = field(default_factory=lambda: defaultdict(list))
    supervisors: dict[str, list[Recipient]] = field(default_factory=lambda: defaultdict(list))
    executives: list[Recipient] = field(default_factory=list)
    by_name: dict[str, Recipient] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session) -> _Directory:
        directory = cls()
        for user in session.execute(select(User).where(User.is_active.is_(True))).scalars():
            who = Recipient(user.username, user.email, user.language)
            directory.by_name[user.username] = who
            roles = user.role_names
            if user.department_code and "staff" in roles:
                directory.members[user.department_code].append(who)
            if user.department_code and "supervisor" in roles:
                directory.supervisors[user.department_code].append(who)
            if "executive" in roles:
                directory.executives.append(who)
        return directory

    def owners(self, task: Task) -> tuple[list[Recipient], str | None]:
        """The assignee, or the department's staff (and the department) when nobody
        holds the task."""
        if task.assignee:
            who = self.by_name.get(task.assignee)
            return ([who] if who else []), None
        return list(self.members.get(task.department, [])), task.department

    def rung(self, rule: str, task: Task) -> list[Recipient]:
        if rule == "owning_supervisors":
            return list(self.supervisors.get(task.department, []))
        if rule.startswith("supervisors:"):
            return list(self.supervisors.get(rule.split(":", 1)[1], []))
        return list(self.executives)


def _next_step(task: Task, calendar: cal_mod.WorkingCalendar) -> datetime | None:
    if task.due_at is None:
        return None
    if task.sla_status == "on_track" and task.warn_at is not None and task.warn_at < task.due_at:
        return task.warn_at
    if task.sla_status != "breached":
        return task.due_at
    rungs = LADDERS.get(task.escalation_ladder or "default", LADDERS["default"])
    if task.escalation_level >= len(rungs):
        return None
    rung = rungs[task.escalation_level]
    return task.due_at if rung.after_hours == 0 else calendar.add(task.due_at, rung.after_hours)


def _advance(
    task: Task,
    at: datetime,
    directory: _Directory,
    events: list[PendingEvent],
    notes: NotificationBatch,
    counts: SweepCounts,
) -> None:
    """Take every SLA step of `task` due by `at`, writing events and notifications."""
    calendar = task_calendar(task)
    rungs = LADDERS.get(task.escalation_ladder or "default", LADDERS["default"])
    base = {
        "name": task.name,
        "department": task.department,
        "assignee": task.assignee,
        "due_at": task.due_at.isoformat() if task.due_at else None,
    }
    while task.next_sla_at is not None and task.next_sla_at <= at and task.due_at is not None:
        step_at = task.next_sla_at
        extra: dict[str, Any] = {}
        to_department: str | None = None
        if task.sla_status == "on_track" and task.warn_at is not None and step_at < task.due_at:
            task.sla_status = "at_risk"
            kind = "sla_warning"
            recipients, to_department = directory.owners(task)
            counts.warnings += 1
        elif task.sla_status != "breached":
            task.sla_status = "breached"
            kind = "sla_breached"
            recipients, to_department = directory.owners(task)
            counts.breaches += 1
        else:
            rung = rungs[task.escalation_level]
            task.escalation_level = rung.level
            task.escalated_at = step_at
            recipients = directory.rung(rung.recipients, task)
            kind = "task_escalated"
            extra = {
                "level": rung.level,
                "ladder": task.escalation_ladder or "default",
                "recipient_group": describe_recipients(rung.recipients, task.department),
            }
            counts.escalations += 1
        data = {
            **base,
            **extra,
            "step_at": step_at.isoformat(),
            "recipients": [r.username for r in recipients],
        }
        if to_department:
            data["to_department"] = to_department
        events.append(
            PendingEvent(
                type=kind,
                actor=SYSTEM.username,
                instance_id=task.instance_id,
                task_id=task.id,
                element_id=task.element_id,
                data=data,
                at=at,
                process_key=task.process_key,
                department=task.department,
            )
        )
        level = extra.get("level", 0)
        note: dict[str, Any] = {
            "kind": kind,
            "dedup": f"{kind}:{task.id}:{level}",
            "task_id": task.id,
            "instance_id": task.instance_id,
            # what the notification shows; the event holds the rest
            "data": {**base, "level": level, "process_key": task.process_key},
            "at": at,
        }
        if to_department:
            notes.add_department(to_department, recipients, **note)
        else:
            notes.add(recipients, **note)
        task.next_sla_at = _next_step(task, calendar)


_SWEEP_COLUMNS = (
    "id",
    "instance_id",
    "process_key",
    "element_id",
    "name",
    "department",
    "assignee",
    "due_at",
    "warn_at",
    "sla_status",
    "escalation_level",
    "escalation_ladder",
    "sla_calendar",
    "next_sla_at",
    "escalated_at",
)
_CHANGED = ("id", "sla_status", "escalation_level", "escalated_at", "next_sla_at")


class _SlaRow:
    """The SLA columns of one claimed task (plain attributes, no ORM bookkeeping)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def sweep(at: datetime, *, batch_size: int = 1000, threads: int | None = None) -> SweepCounts:
    """Take every SLA step due by `at`: batches of claimed rows, one transaction each.

    Each batch is one claiming SELECT on `ix_task_state_next_sla`, then one bulk
    UPDATE of the tasks, one bulk INSERT of notifications and one of events. On
    PostgreSQL `threads` connections (default FLOWDESK_SWEEP_THREADS, 2) claim
    batches side by side; SKIP LOCKED keeps them apart.
    """
    counts = SweepCounts()
    with unit_of_work(write=False) as probe:
        sqlite = is_sqlite(probe)
    workers = 1 if sqlite else max(1, threads or get_settings().sweep_threads)
    if workers == 1:
        _sweep_batches(at, batch_size, counts)
        return counts
    lock = threading.Lock()
    now = clock.now()  # the caller's clock (frozen by `tick --at`) for the helper threads

    def run() -> None:
        mine = SweepCounts()
        with clock.frozen_at(now):
            _sweep_batches(at, batch_size, mine)
        with lock:
            counts.warnings += mine.warnings
            counts.breaches += mine.breaches
            counts.escalations += mine.escalations

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="flowdesk-sla") as pool:
        for future in [pool.submit(run) for _ in range(workers)]:
            future.result()
    return counts


def _sweep_batches(at: datetime, batch_size: int, counts: SweepCounts) -> None:
    table = Task.__table__
    assert isinstance(table, Table)
    columns = [table.c[name] for name in _SWEEP_COLUMNS]
    while True:
        with unit_of_work() as session:
            stmt = (
                select(*columns)
                .where(Task.state == "open", Task.next_sla_at <= at)
                # index order only (no tie-break column): no sort of a large due group
                .order_by(Task.next_sla_at)
                .limit(batch_size)
            )
            if not is_sqlite(session):
                stmt = stmt.with_for_update(skip_locked=True)
            rows = [_SlaRow(dict(r._mapping)) for r in session.execute(stmt)]
            if not rows:
                return
            directory = _Directory.load(session)
            events: list[PendingEvent] = []
            notes = NotificationBatch()
            for row in rows:
                _advance(row, at, directory, events, notes, counts)  # type: ignore[arg-type]
            bulk_update(
                session, table, "id", [{c: getattr(row, c) for c in _CHANGED} for row in rows]
            )
            notes.write(session)
            append_events(session, events)  # last: the chain head lock is held until commit


def department_calendar(session: Session, code: str) -> str | None:
    """Return the calendar configured for a department (None: the standard one)."""
    department = session.get(Department, code)
    return department.calendar if department is not None else None
