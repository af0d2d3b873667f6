"""The escalation ladder: the SLA steps of an open task as small named rules.

A task's SLA state is its `sla_status` (on_track → at_risk → breached) and,
once breached, its `escalation_level` (0 → 1 → … up the rungs of its ladder).
Each rule names the states it starts from, the state it leads to and the
condition under which it applies; `SLA_POLICY` asks them in order and the
first that applies takes the step. The rules change only the task's SLA
columns: whom a step tells and what it records is the sweep's business.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Protocol

from sqlalchemy import and_, false, literal_column, or_
from sqlalchemy.sql.elements import ColumnElement

from engine.identity import Actor
from engine.models import Task

ON_TRACK, AT_RISK, BREACHED = "on_track", "at_risk", "breached"


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


def rungs_of(task: Task) -> tuple[Rung, ...]:
    """Return the rungs of the ladder a task climbs (an unknown ladder climbs the default)."""
    return LADDERS.get(task.escalation_ladder or "default", LADDERS["default"])


def describe_recipients(rule: str, department: str) -> str:
    """Return who a rung reaches, in words."""
    if rule == "owning_supervisors":
        return f"supervisors of {department}"
    if rule.startswith("supervisors:"):
        return f"supervisors of {rule.split(':', 1)[1]}"
    return "executives"


class AddsWorkingTime(Protocol):
    """The part of a working calendar the ladder needs: an instant plus working hours."""

    def add(self, start: datetime, amount: float) -> datetime: ...


@dataclass(frozen=True)
class StepTaken:
    """What a rule did: the event it records and the rung it reached (None: the owners)."""

    event_type: str
    rung: Rung | None = None


class LadderRule:
    """One SLA step: from one of `FROM_STATES` to `TO_STATE` when `condition` holds."""

    FROM_STATES: ClassVar[frozenset[str]]
    TO_STATE: ClassVar[str]
    EVENT_TYPE: ClassVar[str]

    def condition(self, task: Task, step_at: datetime, rungs: tuple[Rung, ...]) -> bool:
        """Whether the step due at `step_at` is this rule's (its from-state holds)."""
        raise NotImplementedError

    def applies(self, task: Task, step_at: datetime, rungs: tuple[Rung, ...]) -> bool:
        """Whether this rule takes the task's step due at `step_at`."""
        return task.sla_status in self.FROM_STATES and self.condition(task, step_at, rungs)

    def take(self, task: Task, step_at: datetime, rungs: tuple[Rung, ...]) -> StepTaken:
        """Move the task to `TO_STATE` and say what happened."""
        task.sla_status = self.TO_STATE
        return StepTaken(self.EVENT_TYPE)

    def due(
        self, task: Task, rungs: tuple[Rung, ...], calendar: AddsWorkingTime
    ) -> datetime | None:
        """Return when this rule's step falls due for a task in a from-state, or None."""
        raise NotImplementedError


class WarnBeforeDue(LadderRule):
    """At 80% of its working time the task is at risk and its owners are warned."""

    FROM_STATES = frozenset({ON_TRACK})
    TO_STATE = AT_RISK
    EVENT_TYPE = "sla_warning"

    def condition(self, task: Task, step_at: datetime, rungs: tuple[Rung, ...]) -> bool:
        """The task has a warning time and the step comes before the due time."""
        return task.warn_at is not None and task.due_at is not None and step_at < task.due_at

    def due(
        self, task: Task, rungs: tuple[Rung, ...], calendar: AddsWorkingTime
    ) -> datetime | None:
        """The warning time, when it comes before the due time."""
        if task.warn_at is not None and task.due_at is not None and task.warn_at < task.due_at:
            return task.warn_at
        return None


class BreachAtDue(LadderRule):
    """At its due time the task is breached and its owners are told."""

    FROM_STATES = frozenset({ON_TRACK, AT_RISK})
    TO_STATE = BREACHED
    EVENT_TYPE = "sla_breached"

    def condition(self, task: Task, step_at: datetime, rungs: tuple[Rung, ...]) -> bool:
        """Always: any step of an unbreached task that is not its warning is its breach."""
        return True

    def due(
        self, task: Task, rungs: tuple[Rung, ...], calendar: AddsWorkingTime
    ) -> datetime | None:
        """The due time."""
        return task.due_at


