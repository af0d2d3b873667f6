"""No state change without history: both shipped processes driven through every
path and through the SLA rounds, with the database compared before and after
every action.

After each action (an API call, refused or not, or a background round) the
state of every instance, task and comment is read straight from the database
and diffed with the state before it, and the history events the action
appended are read. Every difference must be recorded by the events `RULES`
names for it (saying what `EVENT_SAYS` asks), and every new event must record
a difference: a change without its event, an event without its change, or a
change no event type describes fails the test, naming the action.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import clock
from engine.db import unit_of_work
from engine.definitions import deploy_files
from engine.identity import SYSTEM
from engine.models import HistoryEvent, Instance, Task, TaskComment
from engine.rounds import run_round
from tests.engine.test_sla import at
from tests.fixtures.api_client import Api
from tests.fixtures.factories import deploy_fixture
from tests.fixtures.shipped import Case, setup_shipped
from tests.processes.test_complaint_handling import CATEGORY_DEPARTMENT, WORKER, complaint
from tests.processes.test_lead_follow_up import visitor

# ---------------------------------------------------------------- the rules

# Who holds a task (or completed it), as the assignee rules tell people apart.
NOBODY, SOMEONE, SOMEONE_ELSE, COMPLETER = "nobody", "someone", "someone else", "its completer"

# Change (what, (before, after)) -> the events that must record it, one entry per
# event, in order; "a|b" accepts either type. A transition missing here is itself
# a failure: the engine changed something no event type describes.
RULES: dict[str, dict[tuple[Any, Any], list[str]]] = {
    "instance.status": {
        (None, "running"): ["instance_started"],
        ("running", "completed"): ["instance_completed"],
        ("running", "cancelled"): ["instance_cancelled"],
        ("running", "error"): ["instance_error"],
        ("error", "cancelled"): ["instance_cancelled"],
    },
    # A BPMN timer due by a round's instant (rounds only).
    "instance.timer": {
        ("due", "fired"): ["timer_fired"],
        ("due", "failed"): [],  # the instance went to error: its instance_error says so
    },
    "task.state": {
        (None, "open"): ["task_created"],
        ("open", "completed"): ["task_completed"],
        ("open", "cancelled"): ["task_cancelled"],
    },
    "task.assignee": {
        (NOBODY, SOMEONE): ["task_claimed|task_assigned"],
        (SOMEONE, NOBODY): ["task_unclaimed"],
        (SOMEONE, SOMEONE_ELSE): ["task_assigned"],
        # Completing an unclaimed task takes it: the task_completed by that user says so.
        (NOBODY, COMPLETER): [],
    },
    "task.completed_by": {(NOBODY, COMPLETER): []},  # the task_completed event's actor
    "task.sla_status": {
        ("on_track", "at_risk"): ["sla_warning"],
        ("at_risk", "breached"): ["sla_breached"],
        ("on_track", "breached"): ["sla_warning", "sla_breached"],  # one late round
    },
    # One task_escalated per level climbed (EVENT_SAYS checks each one's level).
    "task.escalation_level": {
        (a, b): ["task_escalated"] * (b - a) for a in range(4) for b in range(a + 1, 4)
    },
    # Fixed when the task is created (its task_created says them): never changed.
    "task.department": {},
    "task.due_at": {},
    "comment": {(None, "written"): ["task_commented"]},
}

# What an event must say about the change it records, beyond its type, instance,
# task and element; `step` counts the events one change needs (0, 1, ...).
EVENT_SAYS: dict[str, Callable[[Event, Change, int], bool]] = {
    "task_created": lambda e, c, step: (
        (e.data.get("department"), e.data.get("assignee"), _instant(e.data.get("due_at")))
        == (c.facts["department"], c.facts["assignee"], c.facts["due_at"])
    ),
    "task_completed": lambda e, c, step: e.actor == c.facts["completed_by"],
    "task_claimed": lambda e, c, step: e.data.get("assignee") == c.new == e.actor,
    "task_assigned": lambda e, c, step: (
        (e.data.get("assignee"), e.data.get("previous_assignee")) == (c.new, c.old)
    ),
    "task_unclaimed": lambda e, c, step: e.data.get("previous_assignee") == c.old,
    "task_escalated": lambda e, c, step: e.data.get("level") == c.old + 1 + step,
    "task_commented": lambda e, c, step: (
        (e.actor, e.data.get("text")) == (c.facts["author"], c.facts["text"])
    ),
    "timer_fired": lambda e, c, step: (
        datetime.fromisoformat(e.data["due_by"]) == c.facts["round_at"]
    ),
}

# Events about tables these snapshots do not cover.
OUTSIDE_THE_SNAPSHOTS = frozenset(
    {
        "definition_deployed",
        "calendar_loaded",
        "department_calendar_changed",
        "notification_sent",
        "notification_failed",
    }
)


# ---------------------------------------------------------------- snapshots


@dataclass(frozen=True)
class TaskRow:
    """The columns of a task row this test follows."""

    instance_id: str
    element_id: str
    state: str | None
    assignee: str | None
    completed_by: str | None
    sla_status: str
    escalation_level: int
    department: str
    due_at: datetime | None


@dataclass(frozen=True)
class Snapshot:
    """Every instance, task and comment, and the newest history seq, at one moment."""

    instances: dict[str, tuple[str, datetime | None]]  # id -> (status, next_timer_at)
    tasks: dict[str, TaskRow]
    comments: dict[int, tuple[str, str, str, str]]  # id -> (instance, task, author, text)
    seq: int


@dataclass(frozen=True)
class Event:
    """One history event appended by an action."""

    seq: int
    type: str
    actor: str
    instance_id: str | None
    task_id: str | None
    element_id: str | None
    data: dict[str, Any]

    def __str__(self) -> str:
        task = f" task {self.element_id} {self.task_id[:8]}" if self.task_id else ""
        said = {k: v for k, v in self.data.items() if k not in ("name", "variables")}
        return f"event #{self.seq} {self.type} by {self.actor}{task} {said}"


@dataclass
class Change:
    """One difference between two snapshots, labelled as `RULES` knows it."""

    what: str
    old: Any
    new: Any
    instance_id: str
    task_id: str | None = None
    label: tuple[Any, Any] = (None, None)
    facts: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        where = f"instance {self.instance_id[:8]}"
        if self.task_id:
            where += f" task {self.facts.get('element_id')} {self.task_id[:8]}"
        return f"{self.what} {self.old!r} -> {self.new!r} ({where})"


def _read(session: Session, since: int) -> tuple[Snapshot, list[Event]]:
    instances = {
        r.id: (r.status, r.next_timer_at)
        for r in session.execute(select(Instance.id, Instance.status, Instance.next_timer_at))
    }
    tasks = {
        r.id: TaskRow(
            r.instance_id,
            r.element_id,
            r.state,
            r.assignee,
            r.completed_by,
            r.sla_status,
            r.escalation_level,
            r.department,
            r.due_at,
        )
        for r in session.execute(
            select(
                Task.id,
                Task.instance_id,
                Task.element_id,
                Task.state,
                Task.assignee,
                Task.completed_by,
                Task.sla_status,
                Task.escalation_level,
                Task.department,
                Task.due_at,
            )
        )
    }
    comments = {
        r.id: (r.instance_id, r.task_id, r.author, r.text)
        for r in session.execute(
            select(
                TaskComment.id,
                TaskComment.instance_id,
                TaskComment.task_id,
                TaskComment.author,
                TaskComment.text,
            )
        )
    }
    seq = session.scalar(select(func.coalesce(func.max(HistoryEvent.seq), 0)))
    events = [
        Event(r.seq, r.type, r.actor, r.instance_id, r.task_id, r.element_id, r.data or {})
        for r in session.execute(
            select(
                HistoryEvent.seq,
                HistoryEvent.type,
                HistoryEvent.actor,
                HistoryEvent.instance_id,
                HistoryEvent.task_id,
                HistoryEvent.element_id,
                HistoryEvent.data,
            )
            .where(HistoryEvent.seq > since, HistoryEvent.seq <= seq)
            .order_by(HistoryEvent.seq)
        )
    ]
    return Snapshot(instances, tasks, comments, int(seq or 0)), events


def take_snapshot(since: int = 0) -> tuple[Snapshot, list[Event]]:
    """Return the state now and the events appended after seq `since`."""
    with unit_of_work(write=False) as session:
        return _read(session, since)


# ---------------------------------------------------------------- the diff


def _instant(text: str | None) -> datetime | None:
    """Return the instant an event gives as ISO text (None for none)."""
    return datetime.fromisoformat(text) if text else None


def _person(old: str | None, new: str | None, completer: str | None) -> tuple[str, str]:
    """Return the `RULES` label of a change of who holds (or completed) a task."""
    before = NOBODY if old is None else SOMEONE
    if new is None:
        return before, NOBODY
    if new == completer:
        return before, COMPLETER
    return before, SOMEONE if old is None else SOMEONE_ELSE


def _instance_changes(before: Snapshot, after: Snapshot, round_at: datetime | None) -> list[Change]:
    found: list[Change] = []
    for iid in sorted(before.instances.keys() | after.instances.keys()):
        old_status, due = before.instances.get(iid, (None, None))
        new_status = after.instances[iid][0] if iid in after.instances else None
        steps = [(old_status, new_status)]
        if old_status is None and new_status not in (None, "running"):
            steps = [(None, "running"), ("running", new_status)]  # started and ended at once
        for old, new in steps:
            if old != new:
                found.append(Change("instance.status", old, new, iid, label=(old, new)))
        if round_at is not None and old_status == "running" and due is not None and due <= round_at:
            outcome = "failed" if new_status == "error" else "fired"
            found.append(
                Change(
                    "instance.timer",
                    due,
                    outcome,
                    iid,
                    label=("due", outcome),
                    facts={"round_at": round_at},
                )
            )
    return found


# The task columns compared; assignee and completed_by are told apart as people.
TASK_FIELDS = (
    "state",
    "assignee",
    "completed_by",
    "sla_status",
    "escalation_level",
    "department",
    "due_at",
)


def _task_changes(before: Snapshot, after: Snapshot) -> list[Change]:
    found: list[Change] = []
    for tid in sorted(before.tasks.keys() | after.tasks.keys()):
        old, new = before.tasks.get(tid), after.tasks.get(tid)
        if new is None:  # a task row vanished: no rule has a state None
            assert old is not None
            gone = {"element_id": old.element_id}
            found.append(
                Change("task.state", old.state, None, old.instance_id, tid, (old.state, None), gone)
            )
            continue
        facts = {"element_id": new.element_id, "completed_by": new.completed_by}
        if old is None:
            created = {
                **facts,
                "department": new.department,
                "assignee": new.assignee,
                "due_at": new.due_at,
            }
            found.append(
                Change("task.state", None, "open", new.instance_id, tid, (None, "open"), created)
            )
            # Compare what follows with the task as its creation recorded it.
            old = replace(
                new, state="open", sla_status="on_track", escalation_level=0, completed_by=None
            )
        completer = new.completed_by if (old.state, new.state) == ("open", "completed") else None
        for name in TASK_FIELDS:
            was, now = getattr(old, name), getattr(new, name)
            if was == now:
                continue
            person = name in ("assignee", "completed_by")
            label = _person(was, now, completer) if person else (was, now)
            found.append(Change(f"task.{name}", was, now, new.instance_id, tid, label, facts))
    return found


def _comment_changes(before: Snapshot, after: Snapshot) -> list[Change]:
    found: list[Change] = []
    for cid in sorted(before.comments.keys() | after.comments.keys()):
        if cid in before.comments and cid in after.comments:
            continue
        written = cid in after.comments
        instance_id, task_id, author, text = (after if written else before).comments[cid]
        state = (None, "written") if written else ("written", None)
        task = after.tasks.get(task_id) or before.tasks[task_id]
        facts = {"element_id": task.element_id, "author": author, "text": text}
        found.append(Change("comment", *state, instance_id, task_id, state, facts))
    return found


def changes_between(
    before: Snapshot, after: Snapshot, *, round_at: datetime | None = None
) -> list[Change]:
    """Return every difference between two snapshots (timers count in rounds only)."""
    return (
        _instance_changes(before, after, round_at)
        + _task_changes(before, after)
        + _comment_changes(before, after)
    )


def _records(event: Event, change: Change, step: int, types: list[str]) -> bool:
    """Tell whether `event` is the `step`th event (one of `types`) recording `change`."""
    if event.type not in types or event.instance_id != change.instance_id:
        return False
    if event.task_id != change.task_id:
        return False
    if change.task_id is not None and event.element_id != change.facts["element_id"]:
        return False
    says = EVENT_SAYS.get(event.type)
    return says is None or says(event, change, step)


def unexplained(changes: list[Change], events: list[Event], *, actor: str) -> list[str]:
    """Return each change without its events and each event without its change."""
    problems: list[str] = []
    left = list(events)
    for change in changes:
        wanted = RULES[change.what].get(change.label)
        if wanted is None:
            problems.append(f"{change}: no event type records such a change")
            continue
        for step, alternatives in enumerate(wanted):
            types = alternatives.split("|")
            match = next((e for e in left if _records(e, change, step, types)), None)
            if match is None:
                nth = f" (event {step + 1} of {len(wanted)})" if len(wanted) > 1 else ""
                problems.append(f"{change}: no {alternatives} event records it{nth}")
            else:
                left.remove(match)
    for event in left:
        if event.type not in OUTSIDE_THE_SNAPSHOTS:
            problems.append(f"{event}: records no change the snapshots show")
    problems += [
        f"event #{e.seq} {e.type} names {e.actor!r}, but {actor!r} acted"
        for e in events
        if e.actor != actor
    ]
    return problems


# ---------------------------------------------------------------- driving


class History:
    """The state as of the last action; `check` compares the next one with it."""

    def __init__(self) -> None:
        self.snapshot, _ = take_snapshot()
        self.events: list[Event] = []
        self.transitions: set[tuple[str, Any, Any]] = set()

    def check(self, action: str, *, actor: str, round_at: datetime | None = None) -> list[Event]:
        """Diff the state with the last snapshot and match the changes with the new events."""
        after, events = take_snapshot(self.snapshot.seq)
        changes = changes_between(self.snapshot, after, round_at=round_at)
        problems = unexplained(changes, events, actor=actor)
        assert not problems, f"after {action}:\n  " + "\n  ".join(problems)
        self.snapshot = after
        self.events += events
        self.transitions |= {(c.what, *c.label) for c in changes}
        return events

    def tick(self, instant: str) -> tuple[int, int, int, int]:
        """Run one background round at `instant` (Shanghai time), then check it."""
        moment = at(instant)
        clock.set_global_time(moment)
        result = run_round(moment)
        self.check(f"the round at {instant}", actor=SYSTEM.username, round_at=clock.to_utc(moment))
        return (result.timers_fired, result.warnings, result.breaches, result.escalations)

    def types(self) -> set[str]:
        """Return the types of the events checked so far."""
        return {e.type for e in self.events}


class CheckedApi(Api):
    """The API with the history checked against the database after every POST."""

    def __init__(self, history: History) -> None:
        super().__init__()
        self.history = history

    def post(self, path: str, user: str | None, **kw: Any):  # type: ignore[no-untyped-def]
        response = super().post(path, user, **kw)
        self.history.check(f"POST {path} by {user} ({response.status_code})", actor=user or "")
        return response

    def act(self, user: str, task_id: str, verb: str, status: int = 200, **body: Any) -> None:
        """Claim, unclaim, assign or comment on a task, expecting `status`."""
        r = self.post(f"/tasks/{task_id}/{verb}", user, json=body)
        assert r.status_code == status, r.text

    def cancel(self, user: str, case: Case, status: int = 200) -> None:
        """Cancel a case, expecting `status`."""
        r = self.post(f"/instances/{case.id}/cancel", user, json={"reason": "客户撤诉"})
        assert r.status_code == status, r.text


@pytest.fixture
def history(db_url: str) -> History:
    """The shipped processes and organisation on Monday 2026-11-23 10:00, then snapshot."""
    clock.set_global_time(at("2026-11-23T10:00"))  # a Monday
    setup_shipped()
    return History()


@pytest.fixture
def api(history: History) -> CheckedApi:
    """The API checking every POST against `history`."""
    return CheckedApi(history)


def full_complaint(api: CheckedApi, category: str, severity: str) -> Case:
    """Drive a complaint straight through, every task completed unclaimed."""
    case = Case(api, "cs1", "complaint_handling", complaint(category, severity))
    worker = WORKER[CATEGORY_DEPARTMENT[category]]
    case.do("acknowledge_complaint", "cs1", {"contacted": True})
    if category in ("quality", "facilities", "property_service"):
        case.do("site_survey", worker, {"findings": "现场确认"})
    case.do("propose_solution", worker, {"solution": "维修"})
    case.do("approve_solution", "cs1", {"approved": True})
    case.do("execute_fix", worker, {"work_done": "已修复"})
    case.do("confirm_resolution", "cs2", {"resolved": True})
    assert case.do("return_visit", "cs2", {"satisfaction": 4})["status"] == "completed"
    return case


def assigned_lead(api: CheckedApi, phone: str, consultant: str = "sales2", **start: Any) -> Case:
    """A lead whose consultant is chosen: its first follow-up is open."""
    case = Case(api, "sales1", "lead_follow_up", visitor(phone=phone, **start))
    case.do("assign_consultant", "sales1", {"consultant": consultant})
    return case


# ---------------------------------------------------------------- the tests


def test_the_checker_reports_missing_phantom_and_undescribed_changes() -> None:
    before = Snapshot({"i1": ("running", None)}, {}, {}, 0)
    task = TaskRow("i1", "ack", "open", None, None, "on_track", 0, "sales", None)
    after = Snapshot({"i1": ("running", None)}, {"t1": replace(task, assignee="amy")}, {}, 1)
    created = Event(1, "task_created", "bob", "i1", "t1", "ack", {"department": "sales"})
    claimed = Event(2, "task_claimed", "bob", "i1", "t1", "ack", {"assignee": "amy"})

    def problems(old: Snapshot, new: Snapshot, events: list[Event]) -> list[str]:
        return unexplained(changes_between(old, new), events, actor="bob")

    # The created task already has an assignee, but the creation says nobody held it.
    assert problems(before, after, [created]) == [
        "task.state None -> 'open' (instance i1 task ack t1): no task_created event records it",
        "event #1 task_created by bob task ack t1 {'department': 'sales'}: "
        "records no change the snapshots show",
    ]
    with_task = replace(before, tasks={"t1": task})
    assert problems(with_task, after, []) == [
        "task.assignee None -> 'amy' (instance i1 task ack t1): "
        "no task_claimed|task_assigned event records it"
    ]
    assert problems(with_task, after, [claimed]) == [
        "task.assignee None -> 'amy' (instance i1 task ack t1): "
        "no task_claimed|task_assigned event records it",
        "event #2 task_claimed by bob task ack t1 {'assignee': 'amy'}: "
        "records no change the snapshots show",
    ]  # claimed by bob for amy: not what happened
    moved = replace(after, tasks={"t1": replace(task, department="property")})
    assert problems(with_task, moved, []) == [
        "task.department 'sales' -> 'property' (instance i1 task ack t1): "
        "no event type records such a change"
    ]
    backwards = replace(after, tasks={"t1": replace(task, sla_status="at_risk")})
    assert problems(backwards, with_task, []) == [
        "task.sla_status 'at_risk' -> 'on_track' (instance i1 task ack t1): "
        "no event type records such a change"
    ]


def test_every_complaint_path_records_every_change(api: CheckedApi, history: History) -> None:
    severities = ["urgent", "high", "normal"]
    for n, category in enumerate(CATEGORY_DEPARTMENT):
        full_complaint(api, category, severities[n % 3])

    # Work on one task: claim, refused claim, comment, unclaim, assign, reassign.
    case = Case(api, "cs1", "complaint_handling", complaint("other", "high"))
    ack = case.task("acknowledge_complaint")["id"]
    api.act("cs2", ack, "claim")
    api.act("cs1", ack, "claim", status=409)  # refused: nothing changes, nothing recorded
    api.act("cs2", ack, "comments", status=201, text="已联系客户")
    api.act("cs2", ack, "unclaim")
    api.act("sup_customer_service", ack, "assign", username="cs1")
    api.act("sup_customer_service", ack, "assign", username="cs2")
    api.act("sup_customer_service", ack, "assign", username="cs2")  # already theirs: no event
    api.act("gm", ack, "comments", status=201, text="请尽快处理")
    case.do("acknowledge_complaint", "cs2", {"contacted": True})
    api.act("cs1", ack, "comments", status=201, text="已完成")  # a completed task takes comments
    assert api.complete("cs2", ack, {"contacted": True}).status_code == 409

    # The survey fans out to two departments; rejection, an unresolved fix and an
    # unhappy customer each loop back.
    case = Case(api, "cs1", "complaint_handling", complaint("quality", "urgent"))
    case.do("acknowledge_complaint", "cs1", {"contacted": True})
    case.do(
        "site_survey", "eng1", {"findings": "管道破裂", "departments": ["engineering", "property"]}
    )
    api.act("eng1", case.task("propose_solution", "engineering")["id"], "claim")
    case.do("propose_solution", "eng1", {"solution": "换管"}, department="engineering")
    case.do("propose_solution", "prop1", {"solution": "清理"}, department="property")
    case.do("approve_solution", "cs1", {"approved": False, "comments": "费用过高"})
    case.do("propose_solution", "eng1", {"solution": "局部维修"}, department="engineering")
    case.do("propose_solution", "prop1", {"solution": "清理"}, department="property")
    case.do("approve_solution", "cs1", {"approved": True})
    case.do("execute_fix", "eng1", {"work_done": "第一次维修"})
    case.do("confirm_resolution", "cs1", {"resolved": False})
    case.do("execute_fix", "eng1", {"work_done": "第二次维修"})
    case.do("confirm_resolution", "cs1", {"resolved": True})
    state = case.do("return_visit", "cs2", {"satisfaction": 2, "comments": "仍有异味"})
    assert state["variables"]["reopen_count"] == 1
    case.do("propose_solution", "eng1", {"solution": "彻底更换"}, department="engineering")
    case.do("propose_solution", "prop1", {"solution": "除味"}, department="property")
    case.do("approve_solution", "cs1", {"approved": True})
    case.do("execute_fix", "eng1", {"work_done": "已更换"})
    case.do("confirm_resolution", "cs1", {"resolved": True})
    assert case.do("return_visit", "cs2", {"satisfaction": 5})["status"] == "completed"

    # A supervisor cancels a case with two proposals open, one of them claimed.
    case = Case(api, "cs1", "complaint_handling", complaint("facilities", "normal"))
    case.do("acknowledge_complaint", "cs1", {"contacted": True})
    case.do("site_survey", "prop1", {"findings": "外墙渗水", "departments": ["property", "sales"]})
    claimed = case.task("propose_solution", "property")["id"]
    api.act("prop1", claimed, "claim")
    api.cancel("cs1", case, status=403)  # staff may not cancel
    api.cancel("sup_customer_service", case)
    api.cancel("sup_customer_service", case, status=409)
    api.act("prop1", claimed, "unclaim", status=409)
    assert api.complete("prop1", claimed, {"solution": "x"}).status_code == 409

    assert history.transitions >= {
        ("instance.status", None, "running"),
        ("instance.status", "running", "completed"),
        ("instance.status", "running", "cancelled"),
        ("task.state", "open", "completed"),
        ("task.state", "open", "cancelled"),
        ("task.assignee", NOBODY, SOMEONE),
        ("task.assignee", SOMEONE, NOBODY),
        ("task.assignee", SOMEONE, SOMEONE_ELSE),
        ("task.assignee", NOBODY, COMPLETER),
        ("comment", None, "written"),
    }
    assert {"task_claimed", "task_unclaimed", "task_assigned", "task_commented"} <= history.types()


def test_every_lead_path_records_every_change(api: CheckedApi, history: History) -> None:
    # Repeated follow-ups, then lost.
    lost = assigned_lead(api, "13900139001")
    lost.do("follow_up", "sales2", {"stage": "prospect", "next_follow_up": "2026-12-01"})
    lost.do("follow_up", "sales2", {"stage": "near_close", "notes": "再看一次"})
    state = lost.do("follow_up", "sales2", {"stage": "lost", "lost_reason": "price"})
    assert state["status"] == "completed"

    # Won without and with a referral; a supervisor hands one follow-up to another consultant.
    for phone, extra in [
        ("13900139002", {}),
        ("13900139003", {"source": "referral", "referrer_phone": "13700137000"}),
    ]:
        won = assigned_lead(api, phone, **extra)
        follow_up = won.task("follow_up")["id"]
        api.act("sales1", follow_up, "claim", status=409)  # the consultant holds it
        api.act("sup_sales", follow_up, "assign", username="sales1")
        won.do("follow_up", "sales1", {"stage": "won"})
        # the lead went with the follow-up: the contract is the new consultant's
        won.do("sign_contract", "sales1", {"unit": "9栋601", "contract_no": f"HT-{phone}"})
        state = won.do("owner_onboarding", "cs1", {"welcome_call_done": True})
        if extra:
            state = won.do("referral_reward", "cs1", {"reward_given": True})
        assert state["status"] == "completed"

    # The lead's first task claimed before it is worked; a lead cancelled mid-way.
    claimed = Case(api, "sales1", "lead_follow_up", visitor(phone="13900139004"))
    api.act("sales1", claimed.task("assign_consultant")["id"], "claim")
    claimed.do("assign_consultant", "sales1", {"consultant": "sales1"})
    api.act("sales1", claimed.task("follow_up")["id"], "comments", status=201, text="电话未接")
    api.cancel("sup_sales", claimed)

    assert {
        ("task.assignee", SOMEONE, SOMEONE_ELSE),
        ("task.assignee", NOBODY, COMPLETER),
        ("instance.status", "running", "cancelled"),
    } <= history.transitions
    created = [e for e in history.events if e.type == "task_created"]
    assert [e.element_id for e in created].count("follow_up") == 3 + 1 + 1 + 1
    assert {e.element_id for e in created} == {
        "assign_consultant",
        "follow_up",
        "sign_contract",
        "owner_onboarding",
        "referral_reward",
    }


def test_sla_rounds_record_every_step(api: CheckedApi, history: History) -> None:
    # Monday 2026-11-23 10:00.
    survey = Case(api, "cs1", "complaint_handling", complaint("quality", "normal"))
    survey.do("acknowledge_complaint", "cs1", {"contacted": True})  # survey due Wed 10:00
    claimed = Case(api, "cs1", "complaint_handling", complaint("other", "high"))
    api.act("cs2", claimed.task("acknowledge_complaint")["id"], "claim")  # due Mon 12:00
    urgent = Case(api, "cs1", "complaint_handling", complaint("facilities", "urgent"))  # 11:00
    lead = Case(api, "sales1", "lead_follow_up", visitor(phone="13900139001"))  # due 15:00
    followed = assigned_lead(api, "13900139002")  # follow-up held by sales2, due Tue 10:00

    assert history.tick("2026-11-23T10:30") == (0, 0, 0, 0)
    assert history.tick("2026-11-23T10:48") == (0, 1, 0, 0)  # urgent ack at 80%
    assert history.tick("2026-11-23T11:40") == (0, 1, 1, 1)
    clock.set_global_time(at("2026-11-23T11:45"))
    urgent.do("acknowledge_complaint", "cs1", {"contacted": True})  # completed after breach
    api.act("prop1", urgent.task("site_survey")["id"], "claim")  # due 15:45 round the clock
    assert history.tick("2026-11-23T12:00") == (0, 0, 1, 1)
    assert history.tick("2026-11-23T12:00") == (0, 0, 0, 0)  # the same instant again
    assert history.tick("2026-11-23T11:00") == (0, 0, 0, 0)  # an earlier instant
    assert history.tick("2026-11-24T12:00") == (0, 3, 3, 5)
    assert history.tick("2026-11-25T10:00") == (0, 1, 1, 4)

    clock.set_global_time(at("2026-11-25T11:00"))
    task = survey.task("site_survey")["id"]
    api.act("eng1", task, "claim")
    api.act("eng1", task, "unclaim")
    api.act("sup_engineering", task, "assign", username="eng1")
    api.act("sup_engineering", task, "comments", status=201, text="已升级, 请今天完成")
    survey.do("site_survey", "eng1", {"findings": "水管破裂"})  # after breach and level 1
    # One late round: the new proposal takes every step at once, the rest climb to the top.
    assert history.tick("2026-12-10T10:00") == (0, 1, 1, 4)
    assert history.tick("2026-12-10T10:00") == (0, 0, 0, 0)
    api.cancel("sup_customer_service", claimed)  # breached, at level 3, claimed
    lead.do("assign_consultant", "sales1", {"consultant": "sales1"})  # at level 2
    followed.do("follow_up", "sales2", {"stage": "lost", "lost_reason": "no_response"})
    assert history.tick("2026-12-31T10:00") == (0, 1, 1, 2)  # the lead's new follow-up

    climbed = {
        (e.data["ladder"], e.data["level"]) for e in history.events if e.type == "task_escalated"
    }
    assert climbed == {
        ("complaint", 1),
        ("complaint", 2),
        ("complaint", 3),
        ("lead", 1),
        ("lead", 2),
    }
    assert {
        ("task.sla_status", "on_track", "at_risk"),
        ("task.sla_status", "at_risk", "breached"),
        ("task.sla_status", "on_track", "breached"),
        ("task.escalation_level", 0, 3),
    } <= history.transitions


TIMER_FAULT = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  id="defs_timer_fault" targetNamespace="http://flowdesk.example/test">
  <bpmn:process id="timer_fault" name="A timer before a failing script" isExecutable="true">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_prop" name="property">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>split</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>hold</bpmn:flowNodeRef><bpmn:flowNodeRef>wait</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>fail</bpmn:flowNodeRef><bpmn:flowNodeRef>end_hold</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end_fail</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:parallelGateway id="split">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:parallelGateway>
    <bpmn:userTask id="hold" name="Hold">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:intermediateCatchEvent id="wait" name="Wait an hour">
      <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing>
      <bpmn:timerEventDefinition id="wait_def">
        <bpmn:timeDuration>"PT1H"</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:scriptTask id="fail" name="Use a missing variable">
      <bpmn:incoming>f5</bpmn:incoming><bpmn:outgoing>f6</bpmn:outgoing>
      <bpmn:script>total = amount * 2</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:endEvent id="end_hold"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end_fail"><bpmn:incoming>f6</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="split" />
    <bpmn:sequenceFlow id="f2" sourceRef="split" targetRef="hold" />
    <bpmn:sequenceFlow id="f3" sourceRef="split" targetRef="wait" />
    <bpmn:sequenceFlow id="f4" sourceRef="hold" targetRef="end_hold" />
    <bpmn:sequenceFlow id="f5" sourceRef="wait" targetRef="fail" />
    <bpmn:sequenceFlow id="f6" sourceRef="fail" targetRef="end_fail" />
  </bpmn:process>
</bpmn:definitions>
"""


