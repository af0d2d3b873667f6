"""Satisfaction of complaints (`GET /reports/satisfaction`): the return visits' scores
staff recorded beside the customers' own survey answers, per project, responsible
department or category.

Over the complaints registered in [since, until) (every complaint when open-ended), per
group: `returned` the return visits done (a reopened complaint visited twice counts two),
`average` their mean score, `low` the visits scored 1–2, `reopened` the complaints
reopened at least once, `customer_answered` and `customer_average` the survey answers of
the customers (crm/surveys.py). Each visit's score is its own task's submission (the
complaint row keeps only the latest).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.models import Complaint, SurveyLink
from crm.records import COMPLAINT_PROCESS
from crm.surveys import LOW_SCORES
from engine import clock
from engine.errors import FieldProblem, InvalidData, NotPermitted
from engine.identity import Actor
from engine.models import Task

GroupBy = Literal["project", "department", "category"]
GROUPS: dict[str, Any] = {
    "project": Complaint.project,
    "department": Complaint.responsible_department,
    "category": Complaint.category,
}
RETURN_VISIT = "return_visit"


def require_satisfaction_reader(actor: Actor) -> None:
    """Supervisors, executives and admins read satisfaction (CONTRACT.md); each of them
    sees every department."""
    if not actor.has("supervisor", "executive", "admin"):
        raise NotPermitted(key="error_satisfaction_readers_only")


def visit_score(submitted: dict[str, Any] | None) -> int | None:
    """Return the score a return visit's submission recorded (None when it holds none)."""
    score = (submitted or {}).get("satisfaction")
    return score if isinstance(score, int) and not isinstance(score, bool) else None


def visit_score_column() -> Any:
    """The same score as a SQL expression (the form keeps it a whole number 1–5)."""
    return Task.submitted["satisfaction"].as_integer()


def _mean(values: list[int]) -> float | None:
    return sum(values) / len(values) if values else None


def satisfaction_report(
    session: Session,
    *,
    actor: Actor,
    group_by: str,
    since: datetime | None = None,
    until: datetime | None = None,
    project: str | None = None,
    department: str | None = None,
) -> dict[str, Any]:
    """Return the satisfaction figures per group, ordered by key (no key last), of the
    complaints of one project or responsible department when given (the report pages)."""
    require_satisfaction_reader(actor)
    if group_by not in GROUPS:
        raise InvalidData(
            [FieldProblem("group_by", key="problem_one_of", params={"values": ", ".join(GROUPS)})]
        )
    if since is not None and until is not None and clock.to_utc(until) <= clock.to_utc(since):
        raise InvalidData([FieldProblem("until", key="report_until_before_since")])
    conditions = []
    if since is not None:
        conditions.append(Complaint.created_at >= clock.to_utc(since))
    if until is not None:
        conditions.append(Complaint.created_at < clock.to_utc(until))
    if project:
        conditions.append(Complaint.project == project)
    if department:
        conditions.append(Complaint.responsible_department == department)
    complaints = {
        instance_id: (key, reopens)
        for instance_id, key, reopens in session.execute(
            select(Complaint.instance_id, GROUPS[group_by], Complaint.reopen_count).where(
                *conditions
            )
        )
    }
    visits: dict[Any, list[int]] = defaultdict(list)
    answers: dict[Any, list[int]] = defaultdict(list)
    reopened: dict[Any, int] = defaultdict(int)
    for key, reopens in complaints.values():
        reopened[key] += 1 if (reopens or 0) > 0 else 0
    for instance_id, submitted in session.execute(
        select(Task.instance_id, Task.submitted)
        .join(Complaint, Complaint.instance_id == Task.instance_id)
        .where(
            Task.process_key == COMPLAINT_PROCESS,
            Task.element_id == RETURN_VISIT,
            Task.state == "completed",
            *conditions,
        )
    ):
        score = visit_score(submitted)
        if instance_id in complaints and score is not None:
            visits[complaints[instance_id][0]].append(score)
    for instance_id, score in session.execute(
        select(SurveyLink.instance_id, SurveyLink.score)
        .join(Complaint, Complaint.instance_id == SurveyLink.instance_id)
        .where(SurveyLink.score.is_not(None), *conditions)
    ):
        if instance_id in complaints and score is not None:
            answers[complaints[instance_id][0]].append(score)
    items = [
        {
            "key": key,
            "returned": len(visits[key]),
            "average": _mean(visits[key]),
            "low": sum(1 for s in visits[key] if s in LOW_SCORES),
            "reopened": reopened[key],
            "customer_answered": len(answers[key]),
            "customer_average": _mean(answers[key]),
        }
        for key in sorted(reopened, key=lambda k: (k is None, k or ""))
    ]
    return {"group_by": group_by, "since": since, "until": until, "items": items}
