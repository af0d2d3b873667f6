"""The SLA sweep: claim the open tasks whose next step is due, climb the ladder, tell people.

A round claims the open tasks whose `next_sla_at` is due by its instant — on
`ix_task_state_next_sla`, in batches, `FOR UPDATE SKIP LOCKED` — and takes
every step due by then (at risk, breached, then each escalation level) through
the ladder's rules. Each step moves `next_sla_at` past the round's instant, so
a repeated round, an earlier round or a concurrent one finds nothing more to
do: each step happens once.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from engine import clock
from engine.audit import ROUNDS_CHAIN, PendingEvent, append_events
from engine.config import get_settings
from engine.db import bulk_update, is_sqlite, unit_of_work
from engine.identity import SYSTEM
from engine.models import Task, User
from engine.notifications import NotificationBatch, Recipient
from engine.sla.ladder import SLA_POLICY, Rung, StepTaken, describe_recipients, rungs_of
from engine.sla.planning import task_calendar


@dataclass
class SweepCounts:
    warnings: int = 0
    breaches: int = 0
    escalations: int = 0

    def count(self, step: StepTaken) -> None:
        """Count one step taken."""
        if step.event_type == "sla_warning":
            self.warnings += 1
        elif step.event_type == "sla_breached":
            self.breaches += 1
        else:
            self.escalations += 1


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

    def rung(self, rung: Rung, task: Task) -> list[Recipient]:
        """The people an escalation rung reaches for this task."""
        if rung.recipients == "owning_supervisors":
            return list(self.supervisors.get(task.department, []))
        if rung.recipients.startswith("supervisors:"):
            return list(self.supervisors.get(rung.recipients.split(":", 1)[1], []))
        return list(self.executives)


def _take_due_steps(
    task: Task,
    at: datetime,
    directory: _Directory,
    events: list[PendingEvent],
    notes: NotificationBatch,
    counts: SweepCounts,
) -> None:
    """Take every SLA step of `task` due by `at`, writing events and notifications."""
    calendar = task_calendar(task)
    rungs = rungs_of(task)
    base = {
        "name": task.name,
        "department": task.department,
        "assignee": task.assignee,
        "due_at": task.due_at.isoformat() if task.due_at else None,
    }
    while task.next_sla_at is not None and task.next_sla_at <= at and task.due_at is not None:
        step_at = task.next_sla_at
        rule = SLA_POLICY.rule_for(task, step_at, rungs)
        if rule is None:  # no step left from this state: the clock stops
            task.next_sla_at = None
            break
        step = rule.take(task, step_at, rungs)
        counts.count(step)
        extra: dict[str, Any] = {}
        to_department: str | None = None
        if step.rung is None:
            recipients, to_department = directory.owners(task)
        else:
            recipients = directory.rung(step.rung, task)
            extra = {
                "level": step.rung.level,
                "ladder": task.escalation_ladder or "default",
                "recipient_group": describe_recipients(step.rung.recipients, task.department),
            }
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
                type=step.event_type,
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
            "kind": step.event_type,
            "dedup": f"{step.event_type}:{task.id}:{level}",
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
        task.next_sla_at = SLA_POLICY.next_step(task, rungs, calendar)


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


def sweep_due_steps(
    at: datetime, *, batch_size: int = 1000, threads: int | None = None
) -> SweepCounts:
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
                _take_due_steps(row, at, directory, events, notes, counts)  # type: ignore[arg-type]
            bulk_update(
                session, table, "id", [{c: getattr(row, c) for c in _CHANGED} for row in rows]
            )
            notes.write(session)
            append_events(session, events, chain=ROUNDS_CHAIN)  # last: its head is held to commit