def test_timers_record_every_change(api: CheckedApi, history: History) -> None:
    """The shipped processes have no BPMN timers; test processes cover the timer paths."""
    deploy_fixture("timers.bpmn")
    with unit_of_work() as session:
        deploy_files(session, files=[("timer_fault.bpmn", TIMER_FAULT.encode())], actor=SYSTEM)
    history.check("deploying the timer processes", actor=SYSTEM.username)

    # Monday 10:00: an intermediate timer after `first`, a boundary timer on `first`,
    # and a timer whose next step fails.
    waits = Case(api, "prop1", "timers", {})
    clock.set_global_time(at("2026-11-23T10:30"))
    waits.do("first", "prop1", {})  # the wait is due at 11:30
    boundary = Case(api, "prop1", "timers", {})  # gives up at 12:30
    fault = Case(api, "prop1", "timer_fault", {})  # fails at 11:30
    api.act("prop1", fault.task("hold")["id"], "claim")

    assert history.tick("2026-11-23T11:29") == (0, 0, 0, 0)
    assert history.tick("2026-11-23T11:30") == (1, 0, 0, 0)  # and the fault: instance_error
    assert api.get(f"/instances/{fault.id}", "gm").json()["status"] == "error"
    assert history.tick("2026-11-23T12:30") == (1, 0, 0, 0)  # the boundary cancels `first`
    assert boundary.refresh()["status"] == "completed"
    assert waits.do("second", "prop1", {})["status"] == "completed"
    api.cancel("sup_property", fault)  # an instance in error, its task claimed

    assert {"timer_fired", "instance_error", "task_cancelled"} <= history.types()
    assert ("instance.status", "error", "cancelled") in history.transitions
