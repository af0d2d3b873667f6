"""Customer records fed by the two business processes, and the reads across them.

The runtime hands every step's events to `record_step`; the complaint and lead
processes keep their customer, complaint, lead, stage-history and unit records
in the same transaction. Other processes leave no records.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from engine import access
from engine.audit import PendingEvent
from engine.errors import NotFound, NotPermitted
from engine.identity import Actor
from engine.models import (
    Complaint,
    Customer,
    Instance,
    Lead,
    LeadStage,
    Task,
    UnitOwnership,
)

COMPLAINT_PROCESS = "complaint_handling"
LEAD_PROCESS = "lead_follow_up"
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


def mask_phone(phone: str) -> str:
    """Return a phone number as lists show it to people not working the case: 138****5678."""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


# ---------------------------------------------------------------- writing


def _customer_for(session: Session, *, name: str, phone: str, at: datetime) -> Customer:
    customer = session.execute(select(Customer).where(Customer.phone == phone)).scalar_one_or_none()
    if customer is None:
        customer = Customer(name=name, phone=phone, created_at=at, updated_at=at)
        session.add(customer)
        session.flush()
    elif name and customer.name != name:
        customer.name = name
        customer.updated_at = at
    return customer


def _complaint_step(
    session: Session, instance: Instance, event: PendingEvent, variables: dict[str, Any]
) -> None:
    at = event.at or instance.started_at
    data = event.data or {}
    if event.type == "instance_started":
        start = data.get("variables", {})
        if not start.get("phone"):
            return  # a start without the form's fields keeps no record
        customer = _customer_for(
            session, name=start.get("customer_name") or "", phone=start["phone"], at=at
        )
        session.add(
            Complaint(
                instance_id=instance.id,
                customer_id=customer.id,
                project=start.get("project"),
                unit=start.get("unit"),
                category=start.get("category") or "other",
                severity=start.get("severity") or "normal",
                channel=start.get("channel"),
                description=start.get("description") or "",
                status="open",
                reopen_count=0,
                created_at=at,
            )
        )
        session.flush()
        return
    complaint = session.execute(
        select(Complaint).where(Complaint.instance_id == instance.id)
    ).scalar_one_or_none()
    if complaint is None:
        return
    complaint.responsible_department = variables.get("responsible_department")
    complaint.reopen_count = int(variables.get("reopen_count") or 0)
    if event.type == "task_completed" and event.element_id == "return_visit":
        complaint.satisfaction = data.get("variables", {}).get("satisfaction")
    elif event.type == "instance_completed":
        complaint.status = "closed"
        complaint.closed_at = at
    elif event.type == "instance_cancelled":
        complaint.status = "cancelled"
        complaint.closed_at = at


def _lead_step(
    session: Session, instance: Instance, event: PendingEvent, variables: dict[str, Any]
) -> None:
    at = event.at or instance.started_at
    data = event.data or {}
    submitted = data.get("variables", {})
    if event.type == "instance_started":
        if not submitted.get("phone"):
            return  # a start without the form's fields keeps no record
        customer = _customer_for(
            session, name=submitted.get("name") or "", phone=submitted["phone"], at=at
        )
        new_lead = Lead(
            instance_id=instance.id,
            customer_id=customer.id,
            project=submitted.get("project") or "",
            source=submitted.get("source"),
            referrer_phone=submitted.get("referrer_phone"),
            stage="visitor",
            outcome="open",
            created_at=at,
        )
        session.add(new_lead)
        session.flush()
        session.add(LeadStage(lead_id=new_lead.id, stage="visitor", at=at, by=event.actor))
        return
    lead = session.execute(select(Lead).where(Lead.instance_id == instance.id)).scalar_one_or_none()
    if lead is None:
        return
    if event.type == "task_completed" and event.element_id == "assign_consultant":
        lead.consultant = submitted.get("consultant")
    elif event.type == "task_completed" and event.element_id == "follow_up":
        stage = submitted.get("stage")
        if stage and stage != lead.stage:
            lead.stage = stage
            session.add(
                LeadStage(
                    lead_id=lead.id,
                    stage=stage,
                    at=at,
                    by=event.actor,
                    notes=submitted.get("notes"),
                )
            )
        if stage == "lost":
            lead.lost_reason = submitted.get("lost_reason")
            lead.outcome = "lost"
            lead.closed_at = at
    elif event.type == "task_completed" and event.element_id == "sign_contract":
        lead.stage = "owner"
        lead.outcome = "won"
        lead.closed_at = at
        session.add(LeadStage(lead_id=lead.id, stage="owner", at=at, by=event.actor))
        session.add(
            UnitOwnership(
                customer_id=lead.customer_id,
                project=lead.project,
                unit=submitted.get("unit"),
                contract_no=submitted.get("contract_no") or "",
                amount=submitted.get("amount"),
                lead_id=lead.id,
                since=at,
            )
        )
    elif event.type == "instance_cancelled" and lead.outcome == "open":
        lead.outcome = "cancelled"
        lead.closed_at = at


_HANDLERS: dict[str, Callable[[Session, Instance, PendingEvent, dict[str, Any]], None]] = {
    COMPLAINT_PROCESS: _complaint_step,
    LEAD_PROCESS: _lead_step,
}


def record_step(session: Session, *, instance: Instance, events: list[PendingEvent]) -> None:
    """Update the customer records of an instance from the events of one step."""
    handler = _HANDLERS.get(instance.process_key)
    if handler is None:
        return
    for event in events:
        handler(session, instance, event, instance.variables or {})


# ---------------------------------------------------------------- reading


def _works_on_customer(session: Session, actor: Actor, customer_id: int) -> bool:
    """Tell whether the actor works a case of this customer (sees the whole phone)."""
    if actor.has("admin", "executive"):
        return True
    instance_ids = (
        select(Complaint.instance_id)
        .where(Complaint.customer_id == customer_id)
        .union(select(Lead.instance_id).where(Lead.customer_id == customer_id))
    )
    conditions = [Task.assignee == actor.username, Task.completed_by == actor.username]
    if actor.department and actor.has("staff", "supervisor"):
        conditions.append(Task.department == actor.department)
    return bool(
        session.execute(
            select(exists().where(Task.instance_id.in_(instance_ids), or_(*conditions)))
        ).scalar()
    )


def _require_reader(actor: Actor) -> None:
    if not actor.roles or actor.roles <= {"designer"}:
        raise NotPermitted(
            "customer records are for staff, supervisors, executives, auditors and admins"
        )


@dataclass(frozen=True)
class CustomerFilters:
    q: str | None = None
    project: str | None = None
    limit: int = 50
    offset: int = 0


def search_customers(
    session: Session, *, actor: Actor, filters: CustomerFilters
) -> tuple[list[dict[str, Any]], int]:
    """Return customers matching a name or phone fragment and/or a project."""
    _require_reader(actor)
    conditions = []
    if filters.q:
        pattern = f"%{filters.q.strip()}%"
        conditions.append(or_(Customer.name.like(pattern), Customer.phone.like(pattern)))
    if filters.project:
        conditions.append(
            or_(
                Customer.id.in_(select(Lead.customer_id).where(Lead.project == filters.project)),
                Customer.id.in_(
                    select(Complaint.customer_id).where(Complaint.project == filters.project)
                ),
                Customer.id.in_(
                    select(UnitOwnership.customer_id).where(
                        UnitOwnership.project == filters.project
                    )
                ),
            )
        )
    total = session.execute(
        select(func.count()).select_from(Customer).where(*conditions)
    ).scalar_one()
    rows = (
        session.execute(
            select(Customer)
            .where(*conditions)
            .order_by(Customer.name, Customer.id)
            .limit(max(1, min(filters.limit, 200)))
            .offset(max(0, filters.offset))
        )
        .scalars()
        .all()
    )
    owners = set(
        session.execute(
            select(UnitOwnership.customer_id).where(
                UnitOwnership.customer_id.in_([c.id for c in rows])
            )
        ).scalars()
    )
    items = [
        {
            "id": c.id,
            "name": c.name,
            "phone": c.phone if _works_on_customer(session, actor, c.id) else mask_phone(c.phone),
            "is_owner": c.id in owners,
        }
        for c in rows
    ]
    return items, int(total)


def read_customer(session: Session, *, actor: Actor, customer_id: int) -> dict[str, Any]:
    """Return one customer with every lead, complaint and unit linked to them."""
    _require_reader(actor)
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"customer {customer_id} does not exist")
    leads = (
        session.execute(
            select(Lead).where(Lead.customer_id == customer_id).order_by(Lead.created_at)
        )
        .scalars()
        .all()
    )
    stages: dict[int, list[LeadStage]] = {}
    for s in session.execute(
        select(LeadStage)
        .where(LeadStage.lead_id.in_([lead.id for lead in leads]))
        .order_by(LeadStage.at, LeadStage.id)
    ).scalars():
        stages.setdefault(s.lead_id, []).append(s)
    complaints = (
        session.execute(
            select(Complaint)
            .where(Complaint.customer_id == customer_id)
            .order_by(Complaint.created_at)
        )
        .scalars()
        .all()
    )
    units = (
        session.execute(
            select(UnitOwnership)
            .where(UnitOwnership.customer_id == customer_id)
            .order_by(UnitOwnership.since)
        )
        .scalars()
        .all()
    )
    sees_phone = _works_on_customer(session, actor, customer_id)
    return {
        "id": customer.id,
        "name": customer.name,
        "phone": customer.phone if sees_phone else mask_phone(customer.phone),
        "is_owner": bool(units),
        "created_at": customer.created_at.isoformat(),
        "leads": [
            {
                "id": lead.id,
                "instance_id": lead.instance_id,
                "project": lead.project,
                "source": lead.source,
                "stage": lead.stage,
                "consultant": lead.consultant,
                "lost_reason": lead.lost_reason,
                "outcome": lead.outcome,
                "created_at": lead.created_at.isoformat(),
                "closed_at": lead.closed_at.isoformat() if lead.closed_at else None,
                "stage_history": [
                    {"stage": s.stage, "at": s.at.isoformat(), "by": s.by}
                    for s in stages.get(lead.id, [])
                ],
            }
            for lead in leads
        ],
        "complaints": [
            {
                "id": c.id,
                "instance_id": c.instance_id,
                "project": c.project,
                "unit": c.unit,
                "category": c.category,
                "severity": c.severity,
                "status": c.status,
                "satisfaction": c.satisfaction,
                "reopen_count": c.reopen_count,
                "responsible_department": c.responsible_department,
                "created_at": c.created_at.isoformat(),
                "closed_at": c.closed_at.isoformat() if c.closed_at else None,
            }
            for c in complaints
        ],
        "units": [
            {
                "project": u.project,
                "unit": u.unit,
                "contract_no": u.contract_no,
                "since": u.since.isoformat(),
            }
            for u in units
        ],
    }


def funnel_report(
    session: Session, *, actor: Actor, project: str | None = None, consultant: str | None = None
) -> dict[str, Any]:
    """Return leads per current stage, conversion between stages and lost reasons."""
    if not actor.has(*access.SCOPE_ALL_ROLES) and not (
        actor.department == "sales" and actor.has("staff")
    ):
        raise NotPermitted("the funnel is for sales, supervisors, executives, auditors and admins")
    conditions = [Lead.outcome != "cancelled"]
    if project:
        conditions.append(Lead.project == project)
    if consultant:
        conditions.append(Lead.consultant == consultant)
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
