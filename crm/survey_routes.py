"""The customer's survey link and the satisfaction report (under /api/v1)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request

from api.deps import CurrentActor
from api.input_guard import Instant
from api.schemas.errors import error_responses
from crm import surveys
from crm.satisfaction import satisfaction_report
from crm.schemas import SatisfactionReport, SatisfactionRow, SurveyLinkCreated
from engine.db import unit_of_work

router = APIRouter(tags=["satisfaction"], responses=error_responses(401))


def survey_url(request: Request, link: surveys.NewSurveyLink) -> str:
    """Return the link as the customer opens it: this site's address and the path."""
    return str(request.base_url).rstrip("/") + link.path


@router.post(
    "/instances/{instance_id}/survey",
    status_code=201,
    responses=error_responses(403, 404, 409, 422),
)
def create_survey_link(
    instance_id: str, actor: CurrentActor, request: Request
) -> SurveyLinkCreated:
    """Make a one-time link (valid 14 days) for the customer's own answer on a complaint."""
    with unit_of_work() as session:
        link = surveys.create_survey_link(session, actor=actor, instance_id=instance_id)
    return SurveyLinkCreated(url=survey_url(request, link), expires_at=link.expires_at)


@router.get("/reports/satisfaction", tags=["reports"], responses=error_responses(403, 422))
def satisfaction(
    actor: CurrentActor,
    group_by: Literal["project", "department", "category"] = "project",
    since: Instant | None = None,
    until: Instant | None = None,
) -> SatisfactionReport:
    """Per project, responsible department or category: return visits, their mean, scores
    of 1–2, complaints reopened, and the customers' own survey answers."""
    with unit_of_work(write=False) as session:
        report = satisfaction_report(
            session, actor=actor, group_by=group_by, since=since, until=until
        )
    return SatisfactionReport(
        group_by=report["group_by"],
        since=report["since"],
        until=report["until"],
        items=[SatisfactionRow.model_validate(item) for item in report["items"]],
    )
