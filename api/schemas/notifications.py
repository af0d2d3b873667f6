"""The signed-in user's notifications."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from api.schemas.common import Instant


class NotificationRead(BaseModel):
    """One notification: an SLA warning, breach, escalation or reminder."""

    id: int
    kind: str
    text: str = Field(description="in the caller's language")
    task_id: str | None
    instance_id: str | None
    data: dict[str, Any] | None
    created_at: Instant
    read_at: Instant | None
    to_department: str | None = Field(description="set when sent to a whole department")


class NotificationPage(BaseModel):
    """My notifications, newest first."""

    items: list[NotificationRead]
    total: int
    unread: int


class MarkedRead(BaseModel):
    """How many notifications were marked read."""

    marked: int
