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
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Table, literal, literal_column, select, text
from sqlalchemy.orm import Session

from engine import clock
from engine.audit import ROUNDS_CHAIN, PendingEvent, append_events
from engine.calendar import STANDARD, WorkingCalendar, get_calendar
from engine.config import get_settings
from engine.db import bulk_update, get_engine, rows_json, single_statement_engine, unit_of_work
from engine.gc_pause import collector_paused
from engine.identity import SYSTEM
from engine.models import Task, User, UserRole
from engine.notifications import NotificationBatch, Recipient
from engine.sla.ladder import (
    SLA_POLICY,
    AddsWorkingTime,
    Rung,
    StepTaken,
    describe_recipients,
    rungs_of,
)


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
    """The active users of the organisation, read once per sweep."""

    members: dict[str, list[Recipient]] = field(default_factory=lambda: defaultdict(list))
    supervisors: dict[str, list[Recipient]] = field(default_factory=lambda: defaultdict(list))
    executives: list[Recipient] = field(default_factory=list)
    by_name: dict[str, Recipient] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session) -> _Directory:
        """Read the active users and their roles in one statement, in user order."""
        directory = cls()
        users: dict[int, tuple[Recipient, str | None, set[str]]] = {}
        rows = session.execute(
            select(User.id, User.username, User.email, User.language, User.department_code)
            .add_columns(UserRole.role)
            .outerjoin(UserRole, UserRole.user_id == User.id)
            .where(User.is_active.is_(True))
            .order_by(User.id)
        )
        for user_id, username, email, language, department, role in rows:
            if user_id not in users:
                users[user_id] = (Recipient(username, email, language), department, set())
            if role is not None:
                users[user_id][2].add(role)
        for who, department, roles in users.values():
            directory.by_name[who.username] = who
            if department and "staff" in roles:
                directory.members[department].append(who)
            if department and "supervisor" in roles:
                directory.supervisors[department].append(who)
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


class _Calendars:
    """The working calendars of one sweep, each built once and only when a step needs
    working-time arithmetic (an escalation rung some hours after the breach)."""

    def __init__(self) -> None:
        self._built: dict[str, WorkingCalendar] = {}
        self._lazy: dict[str, _LazyCalendar] = {}

    def of(self, task: Task) -> AddsWorkingTime:
        """The calendar the task's SLA runs on, resolved at its first use."""
        name = task.sla_calendar or STANDARD
        lazy = self._lazy.get(name)
        if lazy is None:
            lazy = self._lazy[name] = _LazyCalendar(self, name)
        return lazy

    def get(self, name: str) -> WorkingCalendar:
        """The named calendar, built on first use."""
        found = self._built.get(name)
        if found is None:
            found = self._built.setdefault(name, get_calendar(name))
        return found


class _LazyCalendar:
    def __init__(self, calendars: _Calendars, name: str) -> None:
        self._calendars, self._name = calendars, name

    def add(self, start: datetime, amount: float) -> datetime:
        """Add working hours on the task's calendar."""
        return self._calendars.get(self._name).add(start, amount)


