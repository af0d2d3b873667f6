"""Staff scorecards (under /api/v1): the appraisal figures per person or department."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter

from api.deps import CurrentActor
from api.input_guard import Instant
from api.schemas.errors import error_responses
from api.schemas.scorecards import ScorecardReport
from engine import scorecards
from engine.db import unit_of_work

router = APIRouter(tags=["reports"], responses=error_responses(401))


@router.get("/reports/scorecards", responses=error_responses(403, 422))
def read_scorecards(
    actor: CurrentActor,
    group_by: Literal["person", "department"] = "person",
    since: Instant | None = None,
    until: Instant | None = None,
    department: str | None = None,
    username: str | None = None,
) -> ScorecardReport:
    """Per person (`group_by=person`) or department: tasks completed in [since, until),
    on-time %, breaches, escalations reached, and the mean staff-recorded and customer
    scores of the cases they worked. Executives and admins read everyone, supervisors
    their department, staff only themselves (others `403`)."""
    with unit_of_work(write=False) as session:
        return ScorecardReport.model_validate(
            scorecards.scorecards(
                session,
                actor=actor,
                group_by=group_by,
                since=since,
                until=until,
                department=department,
                username=username,
            )
        )
