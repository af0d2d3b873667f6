"""Reading customer records: search them, read one with its leads, complaints and units."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from crm.models import Complaint, Customer, Lead, LeadStage, UnitOwnership
from engine import access
from engine.bounds import row_id_exists
from engine.errors import NotFound
from engine.identity import Actor
from engine.privacy import contains, mask_phone, phone_matches, phones_whole_in
from engine.queries import Count, bounded_count


def _customers_seen_whole(session: Session, actor: Actor, customer_ids: list[int]) -> set[int]:
    """Return the customers whose phone the actor reads whole: those with a case the actor
    works (the platform's one rule, `access.sees_case_phones`)."""
    if access.sees_case_phones(actor, departments=(), people=()):
        return set(customer_ids)
    cases: dict[str, int] = {
        instance_id: customer_id
        for instance_id, customer_id in session.execute(
            select(Complaint.instance_id, Complaint.customer_id)
            .where(Complaint.customer_id.in_(customer_ids))
            .union_all(
                select(Lead.instance_id, Lead.customer_id).where(Lead.customer_id.in_(customer_ids))
            )
        )
    }
    whole = phones_whole_in(session, actor=actor, instance_ids=cases)
    return {cases[instance_id] for instance_id in whole}


def _matching(q: str) -> ColumnElement[bool]:
    """A name containing `q` (`%` and `_` plain), or the phone as its whole number or its
    last four digits (`engine.privacy.phone_matches`, the inbox search's rule too)."""
    matches = [contains(Customer.name, q)]
    phone = phone_matches(Customer.phone, q)
    if phone is not None:
        matches.append(phone)
    return or_(*matches)


@dataclass(frozen=True)
class CustomerFilters:
    q: str | None = None
    project: str | None = None
    limit: int = 50
    offset: int = 0


def search_customers(
    session: Session, *, actor: Actor, filters: CustomerFilters
) -> tuple[list[dict[str, Any]], int]:
    """Return customers matching a name fragment or a phone (the whole number or its last
    four digits) and/or a project, and their exact number."""
    items, total = customer_page(session, actor=actor, filters=filters, count_limit=None)
    return items, total.n


def customer_page(
    session: Session,
    *,
    actor: Actor,
    filters: CustomerFilters,
    count_limit: int | None,
) -> tuple[list[dict[str, Any]], Count]:
    """Return one page of the customers matching a name fragment or a phone (the whole
    number or its last four digits) and/or a project, and how many match (counted up
    to `count_limit`, and at least past this page)."""
    access.require_customer_reader(actor)
    conditions = []
    if filters.q and filters.q.strip():
        conditions.append(_matching(filters.q.strip()))
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
    limit, offset = max(1, min(filters.limit, 200)), max(0, filters.offset)
    if count_limit is not None:
        count_limit = max(count_limit, offset + limit)
    total = bounded_count(session, select(Customer.id).where(*conditions), count_limit)
    page: Any = Customer
    if filters.q and filters.q.strip():
        # The matches first, by the name's trigrams, then the page of them by name: a
        # walk of the name index in order, filtering as it goes, reads every name before
        # the first match (names containing a fragment cluster: 客户42… a third of the
        # way through a million names), where the matches' own sort costs their number.
        matched = (
            select(Customer)
            .where(*conditions)
            .cte("matched")
            .prefix_with("MATERIALIZED", dialect="postgresql")
        )
        page = aliased(Customer, matched)
        conditions = []
    rows = (
        session.execute(
            select(page).where(*conditions).order_by(page.name, page.id).limit(limit).offset(offset)
        )
        .scalars()
        .all()
    )
    if not rows:  # nothing found: no owners or phones to look up
        return [], total
    owners = set(
        session.execute(
            select(UnitOwnership.customer_id).where(
                UnitOwnership.customer_id.in_([c.id for c in rows])
            )
        ).scalars()
    )
    whole = _customers_seen_whole(session, actor, [c.id for c in rows])
    items = [
        {
            "id": c.id,
            "name": c.name,
            "phone": c.phone if c.id in whole else mask_phone(c.phone),
            "is_owner": c.id in owners,
        }
        for c in rows
    ]
    return items, total


def read_customer(session: Session, *, actor: Actor, customer_id: int) -> dict[str, Any]:
    """Return one customer with every lead, complaint and unit linked to them."""
    access.require_customer_reader(actor)
    customer = session.get(Customer, customer_id) if row_id_exists(customer_id) else None
    if customer is None:
        raise NotFound(key="error_customer_not_found", customer_id=customer_id)
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
    sees_phone = customer_id in _customers_seen_whole(session, actor, [customer_id])
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


def customer_with_phone(session: Session, *, actor: Actor, phone: str) -> dict[str, Any] | None:
    """Return the customer (id, name) whose whole number this is, for a start page's look-up
    (the reader typed the number: it is not masked back to them)."""
    access.require_customer_reader(actor)
    customer = session.execute(select(Customer).where(Customer.phone == phone)).scalar_one_or_none()
    return None if customer is None else {"id": customer.id, "name": customer.name}
