"""One consultant per customer and project (报备/判客): a phone with a running lead on a
project cannot be registered again for that project.

`refuse_second_lead` is the vertical's start check (`engine.hooks`): it runs inside
the start's transaction, before anything is written, holding the phone's lock so
that two registrations of one phone at once are decided one after the other.
`running_lead` is the same look-up for the registration page's warning.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.models import Customer, Lead
from engine.db import lock_name
from engine.errors import DuplicateCase
from engine.identity import Actor, display_names
from engine.models import Instance

LEAD_PROCESS = "lead_follow_up"
# A lead is running until its instance ends (completed or cancelled).
ENDED = ("completed", "cancelled")


@dataclass(frozen=True)
class RunningLead:
    """A lead of a phone on a project whose case has not ended."""

    instance_id: str
    business_key: str | None
    project: str
    consultant: str | None  # username


def lock_phone(session: Session, phone: str) -> None:
    """Hold the phone's lock until the transaction ends (one registration at a time)."""
    lock_name(session, f"customer-phone:{phone}")


def running_leads(session: Session, *, phone: str, project: str | None = None) -> list[RunningLead]:
    """Return the running leads of a phone number (on one project when given), oldest first."""
    stmt = (
        select(Lead, Instance.business_key)
        .join(Customer, Customer.id == Lead.customer_id)
        .join(Instance, Instance.id == Lead.instance_id)
        .where(Customer.phone == phone, Instance.status.not_in(ENDED))
        .order_by(Lead.created_at, Lead.id)
    )
    if project is not None:
        stmt = stmt.where(Lead.project == project.strip())
    return [
        RunningLead(
            instance_id=lead.instance_id,
            business_key=business_key,
            project=lead.project,
            consultant=lead.consultant,
        )
        for lead, business_key in session.execute(stmt).all()
    ]


def running_lead(session: Session, *, phone: str, project: str) -> RunningLead | None:
    """Return the running lead of a phone on a project, or None."""
    found = running_leads(session, phone=phone, project=project)
    return found[0] if found else None


def duplicate_error(session: Session, lead: RunningLead) -> DuplicateCase:
    """Return the refusal naming the running lead and its consultant (by display name)."""
    case = lead.business_key or lead.instance_id[:8]
    details = {"instance_id": lead.instance_id, "consultant": lead.consultant}
    if lead.consultant is None:
        return DuplicateCase(
            key="error_lead_running_unassigned", details=details, project=lead.project, case=case
        )
    name = display_names(session).get(lead.consultant, lead.consultant)
    return DuplicateCase(
        key="error_lead_running",
        details=details,
        project=lead.project,
        case=case,
        consultant=name,
    )


def refuse_second_lead(
    session: Session, *, process_key: str, variables: Mapping[str, Any], actor: Actor
) -> None:
    """Refuse to start a lead for a phone that has a running lead on the same project."""
    phone, project = variables.get("phone"), variables.get("project")
    if process_key != LEAD_PROCESS or not isinstance(phone, str) or not isinstance(project, str):
        return
    lock_phone(session, phone)
    lead = running_lead(session, phone=phone, project=project)
    if lead is not None:
        raise duplicate_error(session, lead)
