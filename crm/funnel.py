"""The sales funnel (`GET /reports/funnel`): leads per stage, conversion, lost reasons."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.models import Lead, LeadStage
from engine import access, clock
from engine.errors import NotPermitted
from engine.identity import Actor

FUNNEL_STAGES = ("visitor", "prospect", "near_close", "won", "owner")
LOST_REASONS = (
    "price",
    "layout",
    "location",
    "planning",
    "competitor",
    "financing",
    "no_response",
    "other",
)


def funnel_report(
    session: Session,
    *,
    actor: Actor,
    project: str | None = None,
    consultant: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    """Return leads per current stage, conversion between stages and lost reasons (of
    the leads registered in [since, until) when given)."""
    if not actor.has(*access.SCOPE_ALL_ROLES) and not (
        actor.department == "sales" and actor.has("staff")
    ):
        raise NotPermitted("the funnel is for sales, supervisors, executives, auditors and admins")
    conditions = [Lead.outcome != "cancelled"]
    if project:
        conditions.append(Lead.project == project)
    if consultant:
        conditions.append(Lead.consultant == consultant)
    if since is not None:
        conditions.append(Lead.created_at >= clock.to_utc(since))
    if until is not None:
        conditions.append(Lead.created_at < clock.to_utc(until))
    leads = session.execute(select(Lead.id, Lead.stage, Lead.lost_reason).where(*conditions)).all()
    by_stage = {stage: 0 for stage in (*FUNNEL_STAGES, "lost")}
    lost_reasons = {reason: 0 for reason in LOST_REASONS}
    for _, stage, reason in leads:
        by_stage[stage] = by_stage.get(stage, 0) + 1
        if stage == "lost" and reason:
            lost_reasons[reason] = lost_reasons.get(reason, 0) + 1
    # How far each lead got: its furthest funnel stage ever entered (a lost lead keeps it).
    furthest: dict[int, int] = {lead_id: 0 for lead_id, _, _ in leads}
    if furthest:
        for lead_id, stage in session.execute(
            select(LeadStage.lead_id, LeadStage.stage).where(LeadStage.lead_id.in_(list(furthest)))
        ).all():
            if stage in FUNNEL_STAGES:
                furthest[lead_id] = max(furthest[lead_id], FUNNEL_STAGES.index(stage))
    reached = [sum(1 for f in furthest.values() if f >= i) for i in range(len(FUNNEL_STAGES))]
    conversion = []
    for i in range(len(FUNNEL_STAGES) - 1):
        rate = reached[i + 1] / reached[i] if reached[i] else None
        conversion.append(
            {
                "from": FUNNEL_STAGES[i],
                "to": FUNNEL_STAGES[i + 1],
                "reached_from": reached[i],
                "reached_to": reached[i + 1],
                "rate": round(rate, 4) if rate is not None else None,
            }
        )
    return {
        "filters": {"project": project, "consultant": consultant},
        "total": len(leads),
        "stages": by_stage,
        "reached": dict(zip(FUNNEL_STAGES, reached, strict=True)),
        "conversion": conversion,
        "lost_reasons": lost_reasons,
    }
