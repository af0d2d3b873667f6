"""API shapes (separate from the ORM models): how tasks, instances and events are shown."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from engine import clock
from engine.models import HistoryEvent, Instance, ProcessVersion, Task
from engine.sla import breached_for


class StartInstance(BaseModel):
    variables: dict[str, Any] = Field(default_factory=dict)
    business_key: str | None = None


class CompleteTask(BaseModel):
    variables: dict[str, Any] = Field(default_factory=dict)


class AssignTask(BaseModel):
    username: str


class CommentCreate(BaseModel):
    text: str


class CancelInstance(BaseModel):
    reason: str


def iso(value: datetime | None) -> str | None:
    """Render an instant as ISO-8601 with its offset (UTC)."""
    return value.isoformat() if value is not None else None


def task_read(task: Task) -> dict[str, Any]:
    """Return a task as every endpoint shows it (CONTRACT.md)."""
    return {
        "id": task.id,
        "instance_id": task.instance_id,
        "process_key": task.process_key,
        "element_id": task.element_id,
        "name": task.name,
        "department": task.department,
        "assignee": task.assignee,
        "state": task.state,
        "created_at": iso(task.created_at),
        "due_at": iso(task.due_at),
        "sla_status": task.sla_status,
        "escalation_level": task.escalation_level,
        "completed_at": iso(task.completed_at),
        "completed_by": task.completed_by,
        # Beyond CONTRACT.md: the SLA clock's details for supervisors and pages.
        "sla_calendar": task.sla_calendar,
        "warn_at": iso(task.warn_at),
        "escalated_at": iso(task.escalated_at),
        "breached_working_hours": _breached_hours(task),
    }


def _breached_hours(task: Task) -> float | None:
    """Working hours a breached task has been (or was, until completed) over its due time."""
    if task.sla_status != "breached":
        return None
    over = breached_for(task, clock.now())
    return round(over.total_seconds() / 3600, 2) if over is not None else None


def instance_read(instance: Instance, *, open_tasks: list[Task]) -> dict[str, Any]:
    """Return an instance with its variables and open tasks."""
    return {
        "id": instance.id,
        "process_key": instance.process_key,
        "version": instance.version,
        "business_key": instance.business_key,
        "status": instance.status,
        "variables": instance.variables,
        "started_at": iso(instance.started_at),
        "started_by": instance.started_by,
        "ended_at": iso(instance.ended_at),
        "error": instance.error,
        "open_tasks": [task_read(t) for t in open_tasks],
    }


def event_read(event: HistoryEvent) -> dict[str, Any]:
    """Return a history event."""
    return {
        "seq": event.seq,
        "at": iso(event.at),
        "actor": event.actor,
        "type": event.type,
        "instance_id": event.instance_id,
        "task_id": event.task_id,
        "element_id": event.element_id,
        "process_key": event.process_key,
        "department": event.department,
        "data": event.data,
        "hash": event.hash,
        "prev_hash": event.prev_hash,
    }


def version_read(key: str, version: ProcessVersion) -> dict[str, Any]:
    """Return a process version's metadata."""
    return {
        "key": key,
        "name": version.name,
        "version": version.version,
        "filename": version.filename,
        "content_hash": version.content_hash,
        "deployed_at": iso(version.deployed_at),
        "deployed_by": version.deployed_by,
    }
