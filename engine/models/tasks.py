"""The task projection the inbox reads, and comments on tasks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, UTCDateTime

TASK_STATES = ("open", "completed", "cancelled")
SLA_STATUSES = ("on_track", "at_risk", "breached")


# The inbox's order (engine.queries._due_order) as index keys.
DUE_ORDER = ("due_at", "created_at", "id")


class Task(Base):
    """One user task of an instance, as the inbox sees it (never deserializes a workflow)."""

    __tablename__ = "task"
    __table_args__ = (
        # The runtime reads an instance's open tasks on every step: one index that
        # answers it whatever the planner knows about the other indexes.
        Index("ix_task_instance_state", "instance_id", "state"),
        # The inbox's lists end their keys with the whole order of engine.queries
        # (`_due_order`: due time, then creation, then id): a page stops after its rows
        # even where many tasks share a due time (a working calendar gives every task
        # opened overnight the same one), instead of sorting the whole tie.
        Index("ix_task_department_state_due", "department", "state", *DUE_ORDER),
        # (The tasks somebody holds only: a department queue's tasks, most open tasks,
        # cost this index no write; `assignee = :me` implies it. Migration 0018.)
        Index(
            "ix_task_assignee_state_due",
            "assignee",
            "state",
            *DUE_ORDER,
            postgresql_where=text("assignee IS NOT NULL"),
            sqlite_where=text("assignee IS NOT NULL"),
        ),
        Index("ix_task_state_due", "state", *DUE_ORDER),
        # The SLA sweep: open tasks whose next SLA step is due, in due order.
        Index("ix_task_state_next_sla", "state", "next_sla_at"),
        # (No index of (state, escalation_level): the escalated tab reads the partial
        # indexes below; migration 0017 dropped the one no query read.)
        # Reports and scorecards: the tasks completed in a period (done tasks only, so
        # that no write of an open task pays for it: migration 0018).
        Index(
            "ix_task_state_completed",
            "state",
            "completed_at",
            postgresql_where=text("completed_at IS NOT NULL"),
            sqlite_where=text("completed_at IS NOT NULL"),
        ),
        # The inbox's SLA filter, in due order and counted from the index alone.
        Index("ix_task_department_state_sla_due", "department", "state", "sla_status", *DUE_ORDER),
        Index("ix_task_state_sla_due", "state", "sla_status", *DUE_ORDER),
        # GET /tasks?process_key= / element_id=: a filter that finds few reads only them.
        Index("ix_task_process_state_due", "process_key", "state", *DUE_ORDER),
        Index("ix_task_element_state_due", "element_id", "state", *DUE_ORDER),
        # A department's tasks of one step: found by the step even when the department
        # has none of it (the step index alone reads every other department's first).
        Index(
            "ix_task_department_element_state_due", "department", "element_id", "state", *DUE_ORDER
        ),
        # The escalated tab (engine.sla.ladder.escalated_to): only the escalated tasks,
        # a department's for its supervisors, all of them for executives.
        Index(
            "ix_task_escalated_department",
            "department",
            "state",
            *DUE_ORDER,
            postgresql_where=text("escalation_level > 0"),
            sqlite_where=text("escalation_level > 0"),
        ),
        Index(
            "ix_task_escalated",
            "state",
            *DUE_ORDER,
            postgresql_where=text("escalation_level > 0"),
            sqlite_where=text("escalation_level > 0"),
        ),
        # The SLA report and the bottleneck steps: the tasks created in a period.
        Index("ix_task_created", "created_at"),
        # The reports' medians: the values of a few buckets of working time (set when a
        # task is done; open tasks are left out, as above).
        Index(
            "ix_task_working",
            "working_seconds",
            postgresql_where=text("working_seconds IS NOT NULL"),
            sqlite_where=text("working_seconds IS NOT NULL"),
        ),
        # The SLA report's pauses running now: the few open tasks paused, by creation.
        Index(
            "ix_task_paused_open",
            "created_at",
            postgresql_where=text("state = 'open' AND paused_at IS NOT NULL"),
            sqlite_where=text("state = 'open' AND paused_at IS NOT NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instance.id"))
    process_key: Mapped[str] = mapped_column(String(200))
    element_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    department: Mapped[str] = mapped_column(ForeignKey("department.code"))
    assignee: Mapped[str | None] = mapped_column(String(80), nullable=True)
    state: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sla_status: Mapped[str] = mapped_column(String(20), default="on_track")
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    # The SLA clock (engine.sla): the calendar and ladder the task runs on, when it
    # turns at risk, and the instant of its next SLA step (None: nothing left to do).
    sla_calendar: Mapped[str | None] = mapped_column(String(40), nullable=True)
    escalation_ladder: Mapped[str | None] = mapped_column(String(40), nullable=True)
    warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    next_sla_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Working time from creation to completion, on the task's calendar (SLA reports).
    working_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    completed_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    # What the completion submitted, after validation: the step's own record, which
    # no later step changes (the case record across departments).
    submitted: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # The seqs of its `task_created` and `task_completed` events: the case record
    # orders its steps and tells a loop's rounds apart by them without the history.
    created_seq: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), nullable=True
    )
    completed_seq: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), nullable=True
    )
    # The SLA clock paused while the case waits (on the owner, access, parts): since
    # when, why, and the working seconds of the pauses already ended.
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    paused_reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    paused_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    paused_seconds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class TaskComment(Base):
    __tablename__ = "task_comment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("task.id"), index=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instance.id"), index=True)
    author: Mapped[str] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
