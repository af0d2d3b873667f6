"""Reports for supervisors and executives."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.schemas.common import Instant


class SlaDepartmentRow(BaseModel):
    """SLA achievement of one department."""

    department: str
    name_zh: str
    name_en: str
    tasks_done: int
    on_time_pct: float | None = Field(description="share of done tasks with an SLA done on time")
    breached: int
    escalated: int
    open: int
    median_working_hours: float | None = Field(
        description="from creation to done, the paused time left out"
    )
    paused_hours: float = Field(
        description="working hours the SLA clock of the department's tasks was paused"
    )
    paused_now: int = Field(description="open tasks whose clock is paused now")


class SlaReport(BaseModel):
    """Per department, over the tasks created in [since, until)."""

    since: Instant | None
    until: Instant | None
    process_key: str | None
    items: list[SlaDepartmentRow]
