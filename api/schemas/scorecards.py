"""Staff scorecards (`GET /reports/scorecards`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from api.schemas.common import Instant


class ScorecardRow(BaseModel):
    """The figures of one person or one department over the period."""

    key: str | None = Field(description="the username (group_by=person) or department code")
    display_name: str | None = Field(description="the person's name; null for a department")
    department: str | None = Field(description="the person's department (a department: itself)")
    tasks_completed: int = Field(description="tasks completed in the period")
    with_due: int = Field(description="of those, tasks that had a due time")
    on_time: int = Field(description="of those, completed by their due time")
    on_time_pct: float | None = Field(description="on_time / with_due × 100, one decimal")
    breached: int = Field(description="completed tasks that had breached their SLA")
    escalated: int = Field(description="completed tasks that had escalated (level 1 or more)")
    escalated_level_2: int = Field(description="completed tasks that reached level 2 or 3")
    escalated_level_3: int = Field(description="completed tasks that reached level 3")
    rated: int = Field(description="staff-recorded scores (return visits) given in the period")
    average: float | None = Field(description="their mean (1–5), two decimals")
    customer_answered: int = Field(description="the customers' own survey answers in the period")
    customer_average: float | None = Field(description="their mean (1–5), two decimals")


class ScorecardReport(BaseModel):
    """Per person or department; the department and username the reader's scope came to."""

    group_by: Literal["person", "department"]
    since: Instant | None
    until: Instant | None
    department: str | None
    username: str | None
    items: list[ScorecardRow]
