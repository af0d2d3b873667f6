"""Handing a user's open work over to colleagues (staff leaving, holiday cover), and back.

What a user holds, found generically: their open tasks, and the running cases whose
declared assignee variables name them — a user task's `assignee_variable` property
(the shipped sales process declares `consultant` on `follow_up` and
`sign_contract`, so those cases are the consultant's leads) — while the case has an
open task taking its assignee from that variable (a won lead at its onboarding step is
no longer its consultant's to hand over). A handover moves both:
each open task is reassigned, and each held case's variable is set to the recipient
on the workflow's unfinished tasks, so later tasks go to them too; the step hooks
then let the vertical's records follow (crm: the lead's consultant).

Lock order as completing: case by case in sorted instance ids, each case locked
(`runtime.edit_case`) before its open tasks are read again, so a completion racing
the handover either commits first (its new task is then moved too) or waits and is
refused (the task is held by another). The whole handover is one transaction, its
events appended after the last case (the history's lock is taken last, as by a
completion); a dry run plans the same moves from the same reads and writes nothing.

`to` may name several colleagues: held cases go round-robin (each with its tasks),
the other tasks too. A handover is kept (`handover` row) so that a supervisor's
holiday cover can be handed back: `return_handover` moves back what is still open and
still held by the recipient.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from engine import access, clock, queries, runtime
from engine.audit import PendingEvent, append_events
from engine.db import is_sqlite
from engine.departments import department_names
from engine.errors import Conflict, FieldProblem, InvalidData, NotFound
from engine.identity import Actor, get_user
from engine.models import Handover, Instance, Task, User

WORKER_ROLES = frozenset(access.WORKER_ROLES)


@dataclass(frozen=True)
class HeldCase:
    """A running case whose assignee variables (`variables`) name the user."""

    instance_id: str
    process_key: str
    business_key: str | None
    variables: tuple[str, ...]


@dataclass(frozen=True)
class Holdings:
    """What a user holds: open tasks assigned to them and the cases they hold."""

    task_ids: list[str]
    cases: list[HeldCase]

    @property
    def empty(self) -> bool:
        return not self.task_ids and not self.cases


@dataclass(frozen=True)
class TaskMove:
    """One open task moved to `to`."""

    task_id: str
    instance_id: str
    element_id: str
    name: str
    to: str


@dataclass(frozen=True)
class CaseMove(HeldCase):
    """One held case moved to `to` (its assignee variables `variables`)."""

    to: str


@dataclass(frozen=True)
class HandoverResult:
    """What a handover (or a hand-back) moved; `handover_id` is None for a dry run."""

    handover_id: int | None
    username: str
    to: list[str]
    tasks: list[TaskMove]
    cases: list[CaseMove]
    dry_run: bool = False


# ---------------------------------------------------------------- what a user holds


def _declared_by_version(session: Session) -> dict[int, dict[str, str]]:
    """The assignee variable of each element that declares one, by running version."""
    versions = session.execute(
        select(Instance.version_id).where(Instance.status == "running").distinct()
    ).scalars()
    found = {v: runtime.declared_properties(session, v, "assignee_variable") for v in versions}
    return {v: declared for v, declared in found.items() if declared}


def _holding(by_version: dict[int, dict[str, str]]) -> list[tuple[int, str, list[str]]]:
    """Each (version, variable, the elements taking their assignee from it)."""
    pairs: dict[tuple[int, str], list[str]] = {}
    for version_id, declared in by_version.items():
        for element_id, name in declared.items():
            pairs.setdefault((version_id, name), []).append(element_id)
    return [(v, name, sorted(elements)) for (v, name), elements in sorted(pairs.items())]


def _held_where(version_id: int, name: str, elements: list[str]) -> Any:
    """A running case of the version with an open task of those elements (the variable
    still gives work: a lead that is won or lost has no follow-up or contract task left)."""
    return and_(
        Instance.status == "running",
        Instance.version_id == version_id,
        Task.instance_id == Instance.id,
        Task.state == "open",
        Task.element_id.in_(elements),
    )


def held_cases(session: Session, username: str) -> list[HeldCase]:
    """Return the running cases `username` holds, by instance id: a declared assignee
    variable names them (a JSON path on the case variables, SQLite and PostgreSQL
    alike) while the case has an open task taking its assignee from that variable."""
    by_version = _declared_by_version(session)
    clauses = [
        and_(
            _held_where(version_id, name, elements),
            Instance.variables[name].as_string() == username,
        )
        for version_id, name, elements in _holding(by_version)
    ]
    if not clauses:
        return []
    ids = select(Instance.id).join(Task, Task.instance_id == Instance.id).where(or_(*clauses))
    rows = list(
        session.execute(
            select(Instance).where(Instance.id.in_(ids)).order_by(Instance.id)
        ).scalars()
    )
    open_tasks: dict[str, list[Task]] = {}
    for task in session.execute(
        select(Task).where(Task.instance_id.in_([r.id for r in rows]), Task.state == "open")
    ).scalars():
        open_tasks.setdefault(task.instance_id, []).append(task)
    found = [
        _held(row, by_version[row.version_id], open_tasks.get(row.id, []), username) for row in rows
    ]
    return [case for case in found if case.variables]


def held_case_counts(session: Session) -> dict[str, int]:
    """Return how many running cases each username holds (for a list of every user)."""
    counts: dict[str, set[str]] = {}
    for version_id, name, elements in _holding(_declared_by_version(session)):
        holder = Instance.variables[name].as_string()
        rows = session.execute(
            select(holder, Instance.id)
            .join(Task, Task.instance_id == Instance.id)
            .where(_held_where(version_id, name, elements), holder.is_not(None))
        ).all()
        for username, instance_id in rows:
            counts.setdefault(username, set()).add(instance_id)
    return {username: len(ids) for username, ids in counts.items()}


def _held(
    instance: Instance, declared: dict[str, str], open_tasks: Sequence[Task], username: str
) -> HeldCase:
    """The case as held by `username`: the variables naming them that an open task takes
    its assignee from (none: they do not hold it)."""
    variables = instance.variables or {}
    live = {declared[t.element_id] for t in open_tasks if t.element_id in declared}
    return HeldCase(
        instance_id=instance.id,
        process_key=instance.process_key,
        business_key=instance.business_key,
        variables=tuple(sorted(n for n in live if variables.get(n) == username)),
    )


def open_tasks_held(session: Session, username: str) -> list[Task]:
    """Return the open tasks assigned to `username`, oldest first."""
    return list(
        session.execute(
            select(Task)
            .where(Task.assignee == username, Task.state == "open")
            .order_by(Task.created_at, Task.id)
        ).scalars()
    )


def holdings(session: Session, username: str) -> Holdings:
    """Return what `username` holds now."""
    tasks = [t.id for t in open_tasks_held(session, username)]
    return Holdings(tasks, held_cases(session, username))


# ---------------------------------------------------------------- handing over


def _recipients(session: Session, user: User, to: Any) -> list[str]:
    """Check `to` (a username or a list of them): active workers of the user's department."""
    names = [to] if isinstance(to, str) else to
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
        raise InvalidData([FieldProblem("to", key="problem_handover_to_missing")])
    names = list(dict.fromkeys(names))
    problems = []
    code = user.department_code or "-"
    for name in names:
        if name == user.username:
            problems.append(FieldProblem("to", key="problem_handover_to_self"))
            continue
        other = get_user(session, name)
        if (
            other is None
            or not other.is_active
            or user.department_code is None
            or other.department_code != user.department_code
            or not other.role_names & WORKER_ROLES
        ):
            params = {
                "username": name,
                "department_zh": department_names(session, "zh-CN").get(code, code),
                "department_en": department_names(session, "en").get(code, code),
            }
            problems.append(FieldProblem("to", key="problem_handover_recipient", params=params))
    if problems:
        raise InvalidData(problems)
    return names