class EscalateOneLevel(LadderRule):
    """A breached task climbs one rung of its ladder, a rung's delay after the breach."""

    FROM_STATES = frozenset({BREACHED})
    TO_STATE = BREACHED
    EVENT_TYPE = "task_escalated"

    def condition(self, task: Task, step_at: datetime, rungs: tuple[Rung, ...]) -> bool:
        """The ladder has a rung above the task's level."""
        return task.escalation_level < len(rungs)

    def take(self, task: Task, step_at: datetime, rungs: tuple[Rung, ...]) -> StepTaken:
        """Raise the task to the next rung, escalated at the step's instant."""
        rung = rungs[task.escalation_level]
        task.escalation_level = rung.level
        task.escalated_at = step_at
        return StepTaken(self.EVENT_TYPE, rung)

    def due(
        self, task: Task, rungs: tuple[Rung, ...], calendar: AddsWorkingTime
    ) -> datetime | None:
        """The due time plus the next rung's delay in working hours; None at the top."""
        if task.due_at is None or task.escalation_level >= len(rungs):
            return None
        rung = rungs[task.escalation_level]
        return task.due_at if rung.after_hours == 0 else calendar.add(task.due_at, rung.after_hours)


class LadderPolicy:
    """The rules in the order they are asked: the first that applies takes a step."""

    def __init__(self, *rules: LadderRule) -> None:
        self.rules = rules

    def rule_for(self, task: Task, step_at: datetime, rungs: tuple[Rung, ...]) -> LadderRule | None:
        """Return the rule that takes the task's step due at `step_at`, or None."""
        for rule in self.rules:
            # `applies`, inlined: this runs for every step of every swept task
            if task.sla_status in rule.FROM_STATES and rule.condition(task, step_at, rungs):
                return rule
        return None

    def next_step(
        self, task: Task, rungs: tuple[Rung, ...], calendar: AddsWorkingTime
    ) -> datetime | None:
        """Return when the task's next step falls due (None: the clock has stopped)."""
        if task.due_at is None:
            return None
        for rule in self.rules:
            if task.sla_status in rule.FROM_STATES:
                at = rule.due(task, rungs, calendar)
                if at is not None:
                    return at
        return None


SLA_POLICY = LadderPolicy(WarnBeforeDue(), BreachAtDue(), EscalateOneLevel())


# ---------------------------------------------------------------- who the ladder reached


def escalated_to(actor: Actor) -> ColumnElement[bool]:
    """Return the condition selecting the tasks that escalated to `actor`.

    The rungs that reach the actor are grouped by (level, department): one branch per
    group, its ladders in one IN list, so that the supervisor of a department reads
    one index range (`ix_task_escalated_department`: department, state, due time, of
    the escalated tasks only). The levels are written into the SQL, not bound, so
    that the planner proves them above 0 and takes the partial indexes.
    """
    groups: dict[tuple[int, str | None], set[str]] = {}
    for name, rungs in LADDERS.items():
        for rung in rungs:
            department: str | None = None
            if rung.recipients == "owning_supervisors":
                if not (actor.has("supervisor") and actor.department):
                    continue
                department = actor.department
            elif rung.recipients.startswith("supervisors:"):
                if not (actor.has("supervisor") and actor.department == rung.recipients[12:]):
                    continue
            elif not (rung.recipients == "executives" and actor.has("executive")):
                continue
            groups.setdefault((rung.level, department), set()).add(name)
    conditions: list[ColumnElement[bool]] = []
    for (level, department), names in sorted(
        groups.items(), key=lambda g: (g[0][0], g[0][1] or "")
    ):
        ladder_is: ColumnElement[bool] = Task.escalation_ladder.in_(sorted(names))
        if "default" in names:  # a task without a ladder climbs the default one
            ladder_is = or_(ladder_is, Task.escalation_ladder.is_(None))
        branch: list[ColumnElement[bool]] = [
            Task.escalation_level >= literal_column(str(int(level))),
            ladder_is,
        ]
        if department is not None:
            branch.append(Task.department == department)
        conditions.append(and_(*branch))
    return or_(*conditions) if conditions else false()
