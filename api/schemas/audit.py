"""Auditors' answers: event pages, chain verification, a case's timeline."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Instant, LocalText
from api.schemas.instances import EventRead


class EventPage(BaseModel):
    """One page of history events (keyset by `seq`)."""

    items: list[EventRead]
    next: int | None = Field(description="`after` for the next page; null on the last")


class ChainVerification(BaseModel):
    """The whole hash chain checked; a broken one names its first bad event."""

    ok: bool
    events: int = Field(description="events checked")
    first_bad_seq: int | None = Field(default=None, description="only when not ok")
    problem: str | None = Field(default=None, description="only when not ok")
    first_bad_event: EventRead | None = Field(default=None, description="only when not ok")


class ScheduledCheck(BaseModel):
    """How far the scheduled incremental check got, and what it found."""

    checked_at: Instant | None
    verified_through: int = Field(description="the last event seq verified")
    ok: bool
    first_bad_seq: int | None
    problem: str | None


class NoScheduledCheck(BaseModel):
    """`{}`: the scheduled check has not run yet."""

    model_config = ConfigDict(extra="forbid")


class VariableChange(BaseModel):
    """How one case variable changed in a step."""

    model_config = ConfigDict(extra="allow")

    # Alphabetical, as the history stores them.
    added: bool | None = Field(default=None, description="present (true) when the variable is new")
    after: Any
    before: Any
    name: str
    removed: bool | None = Field(default=None, description="present (true) when it was removed")


class TimelineEntry(EventRead):
    """One event of a case's life, with who, which department, the task and the changes."""

    actor_department: str | None
    element_name: LocalText = Field(description="the element's name; {} when it has none")
    task_name: str | None
    changes: list[VariableChange]
    submitted: dict[str, Any] | None = Field(description="the data a task completion submitted")
    working_seconds: int | float | None
    # Only on sla_warning, sla_breached and task_escalated events:
    recipients: list[str] | None = Field(default=None, description="SLA events: who was reached")
    recipient_group: str | None = Field(default=None, description="SLA events: the group reached")
    level: int | None = Field(default=None, description="SLA events: the escalation level")


class TimelineDefinition(BaseModel):
    """The process version the case runs on, and its deployment event."""

    key: str | None
    version: int | None
    content_hash: str | None
    deployed_at: Instant | None
    deployed_by: str | None
    deployed_event_seq: int | None


class TimelineInstance(BaseModel):
    """The case, as far as the database (or, when it is gone, its history) knows it."""

    id: str | None
    process_key: str | None
    version: int | None
    business_key: str | None
    status: str | None
    started_at: Instant | None
    ended_at: Instant | None
    definition: TimelineDefinition


class CaseTimeline(BaseModel):
    """A case's life from its history, and whether replaying it gives today's variables."""

    instance: TimelineInstance
    events: list[TimelineEntry]
    variables_from_history: dict[str, Any]
    matches_case: bool