def _existing_user(session: Session, username: str) -> User:
    user = get_user(session, username)
    if user is None:
        raise NotFound(key="error_user_not_found", username=username)
    return user


@dataclass
class _Plan:
    """The moves of one case, decided from what was read (under its lock, unless a dry run)."""

    case: CaseMove | None
    tasks: list[tuple[Task, str]]


def _plan_case(
    instance: Instance,
    declared: dict[str, str],
    tasks: Sequence[Task],
    username: str,
    turn: Iterator[str],
) -> _Plan:
    tasks = [t for t in tasks if t.state == "open"]
    mine = [t for t in tasks if t.assignee == username]
    held = _held(instance, declared, tasks, username) if instance.status == "running" else None
    if held is not None and held.variables:
        to = next(turn)  # the case and every task of the user in it go to one colleague
        case = CaseMove(**vars(held), to=to)
        return _Plan(case, [(t, to) for t in mine])
    return _Plan(None, [(t, next(turn)) for t in mine])


def _declared(session: Session, instance: Instance) -> dict[str, str]:
    return runtime.declared_properties(session, instance.version_id, "assignee_variable")


def _task_move(task: Task, to: str) -> TaskMove:
    return TaskMove(task.id, task.instance_id, task.element_id, task.name, to)


def _case_ids(session: Session, username: str) -> list[str]:
    """The cases to visit: those with an open task of the user and those they hold."""
    with_tasks = session.execute(
        select(Task.instance_id).where(Task.assignee == username, Task.state == "open").distinct()
    ).scalars()
    return sorted({*with_tasks, *(c.instance_id for c in held_cases(session, username))})


