"""Tasks as every endpoint shows them (CONTRACT.md "A task"), their comments, and the
bodies of the task actions. Completing a task answers `instances.TaskCompletion`."""

from __future__ import annotations

from typing import Any, Literal, Self, cast

from pydantic import BaseModel, Field

from api.schemas.common import Instant
from api.schemas.forms import FormRead
from api.schemas.steps import StepRead
from engine import clock
from engine.models import Task, TaskComment
from engine.privacy import UNMASKED, Masker
from engine.sla.planning import breached_for

TaskState = Literal["open", "completed", "cancelled"]
SlaStatus = Literal["on_track", "at_risk", "breached"]
PauseReason = Literal["waiting_customer", "waiting_access", "waiting_parts", "other"]


class TaskRead(BaseModel):
    """One user task of a case."""

    id: str
    instance_id: str
    process_key: str
    element_id: str
    name: str
    department: str = Field(description="the department code that owns the task")
    assignee: str | None = Field(description="username, or null while unclaimed")
    state: TaskState
    created_at: Instant
    due_at: Instant | None = Field(description="null when the task has no SLA")
    sla_status: SlaStatus
    escalation_level: int = Field(ge=0, le=3)
    completed_at: Instant | None
    completed_by: str | None
    # Beyond CONTRACT.md: the SLA clock's details for supervisors and pages.
    sla_calendar: str | None = Field(description="the working calendar the SLA runs on")
    warn_at: Instant | None = Field(description="when the task turns at_risk")
    escalated_at: Instant | None = Field(description="when it last climbed the ladder")
    breached_working_hours: float | None = Field(
        description="working hours past the due time (until completed); null unless breached"
    )
    paused: bool = Field(description="the SLA clock is paused (CONTRACT.md)")
    paused_reason: PauseReason | None = Field(description="why it is paused; null unless paused")
    paused_at: Instant | None = Field(description="since when it is paused")
    paused_note: str | None = Field(description="the note given when pausing")
    paused_seconds: int = Field(description="working seconds of the pauses already ended")

    @classmethod
    def from_task(cls, task: Task, **more: Any) -> Self:
        """Show a task row (with the fields a subclass adds, in `more`)."""
        return cls(
            id=task.id,
            instance_id=task.instance_id,
            process_key=task.process_key,
            element_id=task.element_id,
            name=task.name,
            department=task.department,
            assignee=task.assignee,
            state=cast(TaskState, task.state),  # the column holds only these
            created_at=task.created_at,
            due_at=task.due_at,
            sla_status=cast(SlaStatus, task.sla_status),
            escalation_level=task.escalation_level,
            completed_at=task.completed_at,
            completed_by=task.completed_by,
            sla_calendar=task.sla_calendar,
            warn_at=task.warn_at,
            escalated_at=task.escalated_at,
            breached_working_hours=_breached_hours(task),
            paused=task.paused_at is not None,
            paused_reason=cast(PauseReason | None, task.paused_reason),
            paused_at=task.paused_at,
            paused_note=task.paused_note,
            paused_seconds=task.paused_seconds or 0,
            **more,
        )


def _breached_hours(task: Task) -> float | None:
    """Working hours a breached task has been (or was, until completed) over its due time."""
    if task.sla_status != "breached":
        return None
    over = breached_for(task, task.paused_at or clock.now())  # a paused clock stands still
    return round(over.total_seconds() / 3600, 2) if over is not None else None


class TaskPage(BaseModel):
    """A page of the inbox: overdue first, then by due time."""

    items: list[TaskRead]
    total: int = Field(
        description="tasks matching the filters, over every page (counted up to 1 000 or "
        "past this page: with `total_exact` false, more than `total` match)"
    )
    total_exact: bool = Field(
        default=True, description="false: the count stopped, more than `total` tasks match"
    )


class CommentInTask(BaseModel):
    """A comment as the task shows it."""

    author: str
    text: str
    created_at: Instant

    @classmethod
    def from_comment(cls, comment: TaskComment, masker: Masker = UNMASKED) -> CommentInTask:
        """Show a comment row inside its task (phone numbers in it as `masker` says)."""
        return cls(
            author=comment.author, text=masker.value(comment.text), created_at=comment.created_at
        )


class TaskDetail(TaskRead):
    """A task with its form, the case variables and the comments on it."""

    form: FormRead | None = Field(description="the task's form; null when it has none")
    variables: dict[str, Any] = Field(description="the case variables")
    business_key: str | None
    comments: list[CommentInTask] = Field(description="oldest first")
    steps: list[StepRead] = Field(description="the case's completed user tasks, oldest first")


class CommentRead(BaseModel):
    """One comment of a task's comment list."""

    id: int
    author: str
    author_name: str = Field(description="the author's display name")
    text: str
    created_at: Instant


class CommentPage(BaseModel):
    """A task's comments, oldest first."""

    items: list[CommentRead]
    total: int


class CommentCreated(BaseModel):
    """The comment just added."""

    id: int
    task_id: str
    author: str
    text: str
    created_at: Instant


class CompleteTask(BaseModel):
    """Body of POST /tasks/{id}/complete."""

    variables: dict[str, Any] = Field(
        default_factory=dict, description="the form's fields (any object when it has no form)"
    )


class AssignTask(BaseModel):
    """Body of POST /tasks/{id}/assign."""

    username: str


class CommentCreate(BaseModel):
    """Body of POST /tasks/{id}/comments."""

    text: str


class PauseTask(BaseModel):
    """Body of POST /tasks/{id}/pause."""

    reason: str | None = Field(
        None, description="waiting_customer, waiting_access, waiting_parts or other"
    )
    note: str | None = Field(None, description="optional, for every reason")


class RemindTask(BaseModel):
    """Body of POST /tasks/{id}/remind (催办)."""

    text: str


class ReminderSent(BaseModel):
    """A reminder sent to the task's assignee, or to its department while unclaimed."""

    task_id: str
    text: str
    sender: str = Field(description="username of the sender")
    recipient: str | None = Field(description="the assignee told; null: the department")
    to_department: str | None = Field(description="the department told, while unclaimed")
    created_at: Instant
    task: TaskRead
