"""Running instances: lock → load → run engine steps → save → project tasks → append events.

Every public function here is one state change done inside the caller's
transaction (the edge commits). Nothing is committed here, so a failure at any
point leaves no task row without its workflow state and no event without its
change. A saved step also runs the vertical's step hooks (`engine/hooks.py`),
in the same transaction, before its events are appended.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.task import Task as SpiffTask
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, literal_column, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine import access, audit, clock
from engine.audit import PendingEvent, append_events, prepare_events
from engine.bpmn.script_engine import acting_user, restricted_script_engine
from engine.bpmn.serializer import SERIALIZER_VERSION, dump_state, load_state
from engine.db import is_sqlite
from engine.definitions import SPEC_CACHE, get_version, start_event_id, version_form
from engine.departments import department_codes, department_for_lane
from engine.errors import (
    ConcurrentUpdate,
    FieldProblem,
    InvalidData,
    NotFound,
    ProcessError,
    TaskHeldByOther,
    TaskNotOpen,
)
from engine.hooks import run_start_checks, run_step_hooks
from engine.identity import Actor, get_user
from engine.models import Instance, Task, TaskComment
from engine.sla import pauses
from engine.sla.planning import department_calendar, first_sla_step, plan_task
from engine.step_writes import write_step_rows
from engine.task_events import append_task_event, lock_task_row, task_event
from forms.registry import validate_submission

clock.install_spiff_clock()


@dataclass
class _Step:
    """What one operation loaded and what it will write."""

    instance: Instance
    workflow: BpmnWorkflow
    open_tasks: dict[str, Task]
    events: list[PendingEvent] = field(default_factory=list)
    # Every task row of the instance the operation holds, open ones and the rest.
    tasks: dict[str, Task] = field(default_factory=dict)

    def case_state(self) -> CaseState:
        """Return the instance with its open tasks as the operation left them."""
        tasks = sorted(
            (t for t in self.open_tasks.values() if t.state == "open"),
            key=lambda t: (t.created_at, t.id),
        )
        return CaseState(self.instance, tasks, list(self.tasks.values()))


@dataclass(frozen=True)
class CaseState:
    """An instance and its open tasks after an operation."""

    instance: Instance
    open_tasks: list[Task]
    # Every task row of the instance (the case record of the answer,
    # engine.steps.steps_of).
    tasks: list[Task] = field(default_factory=list)


# ---------------------------------------------------------------- loading


def _lock_instance(
    session: Session, instance_id: str, *, skip_locked: bool = False
) -> Instance | None:
    stmt = (
        select(Instance).where(Instance.id == instance_id).execution_options(populate_existing=True)
    )
    if not is_sqlite(session):
        # SQLite write transactions already hold the database lock (BEGIN IMMEDIATE).
        stmt = stmt.with_for_update(skip_locked=skip_locked)
    return session.execute(stmt).scalar_one_or_none()


def _load(session: Session, instance: Instance, tasks: dict[str, Task] | None = None) -> _Step:
    """Restore the instance's workflow; read its task rows unless the caller has them
    (every row: the open ones are the step's, the completed ones its case record)."""
    spec, subprocess_specs = SPEC_CACHE.get(session, instance.version_id)
    workflow = load_state(instance.workflow_state, spec, subprocess_specs)
    workflow.script_engine = restricted_script_engine()
    if tasks is None:
        tasks = _task_rows(session, instance.id)
    open_tasks = {task_id: t for task_id, t in tasks.items() if t.state == "open"}
    return _Step(instance, workflow, open_tasks, tasks=tasks)


def _task_rows(session: Session, instance_id: str) -> dict[str, Task]:
    """Read every task row of an instance afresh, by id."""
    return {
        t.id: t
        for t in session.execute(
            select(Task)
            .where(Task.instance_id == instance_id)
            .execution_options(populate_existing=True)
        ).scalars()
    }


def _load_task(session: Session, task_id: str) -> Task:
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound(key="error_task_not_found", task_id=task_id)
    return task


def _lock_task_instance(session: Session, task: Task) -> _Step:
    """Lock the task's instance and load it; the open-task read refreshes `task` if open."""
    instance = _lock_instance(session, task.instance_id)
    assert instance is not None
    return _checked_open(session, task, _load(session, instance))


def _checked_open(session: Session, task: Task, step: _Step) -> _Step:
    if task.id not in step.open_tasks:
        session.refresh(task)  # only on this path: say what became of it
        raise TaskNotOpen(key=f"error_task_is_{task.state}")
    return step


def _lock_queries() -> dict[str, Any]:
    """The statements of `_lock_task_with_instance`, built once (building one cost about
    as much as running it)."""
    of_task = select(Task.instance_id).where(Task.id == bindparam("task_id")).scalar_subquery()
    query = (
        select(Instance, Task)
        .join(Task, Task.instance_id == Instance.id)
        .where(Instance.id == of_task)
        .execution_options(populate_existing=True)
    )
    return {
        "sqlite": query.add_columns(audit.newest_seq()),
        "postgresql": query.add_columns(
            literal_column("instance.xmin::text"),
            literal_column(
                "(SELECT seen.xmin::text FROM instance AS seen WHERE seen.id = instance.id)"
            ),
            audit.preallocated_seqs(),
        ).with_for_update(of=[Instance, Task]),
    }


_LOCK_QUERIES = _lock_queries()


def _lock_task_with_instance(
    session: Session, task_id: str
) -> tuple[Task, Instance, dict[str, Task]]:
    """Load a task with its instance locked and the instance's other tasks, in one
    statement; NotFound without it.

    SQLite: the write transaction holds the database lock from BEGIN IMMEDIATE, so what
    it reads is current, and the seqs after the newest are the step's. PostgreSQL:
    `FOR UPDATE OF` the instance and its tasks, with the instance's `xmin` as the
    statement's snapshot saw it and as locked, and the history seqs the step will most
    likely need (`audit.PRESEQS`). A statement that waited for the lock gets the locked
    rows as the holder left them (PostgreSQL rechecks them) but no row the holder
    added, and took its seqs before the holder took its own: when the two `xmin`s
    differ, the tasks are read again and the seqs dropped. Every writer of a case moves
    its row (its state or its history head), so equal `xmin`s mean the snapshot is
    current.
    """
    if is_sqlite(session):
        rows = session.execute(_LOCK_QUERIES["sqlite"], {"task_id": task_id}).all()
        found = [row[1] for row in rows if row[1].id == task_id]
        if not found:
            raise NotFound(key="error_task_not_found", task_id=task_id)
        newest = rows[0][2] or 0
        upcoming = list(range(newest + 1, newest + 1 + audit.PRESEQS))
        audit.keep_seqs(session, upcoming, chain=rows[0][0].id)
        return found[0], rows[0][0], {row[1].id: row[1] for row in rows}
    rows = session.execute(_LOCK_QUERIES["postgresql"], {"task_id": task_id}).all()
    found = [row[1] for row in rows if row[1].id == task_id]
    if not found:
        raise NotFound(key="error_task_not_found", task_id=task_id)
    first: Any = rows[0]
    instance, locked, seen, seqs = first[0], first[2], first[3], first[4]
    tasks = {row[1].id: row[1] for row in rows}
    audit.keep_seqs(session, seqs if locked == seen else None, chain=instance.id)
    if locked != seen:  # waited for a writer of the case: read what it left
        tasks = _task_rows(session, instance.id)
    return tasks[task_id], instance, tasks


# ---------------------------------------------------------------- running


def _run_engine(workflow: BpmnWorkflow, action: Any = None, *, actor: Actor | None = None) -> None:
    """Run `action` and then the engine up to its next wait state (scripts see `actor` as
    `current_user()`), mapping its failures."""
    try:
        with acting_user(actor.username if actor is not None else None):
            if action is not None:
                action()
            workflow.do_engine_steps()
    except SpiffWorkflowException as exc:
        raise _process_error(exc) from exc


def _process_error(exc: SpiffWorkflowException) -> ProcessError:
    task_spec = getattr(getattr(exc, "task", None), "task_spec", None) or getattr(
        exc, "task_spec", None
    )
    element_id = getattr(task_spec, "bpmn_id", None)
    element_name = getattr(task_spec, "bpmn_name", None)
    detail = str(exc)
    inner = exc.__cause__ or exc.__context__
    if inner is not None and str(inner) not in detail:
        # SpiffWorkflow's wrapper hides the cause ("name 'os' is not defined"); show it.
        detail = f"{detail} ({type(inner).__name__}: {inner})"
    where = (
        f" at {element_id}" + (f" ({element_name})" if element_name else "") if element_id else ""
    )
    return ProcessError(
        f"the process failed{where}: {detail}", element_id=element_id, element_name=element_name
    )


def _ready_user_tasks(workflow: BpmnWorkflow) -> list[SpiffTask]:
    return workflow.get_tasks(state=TaskState.READY, manual=True)


def _evaluate_property(workflow: BpmnWorkflow, task: SpiffTask, name: str) -> Any:
    expression = (task.task_spec.extensions or {}).get("properties", {}).get(name)
    if not expression:
        return None
    try:
        return workflow.script_engine.evaluate(task, expression)
    except SpiffWorkflowException as exc:
        raise _process_error(exc) from exc


def _department_of(workflow: BpmnWorkflow, task: SpiffTask) -> str:
    """Return the owning department: the `department` property when given, else the lane."""
    value = _evaluate_property(workflow, task, "department")
    code = department_for_lane(str(value)) if value else department_for_lane(task.task_spec.lane)
    if code is None:
        raise ProcessError(
            f"task {task.task_spec.bpmn_id} has no department: lane {task.task_spec.lane!r}, "
            f"department property {value!r}; expected one of {', '.join(department_codes())}",
            element_id=task.task_spec.bpmn_id,
            element_name=task.task_spec.bpmn_name,
        )
    return code


def _project_tasks(session: Session, step: _Step, *, actor: Actor, now: datetime) -> None:
    """Make the task table match the workflow's READY user tasks."""
    ready = {str(t.id): t for t in _ready_user_tasks(step.workflow)}
    for task_id, row in step.open_tasks.items():
        if task_id not in ready and row.state == "open":
            row.state = "cancelled"
            row.completed_at = now
            row.next_sla_at = None
            step.events.append(
                PendingEvent(
                    type="task_cancelled",
                    actor=actor.username,
                    instance_id=row.instance_id,
                    task_id=row.id,
                    element_id=row.element_id,
                    data={"name": row.name},
                    at=now,
                )
            )
    for task_id, spiff_task in ready.items():
        if task_id in step.open_tasks:
            continue
        spec = spiff_task.task_spec
        department = _department_of(step.workflow, spiff_task)
        assignee = _evaluate_property(step.workflow, spiff_task, "assignee") or None
        if assignee and _deactivated(session, str(assignee)):
            assignee = None  # a deactivated user's work lands in the department queue
        plan = plan_task(
            properties=(spec.extensions or {}).get("properties", {}),
            data=spiff_task.data,
            created_at=now,
            department_calendar=department_calendar(session, department),
            session=session,
        )
        row = Task(
            id=task_id,
            instance_id=step.instance.id,
            process_key=step.instance.process_key,
            element_id=spec.bpmn_id,
            name=spec.bpmn_name or spec.bpmn_id,
            department=department,
            assignee=str(assignee) if assignee else None,
            state="open",
            created_at=now,
            due_at=plan.due_at if plan else None,
            warn_at=plan.warn_at if plan else None,
            sla_calendar=plan.calendar if plan else None,
            escalation_ladder=plan.ladder if plan else None,
            sla_status="on_track",
            escalation_level=0,
        )
        row.next_sla_at = first_sla_step(row)
        session.add(row)
        step.open_tasks[task_id] = row
        step.tasks[task_id] = row
        step.events.append(
            PendingEvent(
                type="task_created",
                actor=actor.username,
                instance_id=step.instance.id,
                task_id=task_id,
                element_id=spec.bpmn_id,
                data={
                    "name": row.name,
                    "department": department,
                    "assignee": row.assignee,
                    "due_at": row.due_at.isoformat() if row.due_at else None,
                },
                at=now,
            )
        )


def _deactivated(session: Session, username: str) -> bool:
    user = get_user(session, username)
    return user is not None and not user.is_active


def current_variables(workflow: BpmnWorkflow) -> dict[str, Any]:
    """Return the case variables: the data of the workflow's open front (or its end data)."""
    if workflow.is_completed():
        source = [workflow.data] if workflow.data else []
        if workflow.last_task is not None:
            source.insert(0, workflow.last_task.data)
    else:
        front = workflow.get_tasks(
            state=TaskState.READY | TaskState.WAITING | TaskState.STARTED, skip_subprocesses=True
        )
        front.sort(key=lambda t: t.last_state_change)
        source = [t.data for t in front]
        if workflow.last_task is not None:
            source.insert(0, workflow.last_task.data)
    merged: dict[str, Any] = {}
    for data in source:
        merged.update(data)
    return _json_clean(merged)


def _json_clean(value: Any) -> Any:
    """Return a JSON-storable copy of task data (dates as ISO text, drop callables)."""
    if isinstance(value, dict):
        return {str(k): _json_clean(v) for k, v in value.items() if not callable(v)}
    if isinstance(value, (list, tuple, set)):
        return [_json_clean(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _next_timer_at(workflow: BpmnWorkflow) -> datetime | None:
    due: list[datetime] = []
    for pending in workflow.waiting_events():
        value = pending.value
        if pending.event_type.endswith("TimerEventDefinition") and isinstance(value, str):
            try:
                due.append(clock.to_utc(datetime.fromisoformat(value)))
            except ValueError:
                continue
    return min(due) if due else None


def variable_changes(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the case variables a step changed, as `{name, before, after}` by name
    (a variable the step added has `added` true, one it removed `removed` true)."""
    changes: list[dict[str, Any]] = []
    for name in sorted(set(before) | set(after)):
        if name not in after:
            changes.append({"name": name, "before": before[name], "after": None, "removed": True})
        elif name not in before:
            changes.append({"name": name, "before": None, "after": after[name], "added": True})
        elif before[name] != after[name]:
            changes.append({"name": name, "before": before[name], "after": after[name]})
    return changes


def _record_changes(
    step: _Step, before: dict[str, Any], after: dict[str, Any], *, actor: Actor, now: datetime
) -> None:
    """Put the step's change of the case variables on the event that caused it."""
    changes = variable_changes(before, after)
    if not changes:
        return
    if step.events:
        cause = step.events[0]
        cause.data = {**(cause.data or {}), "changes": changes}
        return
    step.events.append(
        PendingEvent(
            type="variables_changed",
            actor=actor.username,
            instance_id=step.instance.id,
            at=now,
            data={"changes": changes},
        )
    )


def _save(
    session: Session,
    step: _Step,
    *,
    actor: Actor,
    now: datetime,
    pending: list[PendingEvent] | None = None,
) -> None:
    """Project tasks, store the workflow state and variables, and append the events (or
    add them to `pending`, for a caller that appends them at its end)."""
    _project_tasks(session, step, actor=actor, now=now)
    instance = step.instance
    try:
        instance.workflow_state = dump_state(step.workflow)
    except (TypeError, ValueError) as exc:
        # A script produced a value that is not JSON (a set, an object): refuse the step.
        raise ProcessError(f"the case data cannot be stored: {exc}") from exc
    instance.serializer_version = SERIALIZER_VERSION
    before = instance.variables or {}
    instance.variables = current_variables(step.workflow)
    _record_changes(step, before, instance.variables, actor=actor, now=now)
    instance.next_timer_at = _next_timer_at(step.workflow)
    if step.workflow.is_completed() and instance.status == "running":
        instance.status = "completed"
        instance.ended_at = now
        step.events.append(
            PendingEvent(
                type="instance_completed",
                actor=actor.username,
                instance_id=instance.id,
                at=now,
                data={"variables": instance.variables},
            )
        )
    # The events' seqs and hashes first: the instance's one UPDATE carries its new
    # history head with its state (a step writes the instance row once).
    prepared = prepare_events(session, step.events, held=[instance]) if pending is None else None
    if prepared is not None:
        _stamp_event_seqs(step, prepared.seqs)
    try:
        # the step's rows by prebuilt statements (anything else by the ORM's flush)
        write_step_rows(session, [instance, *step.tasks.values()])
    except StaleDataError as exc:
        raise ConcurrentUpdate(key="error_concurrent_update") from exc
    run_step_hooks(session, instance=instance, events=step.events)  # they see the saved step
    if prepared is None:
        assert pending is not None
        pending.extend(step.events)
    else:
        prepared.write()


def _stamp_event_seqs(step: _Step, seqs: list[int]) -> None:
    """Put the seqs of the step's task events on their rows (written with them): the
    case record orders its steps by them without reading the history."""
    for event, seq in zip(step.events, seqs, strict=True):
        row = step.tasks.get(event.task_id) if event.task_id else None
        if row is None:
            continue
        if event.type == "task_created":
            row.created_seq = seq
        elif event.type == "task_completed":
            row.completed_seq = seq


# ---------------------------------------------------------------- operations


def start_instance(
    session: Session,
    *,
    process_key: str,
    variables: Any,
    business_key: str | None = None,
    actor: Actor,
    language: str = "zh-CN",
) -> CaseState:
    """Start an instance of the newest version of a process and run it to its first wait."""
    access.require_can_start(actor)
    version = get_version(session, process_key)
    spec, subprocess_specs = SPEC_CACHE.get(session, version.id)
    start_event = start_event_id(session, version)
    data = validate_submission(
        version_form(session, version.id, start_event),
        variables,
        language=language,
        user_check=_user_check(session),
    )
    if business_key is not None and (not isinstance(business_key, str) or len(business_key) > 200):
        raise InvalidData([FieldProblem("business_key", "must be text of at most 200 characters")])
    run_start_checks(session, process_key=process_key, variables=data, actor=actor)
    now = clock.now()
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=restricted_script_engine())
    instance = Instance(
        id=str(uuid.uuid4()),
        process_key=process_key,
        version_id=version.id,
        version=version.version,
        business_key=business_key,
        status="running",
        variables={},
        workflow_state="",
        serializer_version=SERIALIZER_VERSION,
        started_at=now,
        started_by=actor.username,
    )
    session.add(instance)
    step = _Step(instance, workflow, {})
    step.events.append(
        PendingEvent(
            type="instance_started",
            actor=actor.username,
            instance_id=instance.id,
            element_id=start_event,
            at=now,
            data={
                "process_key": process_key,
                "version": version.version,
                "business_key": business_key,
                "variables": _json_clean(data),
            },
        )
    )

    def seed_start_data() -> None:
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(data)

    _run_engine(workflow, seed_start_data, actor=actor)
    _save(session, step, actor=actor, now=now)
    return step.case_state()


def _user_check(session: Session) -> Callable[[str, str | None, list[str]], bool]:
    """Return the check forms use for `user` fields: an active user of that department."""

    def check(username: str, department: str | None, roles: list[str]) -> bool:
        user = get_user(session, username)
        if user is None or not user.is_active:
            return False
        if department is not None and user.department_code != department:
            return False
        return not roles or bool(user.role_names & set(roles))

    return check


def complete_task(
    session: Session, *, task_id: str, variables: Any, actor: Actor, language: str = "zh-CN"
) -> tuple[Task, CaseState]:
    """Complete an open user task with submitted data and run the process on."""
    task, instance, tasks = _lock_task_with_instance(session, task_id)
    access.require_work_task(actor, task)
    step = _checked_open(session, task, _load(session, instance, tasks))
    if task.assignee is not None and task.assignee != actor.username:
        raise TaskHeldByOther(key="error_task_claimed_by", assignee=task.assignee)
    data = validate_submission(
        version_form(session, step.instance.version_id, task.element_id),
        variables,
        language=language,
        user_check=_user_check(session),
    )
    now = clock.now()
    spiff_task = _spiff_task(step.workflow, task)
    # The step's own record, copied before any script can change the data it shares.
    submitted = _json_clean(data)

    def run_task() -> None:
        spiff_task.data.update(data)
        spiff_task.run()

    _run_engine(step.workflow, run_task, actor=actor)
    task.state = "completed"
    task.submitted = submitted
    task.completed_at = now
    task.completed_by = actor.username
    task.next_sla_at = None  # completing stops the clock and the escalation
    if task.paused_at is not None:  # completing a paused task ends its pause, as resuming
        step.events.append(pauses.end_pause(task, now=now, actor=actor, on_completion=True))
    if task.due_at is not None:
        task.working_seconds = pauses.working_seconds_taken(task, now)
    task.assignee = task.assignee or actor.username
    step.open_tasks.pop(task.id, None)
    step.events.append(
        PendingEvent(
            type="task_completed",
            actor=actor.username,
            instance_id=task.instance_id,
            task_id=task.id,
            element_id=task.element_id,
            at=now,
            data={
                "name": task.name,
                "department": task.department,
                "variables": submitted,
                "assignee": task.assignee,
                "due_at": task.due_at.isoformat() if task.due_at else None,
                "working_seconds": task.working_seconds,
                "sla_status": task.sla_status,
                "escalation_level": task.escalation_level,
            },
        )
    )
    _save(session, step, actor=actor, now=now)
    return task, step.case_state()


def _spiff_task(workflow: BpmnWorkflow, task: Task) -> SpiffTask:
    spiff_task = workflow.get_task_from_id(uuid.UUID(task.id))
    if spiff_task is None or spiff_task.state != TaskState.READY:
        raise TaskNotOpen(key="error_task_no_longer_open")
    return spiff_task


def _require_open(task: Task) -> None:
    if task.state != "open":
        raise TaskNotOpen(key=f"error_task_is_{task.state}")


def claim_task(session: Session, *, task_id: str, actor: Actor) -> Task:
    """Claim an open task of the actor's department."""
    task = _load_task(session, task_id)
    access.require_work_task(actor, task)
    lock_task_row(session, task)
    _require_open(task)
    if task.assignee == actor.username:
        return task
    if task.assignee is not None:
        raise TaskHeldByOther(key="error_task_claimed_by", assignee=task.assignee)
    task.assignee = actor.username
    append_task_event(session, task, "task_claimed", actor, {"assignee": actor.username})
    return task


def unclaim_task(session: Session, *, task_id: str, actor: Actor) -> Task:
    """Give a claimed task back to its department's queue."""
    task = _load_task(session, task_id)
    access.require_work_task(actor, task)
    lock_task_row(session, task)
    _require_open(task)
    if task.assignee is None:
        return task
    if task.assignee != actor.username and not access.supervises_task(actor, task):
        raise TaskHeldByOther(key="error_task_claimed_by", assignee=task.assignee)
    previous = task.assignee
    task.assignee = None
    append_task_event(session, task, "task_unclaimed", actor, {"previous_assignee": previous})
    return task


def assign_task(session: Session, *, task_id: str, username: Any, actor: Actor) -> Task:
    """Assign an open task to a member of its department (supervisors, executives)."""
    task = _load_task(session, task_id)
    access.require_assign(actor, task)
    if not isinstance(username, str) or not username:
        raise InvalidData([FieldProblem("username", key="problem_assignee_missing")])
    user = get_user(session, username)
    if user is None or not user.is_active:
        raise InvalidData(
            [FieldProblem("username", key="problem_no_active_user", params={"username": username})]
        )
    if user.department_code != task.department or not user.role_names & {"staff", "supervisor"}:
        raise InvalidData(
            [
                FieldProblem(
                    "username",
                    key="problem_not_department_staff",
                    params={"username": username, "department": task.department},
                )
            ]
        )
    variable = _declared_property(session, task, "assignee_variable")
    if variable:
        # The case variable follows the assignee: lock and load the case (instance
        # first, as completing does), so the change is saved, recorded and hooked.
        step = _lock_task_instance(session, task)
    else:
        lock_task_row(session, task)
        _require_open(task)
    previous = task.assignee
    if previous == username:
        return task  # already theirs: nothing changes, nothing to record
    task.assignee = username
    data = {"assignee": username, "previous_assignee": previous}
    if not variable:
        append_task_event(session, task, "task_assigned", actor, data)
        return task
    now = clock.now()
    _spiff_task(step.workflow, task).data[variable] = username
    step.events.append(
        PendingEvent(
            type="task_assigned",
            actor=actor.username,
            instance_id=task.instance_id,
            task_id=task.id,
            element_id=task.element_id,
            at=now,
            data={"name": task.name, **data},
        )
    )
    _save(session, step, actor=actor, now=now)
    return task


@dataclass
class CaseEdit:
    """One locked and loaded case whose open tasks' assignees and case variables a caller
    changes (a handover); `edit_case` saves it as one step when anything changed."""

    step: _Step
    actor: Actor
    now: datetime
    changed: bool = False

    @property
    def instance(self) -> Instance:
        return self.step.instance

    def open_tasks(self) -> list[Task]:
        """The case's open tasks as read under the lock, oldest first."""
        return self.step.case_state().open_tasks

    def assign(self, task: Task, username: str, data: dict[str, Any]) -> None:
        """Give an open task of the case to `username` (`task_assigned` with `data`)."""
        previous, task.assignee = task.assignee, username
        self.changed = True
        self.step.events.append(
            task_event(
                task,
                "task_assigned",
                self.actor,
                {"assignee": username, "previous_assignee": previous, **data},
                self.now,
            )
        )

    def note_variables(self, data: dict[str, Any]) -> None:
        """Open the step with a `variables_changed` event carrying `data` (the change of
        the case variables is put on it), for a change that moves no task."""
        self.step.events.insert(
            0,
            PendingEvent(
                type="variables_changed",
                actor=self.actor.username,
                instance_id=self.instance.id,
                at=self.now,
                data=dict(data),
            ),
        )

    def replace_variable(self, name: str, old: str, new: str) -> bool:
        """Set the case variable `name` from `old` to `new` on every unfinished task of the
        workflow (what later tasks inherit); tell whether any held it."""
        found = False
        for spiff_task in self.step.workflow.get_tasks(state=TaskState.NOT_FINISHED_MASK):
            if spiff_task.data.get(name) == old:
                spiff_task.data[name] = new
                found = True
        self.changed = self.changed or found
        return found


@contextmanager
def edit_case(
    session: Session, *, instance_id: str, actor: Actor, pending: list[PendingEvent]
) -> Iterator[CaseEdit]:
    """Lock a case (as completing does) and load it for a `CaseEdit`; on leaving the block
    save what changed as one step (variable changes on its first event, step hooks).

    Its events go to `pending`, for the caller to append once every case is saved: the
    history's lock is taken last, as by a completion, so an operation over many cases
    never holds it while it waits for a case's lock (no deadlock with a completion)."""
    instance = _lock_instance(session, instance_id)
    if instance is None:
        raise NotFound(key="error_instance_not_found", instance_id=instance_id)
    edit = CaseEdit(_load(session, instance), actor, clock.now())
    yield edit
    if edit.changed:
        _save(session, edit.step, actor=actor, now=edit.now, pending=pending)


def declared_properties(session: Session, version_id: int, name: str) -> dict[str, str]:
    """Return the literal extension property `name` of every task of a version, by element."""
    spec, subprocess_specs = SPEC_CACHE.get(session, version_id)
    found: dict[str, str] = {}
    for process in (spec, *subprocess_specs.values()):
        for task_spec in process.task_specs.values():
            value = (getattr(task_spec, "extensions", None) or {}).get("properties", {}).get(name)
            if value and str(value).strip():
                found[task_spec.bpmn_id] = str(value).strip()
    return found


def _declared_property(session: Session, task: Task, name: str) -> str | None:
    """Return a literal extension property of the task's element in its case's version."""
    instance = session.get(Instance, task.instance_id)
    assert instance is not None
    spec, subprocess_specs = SPEC_CACHE.get(session, instance.version_id)
    for process in (spec, *subprocess_specs.values()):
        for task_spec in process.task_specs.values():
            # A multi-instance task's wrapper has no extensions; its instance's spec does.
            if getattr(task_spec, "bpmn_id", None) == task.element_id and hasattr(
                task_spec, "extensions"
            ):
                value = (task_spec.extensions or {}).get("properties", {}).get(name)
                return str(value).strip() or None if value else None
    return None


def add_comment(
    session: Session, *, task_id: str, text: Any, actor: Actor, escalated_to_actor: bool = False
) -> TaskComment:
    """Add a comment to a task (any state) and record it in the history."""
    task = _load_task(session, task_id)
    access.require_comment(actor, task, escalated_to_actor=escalated_to_actor)
    if not isinstance(text, str) or not text.strip():
        raise InvalidData([FieldProblem("text", key="problem_comment_empty")])
    if len(text) > 10_000:
        raise InvalidData([FieldProblem("text", key="problem_comment_too_long")])
    now = clock.now()
    comment = TaskComment(
        task_id=task.id,
        instance_id=task.instance_id,
        author=actor.username,
        text=text.strip(),
        created_at=now,
    )
    session.add(comment)
    session.flush()
    append_task_event(session, task, "task_commented", actor, {"text": comment.text})
    return comment


def cancel_instance(session: Session, *, instance_id: str, reason: Any, actor: Actor) -> CaseState:
    """Cancel a running instance and its open tasks (supervisors, admins)."""
    access.require_can_cancel(actor)
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidData([FieldProblem("reason", "say why the case is cancelled")])
    instance = _lock_instance(session, instance_id)
    if instance is None:
        raise NotFound(key="error_instance_not_found", instance_id=instance_id)
    if instance.status not in ("running", "error"):
        raise TaskNotOpen(key=f"error_case_is_{instance.status}")
    step = _load(session, instance)
    now = clock.now()
    step.workflow.cancel()
    instance.status = "cancelled"
    instance.ended_at = now
    _project_tasks(session, step, actor=actor, now=now)  # tasks cancelled before the case
    step.events.append(
        PendingEvent(
            type="instance_cancelled",
            actor=actor.username,
            instance_id=instance.id,
            at=now,
            data={"reason": reason.strip()},
        )
    )
    _save(session, step, actor=actor, now=now)
    return step.case_state()


# ---------------------------------------------------------------- timers


def due_timer_instance_ids(
    session: Session, *, at: datetime, limit: int = 200, after: str | None = None
) -> list[str]:
    """Return ids of running instances with a timer due by `at`, in id order (one batch)."""
    stmt = (
        select(Instance.id)
        .where(Instance.status == "running", Instance.next_timer_at <= clock.to_utc(at))
        .order_by(Instance.id)
        .limit(limit)
    )
    if after is not None:
        stmt = stmt.where(Instance.id > after)
    return list(session.execute(stmt).scalars())


def fire_due_timers(session: Session, *, instance_id: str, at: datetime, actor: Actor) -> list[str]:
    """Fire the timers of one instance due by `at`; return the element ids that fired.

    Skips (returns []) when another worker holds the instance or nothing is due
    any more, so concurrent rounds never fire a timer twice.
    """
    instance = _lock_instance(session, instance_id, skip_locked=True)
    at = clock.to_utc(at)
    if (
        instance is None
        or instance.status != "running"
        or instance.next_timer_at is None
        or instance.next_timer_at > at
    ):
        return []
    step = _load(session, instance)
    before = _waiting_timers(step.workflow)
    # SpiffWorkflow fires a timer only when its due time is strictly before "now";
    # "due by T" includes T itself.
    with clock.frozen_at(at + timedelta(microseconds=1)):
        _run_engine(step.workflow, step.workflow.refresh_timers, actor=actor)
        after = _waiting_timers(step.workflow)
        # A timer fired when it stopped waiting, or (a cycle) when its next due time moved.
        fired = [
            element
            for task_id, (element, due) in before.items()
            if task_id not in after or after[task_id][1] != due
        ]
        for element_id in fired:
            step.events.append(
                PendingEvent(
                    type="timer_fired",
                    actor=actor.username,
                    instance_id=instance.id,
                    element_id=element_id,
                    at=at,
                    data={"due_by": at.isoformat()},
                )
            )
        _save(session, step, actor=actor, now=at)
    return fired


def _waiting_timers(workflow: BpmnWorkflow) -> dict[str, tuple[str, Any]]:
    """Return waiting timer tasks as task id -> (element id, due value)."""
    timers = {}
    for task in list(workflow.event_manager.tasks.values()):
        definition = task.task_spec.event_definition
        if "Timer" in type(definition).__name__:
            timers[str(task.id)] = (task.task_spec.bpmn_id, definition.details(task).value)
    return timers


def mark_instance_error(session: Session, *, instance_id: str, message: str, actor: Actor) -> None:
    """Record that background work on an instance failed, without losing its state."""
    instance = _lock_instance(session, instance_id)
    if instance is None or instance.status != "running":
        return
    instance.status = "error"
    instance.error = message
    instance.next_timer_at = None
    session.flush()
    append_events(
        session,
        [
            PendingEvent(
                type="instance_error",
                actor=actor.username,
                instance_id=instance_id,
                data={"error": message},
            )
        ],
        held=[instance],
    )
