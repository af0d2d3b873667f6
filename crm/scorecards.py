"""The complaints' ratings on the staff scorecards (engine/scorecards.py): each return
visit's score as staff recorded it, and each customer's own survey answer, given in the
period, for the platform to credit to the people who worked the case."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.models import SurveyLink
from crm.records import COMPLAINT_PROCESS
from crm.satisfaction import RETURN_VISIT, visit_score
from engine.models import Task
from engine.scorecards import CaseRating, period_conditions


def complaint_ratings(
    session: Session, *, since: datetime | None, until: datetime | None
) -> Iterator[CaseRating]:
    """List the return visits done and the survey answers given in [since, until)."""
    for task_id, instance_id, at, submitted in session.execute(
        select(Task.id, Task.instance_id, Task.completed_at, Task.submitted).where(
            Task.process_key == COMPLAINT_PROCESS,
            Task.element_id == RETURN_VISIT,
            Task.state == "completed",
            *period_conditions(Task.completed_at, since, until),
        )
    ):
        score = visit_score(submitted)
        if score is not None and at is not None:
            yield CaseRating(instance_id, at, "staff", score, f"visit:{task_id}")
    for link_id, instance_id, at, score in session.execute(
        select(
            SurveyLink.id, SurveyLink.instance_id, SurveyLink.answered_at, SurveyLink.score
        ).where(
            SurveyLink.score.is_not(None), *period_conditions(SurveyLink.answered_at, since, until)
        )
    ):
        if score is not None and at is not None:
            yield CaseRating(instance_id, at, "customer", score, f"survey:{link_id}")
