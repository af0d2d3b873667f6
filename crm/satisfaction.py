"""Satisfaction of complaints (`GET /reports/satisfaction`): the return visits' scores
staff recorded beside the customers' own survey answers, per project, responsible
department or category.

Over the complaints registered in [since, until) (every complaint when open-ended), per
group: `returned` the return visits done (a reopened complaint visited twice counts two),
`average` their mean score, `low` the visits scored 1–2, `reopened` the complaints
reopened at least once, `customer_answered` and `customer_average` the survey answers of
the customers (crm/surveys.py). Each visit's score is its own task's submission (the
complaint row keeps only the latest). Each figure is a grouped count of the database
(engine/report_sql.py): no row of the period is loaded here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func
from sqlalchemy.orm import Session

from crm.models import Complaint, SurveyLink
from crm.records import COMPLAINT_PROCESS
from crm.surveys import LOW_SCORES
from engine import clock
from engine.errors import FieldProblem, InvalidData, NotPermitted
from engine.identity import Actor
from engine.models import Task
from engine.report_sql import count_if, grouped

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


def visit_score_column() -> Any:
    """The score a return visit's submission recorded, as a SQL expression: NULL when it
    holds none (the form keeps it a required whole number 1–5)."""
    return Task.submitted["satisfaction"].as_integer()


def _mean(n: int, total: Any) -> float | None:
    return int(total) / n if n else None


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
    key = GROUPS[group_by]
    on_complaint = [(Complaint, Complaint.instance_id == Task.instance_id)]
    reopened = grouped(
        session, [key], {"reopened": count_if(Complaint.reopen_count > 0)}, conditions
    )
    score = visit_score_column()
    visits = grouped(
        session,
        [key],
        {"n": func.count(score), "total": func.sum(score), "low": count_if(score.in_(LOW_SCORES))},
        [
            Task.process_key == COMPLAINT_PROCESS,
            Task.element_id == RETURN_VISIT,
            Task.state == "completed",
            *conditions,
        ],
        joins=on_complaint,
    )
    answers = grouped(
        session,
        [key],
        {"n": func.count(SurveyLink.score), "total": func.sum(SurveyLink.score)},
        [SurveyLink.score.is_not(None), *conditions],
        joins=[(Complaint, Complaint.instance_id == SurveyLink.instance_id)],
    )
    none = {"n": 0, "total": None, "low": 0}
    items = []
    for (k,) in sorted(reopened, key=lambda k: (k[0] is None, k[0] or "")):
        visited, answered = visits.get((k,), none), answers.get((k,), none)
        items.append(
            {
                "key": k,
                "returned": visited["n"],
                "average": _mean(visited["n"], visited["total"]),
                "low": int(visited["low"]),
                "reopened": int(reopened[(k,)]["reopened"]),
                "customer_answered": answered["n"],
                "customer_average": _mean(answered["n"], answered["total"]),
            }
        )
    return {"group_by": group_by, "since": since, "until": until, "items": items}
