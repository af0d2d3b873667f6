"""Drafts of a task's form: what someone typed but has not completed yet, kept on the
server so that a comment, a reload or another visit never loses it.

A draft is not validated (it is work in progress) and changes no case data: it is the
newest `task_draft_saved` event of its task, so saving one needs no table of its own
and is in the history like every other change. Only an open task has a draft shown;
whoever may complete the task may save one, and the next save replaces it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import access, clock
from engine.errors import FieldProblem, InvalidData, NotFound, TaskNotOpen
from engine.identity import Actor
from engine.models import HistoryEvent, Task
from engine.task_events import append_task_event

DRAFT_SAVED = "task_draft_saved"
MAX_DRAFT_CHARS = 100_000  # every value together: a form, not a document store
MAX_COMMENT_CHARS = 10_000  # as a comment itself


@dataclass(frozen=True)
class Draft:
    """The newest draft of a task: the form's fields as typed, and an unsent comment."""

    values: dict[str, str | list[str]]
    comment: str
    saved_by: str
    saved_at: datetime


def task_draft(session: Session, task: Task) -> Draft | None:
    """Return the newest draft of an open task (None: none, or the task is done)."""
    if task.state != "open":
        return None
    event = session.execute(
        select(HistoryEvent)
        .where(
            HistoryEvent.instance_id == task.instance_id,
            HistoryEvent.task_id == task.id,
            HistoryEvent.type == DRAFT_SAVED,
        )
        .order_by(HistoryEvent.seq.desc())
        .limit(1)
    ).scalar_one_or_none()
    if event is None:
        return None
    data = event.data or {}
    return Draft(
        values=dict(data.get("values") or {}),
        comment=str(data.get("comment") or ""),
        saved_by=event.actor,
        saved_at=event.at,
    )


def save_draft(
    session: Session, *, task_id: str, values: Any, comment: Any = "", actor: Actor
) -> Draft:
    """Keep what was typed in an open task's form (unvalidated) as the task's draft.

    `values` maps field names to the text typed (a list for a field of several
    choices). Nothing is written when it is the same as the newest draft.
    """
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound(key="error_task_not_found", task_id=task_id)
    access.require_work_task(actor, task)
    if task.state != "open":
        raise TaskNotOpen(key=f"error_task_is_{task.state}")
    clean = _draft_values(values)
    note = _draft_comment(comment)
    newest = task_draft(session, task)
    if newest is not None and (newest.values, newest.comment) == (clean, note):
        return newest
    now = clock.now()
    append_task_event(session, task, DRAFT_SAVED, actor, {"values": clean, "comment": note}, now)
    return Draft(clean, note, actor.username, now)


def _draft_values(values: Any) -> dict[str, str | list[str]]:
    if not isinstance(values, dict):
        raise InvalidData([FieldProblem("values", key="problem_draft_not_text")])
    clean: dict[str, str | list[str]] = {}
    size = 0
    for name, value in values.items():
        items = value if isinstance(value, list) else [value]
        if not (isinstance(name, str) and _storable(name)) or not all(
            isinstance(item, str) and _storable(item) for item in items
        ):
            raise InvalidData([FieldProblem(str(name), key="problem_draft_not_text")])
        clean[name] = list(items) if isinstance(value, list) else value
        size += len(name) + sum(len(item) for item in items)
    if size > MAX_DRAFT_CHARS:
        raise InvalidData(
            [FieldProblem("values", key="problem_draft_too_long", params={"n": MAX_DRAFT_CHARS})]
        )
    return clean


def _draft_comment(comment: Any) -> str:
    if comment is None:
        return ""
    if not isinstance(comment, str) or not _storable(comment):
        raise InvalidData([FieldProblem("text", key="problem_draft_not_text")])
    if len(comment) > MAX_COMMENT_CHARS:
        raise InvalidData([FieldProblem("text", key="problem_comment_too_long")])
    return comment


def _storable(text: str) -> bool:
    """Tell whether text can be stored as JSON on every database (no NUL, no lone surrogate)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
