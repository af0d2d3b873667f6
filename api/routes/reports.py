"""Reports for supervisors and executives: SLA achievement per department."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter

from api.deps import CurrentActor
from engine import reports
from engine.db import unit_of_work

router = APIRouter(tags=["reports"])


@router.get("/reports/sla")
def sla(
    actor: CurrentActor,
    since: datetime | None = None,
    until: datetime | None = None,
    process_key: str | None = None,
) -> dict:
    """Per department: tasks done, on-time %, breached, escalated, median working hours."""
    with unit_of_work(write=False) as session:
        return reports.sla_report(
            session, actor=actor, since=since, until=until, process_key=process_key
        )
