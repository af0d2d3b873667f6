"""Read-side queries: the inbox task list, instance visibility, history reads."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    any_,
    exists,
    func,
    literal,
    or_,
    select,
    union,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import False_

from engine import access, clock
from engine.errors import FieldProblem, InvalidData, NotFound, NotPermitted
from engine.identity import Actor
from engine.models import CaseFact, HistoryEvent, Instance, Task, TaskComment
from engine.models.tasks import TASK_STATES
from engine.privacy import contains, phone_matches
from engine.sla.ladder import escalated_to

TASK_SCOPES = ("mine", "department", "escalated", "all")
SEARCH_LIMIT = 2000
# Lists count their rows up to this many and then say "more": an exact count of a
# million open tasks reads a million index entries on every page (see `Count`).
COUNT_LIMIT = 1000


@dataclass(frozen=True)
class Count:
    """How many rows match: exactly `n` when `exact`, else more than `n` (counted up to
    a bound, so that a count costs at most that many index entries)."""

    n: int
    exact: bool = True


def bounded_count(
    session: Session, query: Select[Any], limit: int | None, *, order_by: Sequence[Any] = ()
) -> Count:
    """Count the rows of `query` up to `limit` (None, or past any table's size: all).

    `order_by`: an order an index of the query's table delivers, for the bounded count
    to read in (see `_task_count_order`)."""
    if limit is not None and limit >= 2**62:  # a page asked for past 2^62 rows
        limit = None
    if limit is None:
        return Count(
            int(session.execute(select(func.count()).select_from(query.subquery())).scalar_one())
        )
    found = session.execute(
        select(func.count()).select_from(query.order_by(*order_by).limit(limit + 1).subquery())
    ).scalar_one()
    return Count(min(int(found), limit), int(found) <= limit)


@dataclass(frozen=True)
class TaskFilters:
    scope: str = "mine"
    state: str | None = "open"
    overdue: bool = False
    process_key: str | None = None
    element_id: str | None = None
    instance_id: str | None = None
    sla_status: str | None = None
    project: str | None = None
    # customer name, phone (partial) or business key
    search: str | None = None
    limit: int = 50
    offset: int = 0


def known_projects(session: Session) -> list[str]:
    """Return the projects named by the case facts, for filters.

    A skip scan of the project index (each step the next larger project): as many
    index probes as there are projects, however many cases name them.
    """
    step = (
        select(func.min(CaseFact.project).label("project"))
        .where(CaseFact.project.is_not(None))
        .cte("projects", recursive=True)
    )
    following = select(func.min(CaseFact.project)).where(CaseFact.project > step.c.project)
    step = step.union_all(
        select(following.scalar_subquery().label("project")).where(step.c.project.is_not(None))
    )
    rows = session.execute(select(step.c.project).where(step.c.project.is_not(None))).scalars()
    return sorted({r for r in rows if r})


def case_facts_of(session: Session, instance_ids: Iterable[str]) -> dict[str, CaseFact]:
    """Return the case facts of these instances by instance id (cases without any left out)."""
    ids = set(instance_ids)
    if not ids:
        return {}
    return {
        f.instance_id: f
        for f in session.execute(select(CaseFact).where(CaseFact.instance_id.in_(ids))).scalars()
    }


def list_tasks(session: Session, *, actor: Actor, filters: TaskFilters) -> tuple[list[Task], int]:
    """Return one page of the actor's tasks in `scope` and their exact number."""
    rows, total = task_page(session, actor=actor, filters=filters, count_limit=None)
    return rows, total.n


def task_page(
    session: Session,
    *,
    actor: Actor,
    filters: TaskFilters,
    count_limit: int | None,
    counted: Count | None = None,
) -> tuple[list[Task], Count]:
    """Return one page of the actor's tasks in `scope`, overdue first then by due time,
    and how many match (counted up to `count_limit`, and at least past this page).

    Overdue tasks are exactly those due before now, so ascending due time puts
    them first (most overdue first) and lets the (…, state, due_at) indexes
    deliver the page without sorting the whole scope. `counted`: the count of these
    filters up to `count_limit`, known already (the inbox's tab count).
    """
    conditions = _task_conditions(session, actor, filters)
    limit, offset = max(1, min(filters.limit, 500)), max(0, filters.offset)
    if count_limit is not None and offset + limit > count_limit:
        count_limit, counted = offset + limit, None
    if _finds_nothing(conditions):
        return [], Count(0)
    total = counted or bounded_count(
        session,
        select(Task.id).where(*conditions),
        count_limit,
        order_by=_task_count_order(session, filters),
    )
    if filters.state is None:
        return _page_of_every_state(session, conditions, limit, offset), total
    rows = (
        session.execute(
            select(Task).where(*conditions).order_by(*_due_order(Task)).limit(limit).offset(offset)
        )
        .scalars()
        .all()
    )
    return list(rows), total


def _due_order(columns: Any) -> tuple[Any, ...]:
    """Overdue first then by due time (no due time last), then by creation."""
    return (columns.due_at.asc().nulls_last(), columns.created_at, columns.id)


def _page_of_every_state(
    session: Session, conditions: list[Any], limit: int, offset: int
) -> list[Task]:
    """One page of tasks in any state: the first `offset + limit` of each state in due
    order (each from its (…, state, due_at) index), merged, instead of sorting every
    task of the scope."""
    firsts = [
        select(Task.id, Task.due_at, Task.created_at)
        .where(*conditions, Task.state == state)
        .order_by(*_due_order(Task))
        .limit(offset + limit)
        .subquery()
        for state in TASK_STATES
    ]
    merged = union_all(*(select(first) for first in firsts)).subquery()
    ids = list(
        session.execute(
            select(merged.c.id).order_by(*_due_order(merged.c)).limit(limit).offset(offset)
        ).scalars()
    )
    found = {t.id: t for t in session.execute(select(Task).where(Task.id.in_(ids))).scalars()}
    return [found[i] for i in ids]


def count_tasks(
    session: Session, *, actor: Actor, filters: TaskFilters, limit: int | None
) -> Count:
    """Return how many tasks `list_tasks` would find (the inbox's tab counts), counted
    up to `limit` (None: all)."""
    conditions = _task_conditions(session, actor, filters)
    if _finds_nothing(conditions):
        return Count(0)
    return bounded_count(
        session,
        select(Task.id).where(*conditions),
        limit,
        order_by=_task_count_order(session, filters),
    )


def _task_count_order(session: Session, filters: TaskFilters) -> tuple[Any, ...]:
    """The order a bounded count of the SLA filter reads in: on PostgreSQL the due order
    its indexes (department or not, state, status, due order) deliver, so that the count
    walks one of them and stops at its limit. Unordered, the planner took a bitmap scan
    of every task of the filter (sales + breached + a project at a million: 100 000
    index entries, 52 ms; with parallel workers 682 ms) where the ordered scan stops after
    the 3 000 it needs (31 ms). Other counts stay unordered: a project's count of every
    open task reads the (instance, state) index alone, 1.5 ms, and ordered it would fetch
    each task's row (15 ms); tasks of every state have no index in the due order, nor
    does SQLite keep the due order's NULLS LAST."""
    if (
        filters.sla_status is None
        or filters.state is None
        or session.get_bind().dialect.name == "sqlite"
    ):
        return ()
    return _due_order(Task)


def _finds_nothing(conditions: list[Any]) -> bool:
    """Whether a condition is plain false (the escalated scope of someone no rung reaches)."""
    return any(isinstance(c, False_) for c in conditions)


def _one_of(field: str, values: tuple[str, ...]) -> FieldProblem:
    return FieldProblem(field, key="problem_one_of", params={"values": ", ".join(values)})


def _task_conditions(session: Session, actor: Actor, filters: TaskFilters) -> list[Any]:
    if filters.scope not in TASK_SCOPES:
        raise InvalidData([_one_of("scope", TASK_SCOPES)])
    if filters.state not in (None, "open", "completed", "cancelled"):
        raise InvalidData([_one_of("state", ("open", "completed", "cancelled"))])
    access.require_scope(actor, filters.scope)
    now = clock.now()
    conditions = []
    if filters.scope == "mine":
        conditions.append(Task.assignee == actor.username)
    elif filters.scope == "department":
        conditions.append(Task.department == (actor.department or ""))
    elif filters.scope == "escalated":
        conditions.append(escalated_to(actor))
    if filters.state:
        conditions.append(Task.state == filters.state)
    if filters.sla_status:
        if filters.sla_status not in ("on_track", "at_risk", "breached"):
            raise InvalidData([_one_of("sla_status", ("on_track", "at_risk", "breached"))])
        conditions.append(Task.sla_status == filters.sla_status)
    if filters.project:
        # Correlated: the scope's tasks in due order, each case's facts by primary key
        # (a project names a third of the cases; a semi-join would hash them all).
        conditions.append(
            exists().where(
                CaseFact.instance_id == Task.instance_id, CaseFact.project == filters.project
            )
        )
    if filters.search:
        # LIKE, not ILIKE: Chinese names have no case, phones are digits, and ILIKE on
        # UTF-8 text costs PostgreSQL 4x; business keys are matched as typed and in capitals.
        # `%` and `_` are plain characters; a phone matches only as the whole number or
        # its last four digits (the rule of GET /customers?q=, engine/privacy.py).
        q = filters.search
        facts = [contains(CaseFact.customer_name, q)]
        phone = phone_matches(CaseFact.phone, q)
        if phone is not None:
            facts.append(phone)
        # Resolve the matching cases first (a scan of narrow rows and the business-key
        # index), then filter the tasks by them on the instance index; at most
        # SEARCH_LIMIT cases.
        cases = session.execute(
            union(
                select(CaseFact.instance_id).where(or_(*facts)),
                select(Instance.id).where(
                    or_(
                        contains(Instance.business_key, q),
                        contains(Instance.business_key, q.upper()),
                    )
                ),
            ).limit(SEARCH_LIMIT)
        ).scalars()
        conditions.append(_among(session, Task.instance_id, list(cases) or [""]))
    if filters.overdue:
        conditions.append(Task.state == "open")
        conditions.append(Task.due_at < now)
    for column, value in (
        (Task.process_key, filters.process_key),
        (Task.element_id, filters.element_id),
        (Task.instance_id, filters.instance_id),
    ):
        if value:
            conditions.append(column == value)
    return conditions


def _among(session: Session, column: Any, values: list[str]) -> ColumnElement[bool]:
    """`column` is one of `values`: on PostgreSQL `= ANY` of one array parameter. An
    IN list binds, sends and plans a parameter per value, and the count and the page of
    a search by four digits carry the hundreds of cases it matches at a million tasks:
    with 300, the inbox page took 48.0 / 38.6 ms (median) with IN lists and 41.6 / 35.0
    as arrays, requests alternating; at 100 000 tasks (30 cases) the same."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(literal(values, ARRAY(column.type)))  # type: ignore[no-any-return]
    return column.in_(values)  # type: ignore[no-any-return]


def get_task(session: Session, *, task_id: str, actor: Actor) -> Task:
    """Return a task the actor may see."""
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound(key="error_task_not_found", task_id=task_id)
    access.require_read_task(actor, task)
    return task


def get_instance(session: Session, *, instance_id: str, actor: Actor) -> Instance:
    """Return an instance the actor may see: one they started or that has work of theirs."""
    instance = session.get(Instance, instance_id)
    if instance is None:
        raise NotFound(key="error_instance_not_found", instance_id=instance_id)
    if access.reads_every_case(actor) or instance.started_by == actor.username:
        return instance
    involved = session.execute(
        select(
            exists().where(
                Task.instance_id == instance_id,
                or_(
                    Task.assignee == actor.username,
                    Task.completed_by == actor.username,
                    Task.department == (actor.department or ""),
                ),
            )
        )
    ).scalar()
    if not involved:
        raise NotPermitted(key="error_case_not_yours")
    return instance


def instance_of_task(session: Session, task: Task) -> Instance | None:
    """Return the instance a task belongs to."""
    return session.get(Instance, task.instance_id)


def instances_by_id(session: Session, instance_ids: set[str]) -> dict[str, Instance]:
    """Return the instances with these ids, by id (the cases of an inbox page)."""
    if not instance_ids:
        return {}
    rows = session.execute(select(Instance).where(Instance.id.in_(instance_ids))).scalars()
    return {instance.id: instance for instance in rows}


def instance_tasks(session: Session, instance_id: str) -> list[Task]:
    """Return every task of an instance, open or not, by creation time."""
    return list(
        session.execute(
            select(Task).where(Task.instance_id == instance_id).order_by(Task.created_at)
        ).scalars()
    )


def open_tasks_of(session: Session, instance_id: str) -> list[Task]:
    """Return the open tasks of an instance, by creation time."""
    return list(
        session.execute(
            select(Task)
            .where(Task.instance_id == instance_id, Task.state == "open")
            .order_by(Task.created_at, Task.id)
        ).scalars()
    )


def instance_history(session: Session, instance_id: str) -> list[HistoryEvent]:
    """Return the events of one instance, oldest first."""
    return list(
        session.execute(
            select(HistoryEvent)
            .where(HistoryEvent.instance_id == instance_id)
            .order_by(HistoryEvent.seq)
        ).scalars()
    )


def task_comments(session: Session, task_id: str) -> list[TaskComment]:
    """Return the comments of a task, oldest first."""
    return list(
        session.execute(
            select(TaskComment).where(TaskComment.task_id == task_id).order_by(TaskComment.id)
        ).scalars()
    )
