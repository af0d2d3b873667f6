"""The complaints' ratings on the staff scorecards (engine/scorecards.py): each return
visit's score as staff recorded it, and each customer's own survey answer, given in the
period, for the platform to credit to the people who worked the case."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, String, cast, literal, select, union_all

from crm.models import SurveyLink
from crm.records import COMPLAINT_PROCESS
from crm.satisfaction import RETURN_VISIT, visit_score_column
from engine.models import Task
from engine.scorecards import period_conditions


def complaint_ratings(*, since: datetime | None, until: datetime | None) -> Select[Any]:
    """Select the return visits done and the survey answers given in [since, until)."""
    visits = select(
        Task.instance_id.label("instance_id"),
        Task.completed_at.label("at"),
        literal("staff", String).label("source"),
        visit_score_column().label("score"),
        Task.id.label("ref"),
    ).where(
        Task.process_key == COMPLAINT_PROCESS,
        Task.element_id == RETURN_VISIT,
        Task.state == "completed",
        *period_conditions(Task.completed_at, since, until),
    )
    answers = select(
        SurveyLink.instance_id,
        SurveyLink.answered_at,
        literal("customer", String),
        SurveyLink.score,
        cast(SurveyLink.id, String),
    ).where(SurveyLink.score.is_not(None), *period_conditions(SurveyLink.answered_at, since, until))
    return select(union_all(visits, answers).subquery("complaint_ratings"))