def hand_over(
    session: Session, *, username: str, to: Any, actor: Actor, dry_run: bool = False
) -> HandoverResult:
    """Move every open task of `username` and every case they hold to `to` (a username,
    or a list of them for round-robin), in one transaction; `dry_run` writes nothing.

    Admins hand over anyone's work; a supervisor their own department's members'
    (NotPermitted otherwise). InvalidData (field `to`) unless every recipient is an
    active staff member or supervisor of the user's department, other than the user.
    """
    user = _existing_user(session, username)
    access.require_hand_over(actor, user.department_code)
    recipients = _recipients(session, user, to)
    turn = itertools.cycle(recipients)
    moved_tasks: list[TaskMove] = []
    moved_cases: list[CaseMove] = []
    events: list[PendingEvent] = []  # appended at the end: the history's lock last
    record: Handover | None = None
    if not dry_run:
        record = Handover(
            from_user=username,
            to_users=recipients,
            department=user.department_code,
            actor=actor.username,
            at=clock.now(),
            moves={},
        )
        session.add(record)
        session.flush()
    for instance_id in _case_ids(session, username):
        if record is None:
            instance = session.get(Instance, instance_id)
            assert instance is not None
            declared = _declared(session, instance)
            tasks = queries.open_tasks_of(session, instance_id)
            plan = _plan_case(instance, declared, tasks, username, turn)
        else:
            with runtime.edit_case(
                session, instance_id=instance_id, actor=actor, pending=events
            ) as edit:
                declared = _declared(session, edit.instance)
                plan = _plan_case(edit.instance, declared, edit.open_tasks(), username, turn)
                marker = {"handover": record.id, "handover_from": username}
                _apply(edit, plan, old=username, marker=marker)
        if plan.case is not None:
            moved_cases.append(plan.case)
        moved_tasks.extend(_task_move(t, to_user) for t, to_user in plan.tasks)
    result = HandoverResult(
        record.id if record else None, username, recipients, moved_tasks, moved_cases, dry_run
    )
    if record is not None:
        record.moves = _moves_json(result)
        append_events(session, [*events, _summary("user_handed_over", result, actor)])
    return result


def _apply(edit: runtime.CaseEdit, plan: _Plan, *, old: str, marker: dict[str, Any]) -> None:
    """Do one case's moves: its variables first (their change lands on the first event)."""
    if plan.case is not None:
        if not plan.tasks:  # no task moves with it: the change gets an event of its own
            edit.note_variables({**marker, "variables": list(plan.case.variables)})
        for name in plan.case.variables:
            edit.replace_variable(name, old, plan.case.to)
    for task, to_user in plan.tasks:
        edit.assign(task, to_user, marker)


def _moves_json(result: HandoverResult) -> dict[str, Any]:
    return {
        "tasks": [
            {"task_id": m.task_id, "instance_id": m.instance_id, "to": m.to} for m in result.tasks
        ],
        "cases": [
            {"instance_id": c.instance_id, "variables": list(c.variables), "to": c.to}
            for c in result.cases
        ],
    }