def _take_due_steps(
    task: Task,
    at: datetime,
    directory: _Directory,
    events: list[PendingEvent],
    notes: NotificationBatch,
    counts: SweepCounts,
    calendars: _Calendars,
) -> None:
    """Take every SLA step of `task` due by `at`, writing events and notifications."""
    calendar = calendars.of(task)
    rungs = rungs_of(task)
    base = {
        "name": task.name,
        "department": task.department,
        "assignee": task.assignee,
        "due_at": _iso(task.due_at) if task.due_at else None,
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
            "step_at": _iso(step_at),
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


def _iso(value: datetime) -> str:
    """`value.isoformat()`: remembered for the UTC times the task rows give (the due
    times of many tasks are the same few instants)."""
    return clock.utc_text(value) if value.tzinfo is UTC else value.isoformat()


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
    UPDATE of the tasks, one bulk INSERT of notifications and one of events. A read
    outside any transaction asks first whether anything is due, so that an idle round
    costs one indexed query. The first batch runs on the calling thread; when it was
    full, on PostgreSQL `threads` connections (default FLOWDESK_SWEEP_THREADS, 2)
    claim the rest side by side, SKIP LOCKED keeping them apart. The directory of
    users and the calendars are read once per sweep.
    """
    counts = SweepCounts()
    sweep = _Sweep(at, batch_size)
    if not sweep.anything_due():
        return counts  # an idle round: one read, no transaction
    if sweep.batch(counts) < batch_size:
        return counts
    sqlite = get_engine().dialect.name == "sqlite"
    workers = 1 if sqlite else max(1, threads or get_settings().sweep_threads)
    if workers == 1:
        sweep.run(counts)
        return counts
    lock = threading.Lock()
    now = clock.now()  # the caller's clock (frozen by `tick --at`) for the helper threads

    def run() -> None:
        mine = SweepCounts()
        with clock.frozen_at(now):
            sweep.run(mine)
        with lock:
            counts.warnings += mine.warnings
            counts.breaches += mine.breaches
            counts.escalations += mine.escalations

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="flowdesk-sla") as pool:
        for future in [pool.submit(run) for _ in range(workers)]:
            future.result()
    return counts


class _Sweep:
    """One sweep's claiming statement, directory and calendars, shared by its threads."""

    def __init__(self, at: datetime, batch_size: int) -> None:
        table = Task.__table__
        assert isinstance(table, Table)
        self.table = table
        self.at = at
        self.batch_size = batch_size
        self.sqlite = get_engine().dialect.name == "sqlite"
        claim = (
            select(*[table.c[name] for name in _SWEEP_COLUMNS])
            .where(Task.state == "open", Task.next_sla_at <= at)
            # index order only (no tie-break column): no sort of a large due group
            .order_by(Task.next_sla_at)
            .limit(batch_size)
        )
        self.names: tuple[str, ...] = _SWEEP_COLUMNS
        if not self.sqlite:
            # where each locked row lies: the batch's UPDATE goes straight there
            claim = claim.add_columns(literal_column("task.ctid").label("tid"))
            claim = claim.with_for_update(skip_locked=True)
            self.names += ("tid",)
        self.claim = claim
        self.probe = select(literal(1)).where(Task.state == "open", Task.next_sla_at <= at).limit(1)
        self.calendars = _Calendars()
        self._directory: _Directory | None = None
        self._lock = threading.Lock()

    def anything_due(self) -> bool:
        """Whether any open task has a step due: one indexed read outside any transaction
        (no BEGIN/COMMIT round trips when nothing is due, one more read when something is)."""
        with single_statement_engine().connect() as conn:
            return conn.execute(self.probe).first() is not None

    def directory(self, session: Session) -> _Directory:
        """The users, read by the first batch that has steps to take."""
        with self._lock:
            if self._directory is None:
                self._directory = _Directory.load(session)
            return self._directory

    def run(self, counts: SweepCounts) -> None:
        """Claim and step batches until none is left."""
        while self.batch(counts):
            pass

    def batch(self, counts: SweepCounts) -> int:
        """Claim one batch of due tasks and take their steps; return how many were claimed."""
        with collector_paused(), unit_of_work() as session:
            names = self.names
            rows = [
                _SlaRow(dict(zip(names, r, strict=True)))
                for r in session.connection().execute(self.claim)
            ]
            if not rows:
                return 0
            directory = self.directory(session)
            events: list[PendingEvent] = []
            notes = NotificationBatch()
            for row in rows:
                _take_due_steps(row, self.at, directory, events, notes, counts, self.calendars)  # type: ignore[arg-type]
            self._write_steps(session, rows)
            notes.write(session)
            append_events(session, events, chain=ROUNDS_CHAIN)  # last: its head is held to commit
        return len(rows)

    def _write_steps(self, session: Session, rows: list[_SlaRow]) -> None:
        """Write the batch's SLA columns back: on PostgreSQL one UPDATE that finds each
        row by its place (the rows are locked, so it cannot move), not by the key's index."""
        changed = [{c: getattr(row, c) for c in _CHANGED} for row in rows]
        if self.sqlite:
            bulk_update(session, self.table, "id", changed)
            return
        for values, row in zip(changed, rows, strict=True):
            values["tid"] = getattr(row, "tid")  # noqa: B009 - set from the claim's columns
        dialect = session.get_bind().dialect
        spec = ", ".join(
            ["tid tid"] + [f"{c} {self.table.c[c].type.compile(dialect=dialect)}" for c in _CHANGED]
        )
        sets = ", ".join(f"{c} = v.{c}" for c in _CHANGED if c != "id")
        result = session.execute(
            text(
                f"UPDATE task SET {sets} FROM json_to_recordset(CAST(:rows AS json)) AS v({spec}) "
                "WHERE task.ctid = v.tid AND task.id = v.id"
            ),
            {"rows": rows_json(changed)},
        )
        if cast(CursorResult[Any], result).rowcount != len(rows):
            # never expected (a locked row stays where it is): then by the key after all
            bulk_update(session, self.table, "id", [{c: v[c] for c in _CHANGED} for v in changed])
