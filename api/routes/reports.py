"""Reports for supervisors and executives: SLA achievement per department."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentActor
from api.input_guard import Instant
from api.schemas.errors import error_responses
from api.schemas.reports import SlaReport
from engine import reports
from engine.db import unit_of_work

router = APIRouter(tags=["reports"], responses=error_responses(401))


@router.get("/reports/sla", responses=error_responses(403, 422))
def sla(
    actor: CurrentActor,
    since: Instant | None = None,
    until: Instant | None = None,
    process_key: str | None = None,
) -> SlaReport:
    """Per department: tasks done, on-time %, breached, escalated, median working hours."""
    with unit_of_work(write=False) as session:
        return SlaReport.model_validate(
            reports.sla_report(
                session, actor=actor, since=since, until=until, process_key=process_key
            )
        )