def _summary(type_: str, result: HandoverResult, actor: Actor) -> PendingEvent:
    return PendingEvent(
        type=type_,
        actor=actor.username,
        data={
            "handover": result.handover_id,
            "username": result.username,
            "to": result.to,
            "task_ids": [m.task_id for m in result.tasks],
            "instance_ids": [c.instance_id for c in result.cases],
            "moves": _moves_json(result),
        },
    )


# ---------------------------------------------------------------- handing back


def get_handover(session: Session, handover_id: int, *, lock: bool = False) -> Handover:
    """Return one handover (locked for the hand-back); NotFound without it."""
    stmt = select(Handover).where(Handover.id == handover_id)
    if lock and not is_sqlite(session):
        stmt = stmt.with_for_update()
    row = session.execute(stmt.execution_options(populate_existing=True)).scalar_one_or_none()
    if row is None:
        raise NotFound(key="error_handover_not_found", handover_id=handover_id)
    return row


def list_handovers(session: Session, *, username: str | None = None) -> list[Handover]:
    """Return the handovers (of `username`'s work), newest first."""
    stmt = select(Handover).order_by(Handover.id.desc())
    if username is not None:
        stmt = stmt.where(Handover.from_user == username)
    return list(session.execute(stmt).scalars())


def return_handover(session: Session, *, handover_id: int, actor: Actor) -> HandoverResult:
    """Hand a handover back to the user it took the work from: each moved case whose
    variables still name its recipient goes back (with the recipient's open tasks of
    the elements taking their assignee from those variables), and each moved task still
    open and held by its recipient. Once only (Conflict); the user must be active."""
    record = get_handover(session, handover_id, lock=True)
    owner = _existing_user(session, record.from_user)
    access.require_hand_over(actor, owner.department_code)
    if record.returned_at is not None:
        raise Conflict(key="error_handover_returned")
    if not owner.is_active:
        raise Conflict(key="error_handover_owner_inactive", username=owner.username)
    cases = {c["instance_id"]: c for c in record.moves.get("cases", [])}
    tasks: dict[str, dict[str, str]] = {}
    for move in record.moves.get("tasks", []):
        tasks.setdefault(move["instance_id"], {})[move["task_id"]] = move["to"]
    marker = {"handover": record.id, "handed_back": True}
    moved_tasks: list[TaskMove] = []
    moved_cases: list[CaseMove] = []
    events: list[PendingEvent] = []  # appended at the end: the history's lock last
    for instance_id in sorted({*cases, *tasks}):
        with runtime.edit_case(
            session, instance_id=instance_id, actor=actor, pending=events
        ) as edit:
            case = cases.get(instance_id)
            plan = _plan_return(session, edit, case, tasks.get(instance_id, {}), owner.username)
            _apply(edit, plan, old=case["to"] if case else "", marker=marker)
        if plan.case is not None:
            moved_cases.append(plan.case)
        moved_tasks.extend(_task_move(t, to_user) for t, to_user in plan.tasks)
    record.returned_at = clock.now()
    record.returned_by = actor.username
    result = HandoverResult(record.id, owner.username, [owner.username], moved_tasks, moved_cases)
    append_events(session, [*events, _summary("handover_returned", result, actor)])
    return result


def _plan_return(
    session: Session,
    edit: runtime.CaseEdit,
    case: dict[str, Any] | None,
    moved: dict[str, str],
    owner: str,
) -> _Plan:
    """What goes back in one case: the case, if its variables still name the recipient
    (with the recipient's open tasks taking their assignee from them), and each moved
    task still open and held by the one it went to."""
    back: dict[str, Task] = {}
    returned = None
    variables = edit.instance.variables or {}
    if case is not None and edit.instance.status == "running":
        names = tuple(n for n in case["variables"] if variables.get(n) == case["to"])
        if names:
            instance = edit.instance
            returned = CaseMove(
                instance.id, instance.process_key, instance.business_key, names, to=owner
            )
            declared = _declared(session, instance)
            back.update(
                (t.id, t)
                for t in edit.open_tasks()
                if t.assignee == case["to"] and declared.get(t.element_id) in names
            )
    back.update((t.id, t) for t in edit.open_tasks() if moved.get(t.id, "") == t.assignee)
    ordered = sorted(back.values(), key=lambda t: (t.created_at, t.id))
    return _Plan(returned, [(t, owner) for t in ordered])
