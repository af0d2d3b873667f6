"""A case's steps: each completed user task with what its completion submitted."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from api.schemas.common import Instant
from engine.steps import Step


class StepRead(BaseModel):
    """One completed user task of a case and its own record (CONTRACT.md "The case
    record across departments")."""

    task_id: str
    element_id: str
    name: str
    department: str = Field(description="the department code that did the step")
    completed_by: str | None = Field(description="username")
    completed_at: Instant | None
    data: dict[str, Any] = Field(description="what the completion submitted, after validation")
    round: int = Field(
        ge=1,
        description="which time this element was worked: the parallel tasks of one round "
        "(one proposal per department) share it; a rejected or reopened loop starts the next",
    )

    @classmethod
    def from_steps(cls, steps: list[Step]) -> list[StepRead]:
        """Show the steps of `engine.steps.case_steps`."""
        return [cls(**step) for step in steps]
