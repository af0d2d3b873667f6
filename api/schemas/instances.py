"""Process instances (cases), what completing a task answers, their history events,
and the bodies that start and cancel them."""

from __future__ import annotations

from typing import Any, Literal, cast

from pydantic import BaseModel, Field

from api.schemas.common import Instant
from api.schemas.steps import StepRead
from api.schemas.tasks import TaskRead
from engine.models import HistoryEvent, Instance, Task
from engine.privacy import UNMASKED, Masker
from engine.steps import Step, masked_steps

InstanceStatus = Literal["running", "completed", "cancelled", "error"]


class InstanceRead(BaseModel):
    """A case: its process version, status, variables and open tasks."""

    id: str
    process_key: str
    version: int
    business_key: str | None
    status: InstanceStatus
    variables: dict[str, Any]
    started_at: Instant
    started_by: str | None
    ended_at: Instant | None
    error: str | None = Field(description="why the case stopped, when status is error")
    open_tasks: list[TaskRead]
    steps: list[StepRead] = Field(description="every completed user task, oldest first")

    @classmethod
    def from_instance(
        cls,
        instance: Instance,
        *,
        open_tasks: list[Task],
        steps: list[Step],
        masker: Masker = UNMASKED,
    ) -> InstanceRead:
        """Show an instance row with its open task rows and its steps, as `masker` lets
        the reader see them."""
        return cls(
            id=instance.id,
            process_key=instance.process_key,
            version=instance.version,
            business_key=instance.business_key,
            status=cast(InstanceStatus, instance.status),
            variables=masker.variables(instance.variables or {}),
            started_at=instance.started_at,
            started_by=instance.started_by,
            ended_at=instance.ended_at,
            error=instance.error,
            open_tasks=[TaskRead.from_task(t) for t in open_tasks],
            steps=StepRead.from_steps(masked_steps(steps, masker)),
        )


class TaskCompletion(TaskRead):
    """The answer of completing a task: the task (its fields, and again as `task`) and
    the case after the step."""

    task: TaskRead
    instance: InstanceRead


class EventRead(BaseModel):
    """One event of the append-only, hash-chained history."""

    seq: int
    at: Instant
    actor: str = Field(description="a username, or 'system'")
    type: str
    process_key: str | None
    instance_id: str | None
    task_id: str | None
    element_id: str | None
    department: str | None
    data: dict[str, Any] | None
    prev_hash: str
    hash: str

    @classmethod
    def from_event(cls, event: HistoryEvent, masker: Masker = UNMASKED) -> EventRead:
        """Show a history event row (its data as `masker` lets the reader see it)."""
        return cls(
            seq=event.seq,
            at=event.at,
            actor=event.actor,
            type=event.type,
            process_key=event.process_key,
            instance_id=event.instance_id,
            task_id=event.task_id,
            element_id=event.element_id,
            department=event.department,
            data=masker.data(event.data) if event.data else event.data,
            prev_hash=event.prev_hash,
            hash=event.hash,
        )


class InstanceHistory(BaseModel):
    """A case's history, oldest first."""

    events: list[EventRead]


class StartInstance(BaseModel):
    """Body of POST /processes/{key}/instances."""

    variables: dict[str, Any] = Field(
        default_factory=dict, description="the start form's fields (any object without a form)"
    )
    business_key: str | None = None


class CancelInstance(BaseModel):
    """Body of POST /instances/{id}/cancel."""

    reason: str
