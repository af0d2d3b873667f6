"""A case's life read from its history: who did what, where, when, and what it changed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import access, clock
from engine.definitions import element_labels
from engine.errors import NotFound
from engine.history.search import event_record
from engine.identity import Actor
from engine.models import HistoryEvent, Instance, ProcessVersion, User

# Types whose `data.recipients` name who an SLA step reached.
SLA_TYPES = ("sla_warning", "sla_breached", "task_escalated")


def case_timeline(session: Session, *, actor: Actor, instance_id: str) -> dict[str, Any]:
    """Return a case's life from its history: every event with who, which department,
    when, the working time a task took, the change of the case variables it made,
    and whom an SLA step reached; plus the definition version in force."""
    access.require_auditor(actor)
    instance = session.get(Instance, instance_id)
    events = list(
        session.execute(
            select(HistoryEvent)
            .where(HistoryEvent.instance_id == instance_id)
            .order_by(HistoryEvent.seq)
        ).scalars()
    )
    if instance is None and not events:
        raise NotFound(key="error_case_not_found", instance_id=instance_id)
    actors = {e.actor for e in events}
    departments = dict(
        session.execute(
            select(User.username, User.department_code).where(User.username.in_(actors))
        ).all()
    )
    labels = element_labels(session, instance.version_id) if instance else {}
    replayed: dict[str, Any] = {}
    entries = []
    for event in events:
        data = event.data or {}
        changes = data.get("changes") or []
        for change in changes:
            if change.get("removed"):
                replayed.pop(change["name"], None)
            else:
                replayed[change["name"]] = change.get("after")
        entry: dict[str, Any] = {
            **event_record(event),
            "actor_department": departments.get(event.actor),
            "element_name": labels.get(event.element_id or "", {}),
            "task_name": data.get("name") if event.task_id else None,
            "changes": changes,
            "submitted": data.get("variables") if event.type == "task_completed" else None,
            "working_seconds": data.get("working_seconds"),
        }
        if event.type in SLA_TYPES:
            entry["recipients"] = data.get("recipients", [])
            entry["recipient_group"] = data.get("recipient_group") or data.get("to_department")
            entry["level"] = data.get("level")
        entries.append(entry)
    return {
        "instance": _instance_summary(session, instance, events),
        "events": entries,
        "variables_from_history": replayed,
        "matches_case": instance is not None and replayed == (instance.variables or {}),
    }


def _instance_summary(
    session: Session, instance: Instance | None, events: list[HistoryEvent]
) -> dict[str, Any]:
    started = next((e for e in events if e.type == "instance_started"), None)
    start_data = (started.data or {}) if started else {}
    key = instance.process_key if instance else start_data.get("process_key")
    number = instance.version if instance else start_data.get("version")
    version = session.get(ProcessVersion, instance.version_id) if instance else None
    deployed = session.execute(
        select(HistoryEvent)
        .where(
            HistoryEvent.type == "definition_deployed",
            HistoryEvent.element_id == key,
        )
        .order_by(HistoryEvent.seq)
    ).scalars()
    deployment = next((e for e in deployed if (e.data or {}).get("version") == number), None)
    return {
        "id": instance.id if instance else (started.instance_id if started else None),
        "process_key": key,
        "version": number,
        "business_key": instance.business_key if instance else None,
        "status": instance.status if instance else None,
        "started_at": clock.to_utc(instance.started_at).isoformat() if instance else None,
        "ended_at": clock.to_utc(instance.ended_at).isoformat()
        if instance and instance.ended_at
        else None,
        "definition": {
            "key": key,
            "version": number,
            "content_hash": version.content_hash if version else None,
            "deployed_at": clock.to_utc(version.deployed_at).isoformat() if version else None,
            "deployed_by": version.deployed_by if version else None,
            "deployed_event_seq": deployment.seq if deployment else None,
        },
    }
