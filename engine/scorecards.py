"""Staff scorecards (`GET /reports/scorecards`): per person, or per department, over a
period — the tasks they completed, the share done on time, breaches, escalations reached,
and the mean of the case ratings of the cases they worked (the appraisal figure).

A person's tasks are those they completed in [since, until) (`completed_by`, on
`completed_at`); a breach or escalation of such a task counts for whoever completed it.
A department's card adds up its members' cards (a user's department now).

Ratings belong to the vertical: a staff-recorded score (`source="staff"`) or the
customer's own answer (`source="customer"`) of one case at one instant. The platform
credits a rating to everyone who had completed a task of that case by then; a
department counts each rating once, however many of its members worked the case. The
vertical calls `credit_rating` as a rating is given (one INSERT … SELECT of the case's
completers into `rating_credit`), so that a reading counts a period's credits from one
index instead of joining a year's ratings to the tasks of their cases (600–700 ms at a
million tasks, bench/reports.py). It also registers a `RatingSource` listing the
ratings given in a period, from which `rebuild_credits` writes the credits anew
(databases filled without the vertical's steps: the benchmarks).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Select, case, delete, func, insert, literal, select, union_all
from sqlalchemy.orm import Session

from engine import access, clock
from engine.errors import FieldProblem, InvalidData, NotPermitted
from engine.identity import Actor
from engine.models import Department, RatingCredit, Task, User, UserRole
from engine.report_sql import tune

GROUP_BY = ("person", "department")
RATING_SOURCES = ("staff", "customer")
ALL_READERS = ("executive", "admin")  # every department's cards


class RatingSource(Protocol):
    """A SELECT of the ratings given in [since, until), one row each, with the columns
    `instance_id`, `at`, `source` ("staff" or "customer"), `score` (1–5) and `ref`
    (a text telling two ratings of one source apart)."""

    def __call__(self, *, since: datetime | None, until: datetime | None) -> Select[Any]: ...


_rating_sources: list[RatingSource] = []


def register_rating_source(source: RatingSource) -> None:
    """List the ratings of `source` for `rebuild_credits` from now on (once)."""
    if source not in _rating_sources:
        _rating_sources.append(source)


_CREDIT_COLUMNS = ("username", "source", "ref", "instance_id", "at", "score")


def _completers(instance_id: Any, at: Any) -> list[Any]:
    """The conditions of the tasks of case `instance_id` completed by `at`, by someone."""
    return [
        Task.instance_id == instance_id,
        Task.state == "completed",
        Task.completed_at <= at,
        Task.completed_by.is_not(None),
    ]


def credit_rating(
    session: Session, *, instance_id: str, at: datetime, source: str, ref: str, score: int
) -> None:
    """Credit one rating, as it is given, to everyone who had completed a task of its
    case by `at`: one INSERT … SELECT (nothing when the score is missing)."""
    if source not in RATING_SOURCES:
        raise ValueError(f"unknown rating source {source!r}")
    if score is None:
        return
    session.flush()  # the step's own task, completed in this transaction, counts
    at = clock.to_utc(at)
    completers = (
        select(
            Task.completed_by,
            literal(source),
            literal(str(ref)),
            literal(instance_id),
            literal(at, RatingCredit.at.type),
            literal(int(score)),
        )
        .where(*_completers(instance_id, at))
        .distinct()
    )
    session.execute(
        insert(RatingCredit).from_select(_CREDIT_COLUMNS, completers),
        execution_options={"synchronize_session": False},
    )


def rebuild_credits(session: Session) -> int:
    """Write every credit anew from the registered rating sources; return how many."""
    session.execute(delete(RatingCredit))
    if not _rating_sources:
        return 0
    ratings = union_all(*(s(since=None, until=None) for s in _rating_sources)).subquery()
    credits = (
        select(
            Task.completed_by,
            ratings.c.source,
            ratings.c.ref,
            ratings.c.instance_id,
            ratings.c.at,
            ratings.c.score,
        )
        .join(ratings, ratings.c.instance_id == Task.instance_id)
        .where(
            Task.state == "completed",
            Task.completed_at <= ratings.c.at,
            Task.completed_by.is_not(None),
            ratings.c.score.is_not(None),
        )
        .distinct()
    )
    session.execute(insert(RatingCredit).from_select(_CREDIT_COLUMNS, credits))
    return int(session.scalar(select(func.count()).select_from(RatingCredit)) or 0)


@dataclass(frozen=True)
class Scope:
    """Whose cards a reading covers: `department` None and `username` None is everyone."""

    department: str | None = None
    username: str | None = None


def scorecard_scope(
    session: Session, *, actor: Actor, department: str | None, username: str | None
) -> Scope:
    """Check the filters and narrow them to what the actor may read: executives and
    admins everyone, supervisors their own department, staff only themselves."""
    problems = []
    if department is not None and session.get(Department, department) is None:
        codes = ", ".join(session.scalars(select(Department.code).order_by(Department.code)))
        problems.append(
            FieldProblem(
                "department",
                key="problem_unknown_department",
                params={"department": department, "values": codes},
            )
        )
    person = None
    if username is not None:
        person = session.scalar(select(User).where(User.username == username))
        if person is None:
            problems.append(
                FieldProblem("username", key="problem_no_user", params={"username": username})
            )
    if problems:
        raise InvalidData(problems)
    if actor.has(*ALL_READERS):
        return Scope(department=department, username=username)
    if actor.has("supervisor") and actor.department is not None:
        if department not in (None, actor.department) or (
            person is not None and person.department_code != actor.department
        ):
            raise NotPermitted(key="error_scorecards_own_department")
        return Scope(department=actor.department, username=username)
    if actor.has(*access.WORKER_ROLES):
        if department is not None or username not in (None, actor.username):
            raise NotPermitted(key="error_scorecards_own_only")
        return Scope(username=actor.username)
    raise NotPermitted(key="error_scorecards_readers")


def _people(session: Session, scope: Scope) -> dict[str, tuple[str, str | None]]:
    """Return the display name and department of each user the scope covers who works
    tasks (staff, supervisors), by username."""
    query = select(User.username, User.display_name, User.department_code)
    if scope.username is not None:
        query = query.where(User.username == scope.username)
    else:
        query = query.where(
            User.id.in_(select(UserRole.user_id).where(UserRole.role.in_(access.WORKER_ROLES)))
        )
    if scope.department is not None:
        query = query.where(User.department_code == scope.department)
    return {name: (display, dept) for name, display, dept in session.execute(query)}


def period_conditions(column: Any, since: datetime | None, until: datetime | None) -> list[Any]:
    """Return the conditions that keep `column` in [since, until) (open-ended when None)."""
    conditions = []
    if since is not None:
        conditions.append(column >= clock.to_utc(since))
    if until is not None:
        conditions.append(column < clock.to_utc(until))
    return conditions


def _task_figures(
    session: Session, people: Sequence[str], since: datetime | None, until: datetime | None
) -> dict[str, dict[str, int]]:
    """One aggregate over the completed tasks of the period, grouped by who completed them."""

    def count(condition: Any) -> Any:
        return func.sum(case((condition, 1), else_=0))

    query = (
        select(
            Task.completed_by,
            func.count(),
            count(Task.due_at.is_not(None)),
            count(Task.completed_at <= Task.due_at),
            count(Task.sla_status == "breached"),
            count(Task.escalation_level >= 1),
            count(Task.escalation_level >= 2),
            count(Task.escalation_level >= 3),
        )
        .where(Task.state == "completed", *period_conditions(Task.completed_at, since, until))
        .group_by(Task.completed_by)
    )
    if len(people) == 1:  # one card: the index on (assignee, state), the completer's
        query = query.where(Task.assignee == people[0], Task.completed_by == people[0])
    names = ("completed", "with_due", "on_time", "breached", "escalated", "level_2", "level_3")
    wanted = set(people)
    return {
        row[0]: dict(zip(names, (int(v or 0) for v in row[1:]), strict=True))
        for row in session.execute(query)
        if row[0] in wanted
    }


Sums = dict[tuple[Any, str], tuple[int, int]]  # (person or department, source): (n, total)


def _rating_sums(
    session: Session,
    people: dict[str, tuple[str, str | None]],
    group_by: str,
    since: Any,
    until: Any,
) -> Sums:
    """Return per person (or per department) of `people` the number of ratings of the
    period credited to them and their total, a department counting each rating once."""
    if not people:
        return {}
    names = sorted(people)
    credit: Any = (
        select(
            RatingCredit.username.label("key"),
            RatingCredit.source,
            RatingCredit.ref,
            RatingCredit.score,
        )
        .where(
            RatingCredit.username.in_(names),
            *period_conditions(RatingCredit.at, since, until),
        )
        .subquery("credit")
    )
    keep: set[Any] = set(people)
    if group_by == "department":
        credit = (
            select(User.department_code.label("key"), credit.c.source, credit.c.ref, credit.c.score)
            .join(User, User.username == credit.c.key)
            .distinct()
            .subquery("by_department")
        )
        keep = {dept for _, dept in people.values()}
    rows = session.execute(
        select(credit.c.key, credit.c.source, func.count(), func.sum(credit.c.score)).group_by(
            credit.c.key, credit.c.source
        )
    )
    return {(k, source): (int(n), int(total or 0)) for k, source, n, total in rows if k in keep}


def _card(tasks: dict[str, int], ratings: Sums, key: Any) -> dict[str, Any]:
    def mean(source: str) -> tuple[int, float | None]:
        n, total = ratings.get((key, source), (0, 0))
        return n, round(total / n, 2) if n else None

    rated, average = mean("staff")
    answered, customer_average = mean("customer")
    with_due = tasks.get("with_due", 0)
    return {
        "tasks_completed": tasks.get("completed", 0),
        "with_due": with_due,
        "on_time": tasks.get("on_time", 0),
        "on_time_pct": round(100 * tasks.get("on_time", 0) / with_due, 1) if with_due else None,
        "breached": tasks.get("breached", 0),
        "escalated": tasks.get("escalated", 0),
        "escalated_level_2": tasks.get("level_2", 0),
        "escalated_level_3": tasks.get("level_3", 0),
        "rated": rated,
        "average": average,
        "customer_answered": answered,
        "customer_average": customer_average,
    }


def _add(total: dict[str, int], part: dict[str, int]) -> None:
    for name, value in part.items():
        total[name] = total.get(name, 0) + value


def scorecards(
    session: Session,
    *,
    actor: Actor,
    group_by: str = "person",
    since: datetime | None = None,
    until: datetime | None = None,
    department: str | None = None,
    username: str | None = None,
) -> dict[str, Any]:
    """Return the cards of the people (or departments) the actor may read, in the period."""
    problems = []
    if group_by not in GROUP_BY:
        problems.append(
            FieldProblem("group_by", key="problem_one_of", params={"values": ", ".join(GROUP_BY)})
        )
    if since is not None and until is not None and clock.to_utc(until) <= clock.to_utc(since):
        problems.append(FieldProblem("until", key="problem_scorecards_until_before_since"))
    if problems:
        raise InvalidData(problems)
    scope = scorecard_scope(session, actor=actor, department=department, username=username)
    if group_by == "department" and scope.username is not None and username is None:
        raise NotPermitted(key="error_scorecards_own_only")  # staff: their own card only
    people = _people(session, scope)
    tune(session, work_mem="64MB")  # the credits of the ratings hashed, not sorted on disk
    tasks = _task_figures(session, sorted(people), since, until)
    ratings = _rating_sums(session, people, group_by, since, until)
    if group_by == "person":
        items = [
            {
                "key": name,
                "display_name": display,
                "department": dept,
                **_card(tasks.get(name, {}), ratings, name),
            }
            for name, (display, dept) in sorted(people.items(), key=lambda p: (p[1][1] or "", p[0]))
        ]
    else:
        totals: dict[str | None, dict[str, int]] = {}
        for name, (_display, dept) in people.items():
            _add(totals.setdefault(dept, {}), tasks.get(name, {}))
        items = [
            {
                "key": dept,
                "display_name": None,
                "department": dept,
                **_card(totals[dept], ratings, dept),
            }
            for dept in sorted(totals, key=lambda d: d or "")
        ]
    return {
        "group_by": group_by,
        "since": since,
        "until": until,
        "department": scope.department,
        "username": scope.username,
        "items": items,
    }
