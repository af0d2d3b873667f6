"""The step hook keeping the customer records of the two business processes.

`crm.install()` registers `record_step` with the platform (`engine.hooks`): after
every step of a `complaint_handling` or `lead_follow_up` instance it keeps the
customer, complaint, lead, stage-history and unit records in the step's
transaction, and the case facts the inbox shows and searches (customer, phone,
project, unit, and the customer record's id as `customer_ref`). Other processes
leave no records.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.leads import lock_phone
from crm.models import Complaint, Customer, Lead, LeadStage, UnitOwnership
from engine.audit import PendingEvent
from engine.hooks import CaseFacts, rename_customer, write_case_facts
from engine.models import Instance
from engine.scorecards import credit_rating

COMPLAINT_PROCESS = "complaint_handling"
LEAD_PROCESS = "lead_follow_up"


def _customer_for(session: Session, *, name: str, phone: str, at: datetime) -> Customer:
    lock_phone(session, phone)  # two first cases of one new phone make one record
    customer = session.execute(select(Customer).where(Customer.phone == phone)).scalar_one_or_none()
    if customer is None:
        customer = Customer(name=name, phone=phone, created_at=at, updated_at=at)
        session.add(customer)
        session.flush()
    elif name and customer.name != name:
        customer.name = name
        customer.updated_at = at
        # Task lists show, and the inbox and history search, a case's customer by
        # the record's name: the customer's earlier cases take the new one too.
        rename_customer(session, customer_ref=str(customer.id), customer_name=name)
    return customer


def _write_facts(
    session: Session,
    *,
    instance: Instance,
    customer: Customer,
    project: str | None,
    unit: str | None,
) -> None:
    write_case_facts(
        session,
        instance_id=instance.id,
        facts=CaseFacts(
            customer_name=customer.name,
            phone=customer.phone,
            project=project or None,
            unit=unit or None,
            customer_ref=str(customer.id),
        ),
    )


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
        _write_facts(
            session,
            instance=instance,
            customer=customer,
            project=start.get("project"),
            unit=start.get("unit"),
        )
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
        if event.task_id is not None and isinstance(complaint.satisfaction, int):
            credit_rating(  # the staff scorecards: everyone who worked the case so far
                session,
                instance_id=instance.id,
                at=at,
                source="staff",
                ref=event.task_id,
                score=complaint.satisfaction,
            )
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
        _write_facts(
            session, instance=instance, customer=customer, project=new_lead.project, unit=None
        )
        return
    lead = session.execute(select(Lead).where(Lead.instance_id == instance.id)).scalar_one_or_none()
    if lead is None:
        return
    consultant = variables.get("consultant")
    if isinstance(consultant, str) and consultant and lead.consultant != consultant:
        # Assigned by `assign_consultant`, or moved with a reassigned follow-up or
        # contract task (their `assignee_variable`): the lead follows the variable.
        lead.consultant = consultant
    if event.type == "task_completed" and event.element_id == "follow_up":
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
        owner = session.get(Customer, lead.customer_id)
        assert owner is not None
        _write_facts(
            session,
            instance=instance,
            customer=owner,
            project=lead.project,
            unit=submitted.get("unit"),
        )
    elif event.type == "instance_cancelled" and lead.outcome == "open":
        lead.outcome = "cancelled"
        lead.closed_at = at


_HANDLERS: dict[str, Callable[[Session, Instance, PendingEvent, dict[str, Any]], None]] = {
    COMPLAINT_PROCESS: _complaint_step,
    LEAD_PROCESS: _lead_step,
}


def record_step(session: Session, *, instance: Instance, events: Sequence[PendingEvent]) -> None:
    """Update the customer records and case facts of an instance from one step's events."""
    handler = _HANDLERS.get(instance.process_key)
    if handler is None:
        return
    for event in events:
        handler(session, instance, event, instance.variables or {})
