"""The sales funnel (`GET /reports/funnel`): leads per stage, conversion, lost reasons.

Counted in the database (engine/report_sql.py): the leads per stage and lost reason in
one grouped query, how far they got in another over the stages they entered.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from crm.models import Lead, LeadStage
from engine import access, clock
from engine.errors import NotPermitted
from engine.identity import Actor
from engine.report_sql import grouped

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
    by_stage = {stage: 0 for stage in (*FUNNEL_STAGES, "lost")}
    lost_reasons = {reason: 0 for reason in LOST_REASONS}
    total = 0
    for (stage, reason), figures in grouped(
        session, [Lead.stage, Lead.lost_reason], {"leads": func.count()}, conditions
    ).items():
        n = figures["leads"]
        total += n
        by_stage[stage] = by_stage.get(stage, 0) + n
        if stage == "lost" and reason:
            lost_reasons[reason] = lost_reasons.get(reason, 0) + n
    # How far each lead got: its furthest funnel stage ever entered (a lost lead keeps
    # it; a lead with none entered counts as a visitor), counted per stage.
    index = case(
        *((LeadStage.stage == stage, n) for n, stage in enumerate(FUNNEL_STAGES)), else_=None
    )
    furthest = (
        select(func.coalesce(func.max(index), 0).label("furthest"))
        .select_from(Lead)
        .outerjoin(LeadStage, LeadStage.lead_id == Lead.id)
        .where(*conditions)
        .group_by(Lead.id)
        .subquery("furthest")
    )
    leads_at: dict[int, int] = {
        at: n
        for at, n in session.execute(
            select(furthest.c.furthest, func.count()).group_by(furthest.c.furthest)
        )
    }
    reached = [sum(n for at, n in leads_at.items() if at >= i) for i in range(len(FUNNEL_STAGES))]
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
        "total": total,
        "stages": by_stage,
        "reached": dict(zip(FUNNEL_STAGES, reached, strict=True)),
        "conversion": conversion,
        "lost_reasons": lost_reasons,
    }
