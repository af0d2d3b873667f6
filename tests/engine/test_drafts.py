"""engine/drafts.py: a task's draft is its newest task_draft_saved event, saved only
by whoever may complete the task, while it is open, and only as text (both databases)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine import drafts
from engine.db import unit_of_work
from engine.errors import InvalidData, NotFound, NotPermitted, TaskNotOpen
from engine.identity import actor_for, get_user
from engine.models import HistoryEvent, Task
from tests.fixtures.shipped import Case, setup_shipped
from tests.processes.test_complaint_handling import complaint


def _save(task_id: str, user: str, values: object, comment: object = "") -> drafts.Draft:
    with unit_of_work() as session:
        found = get_user(session, user)
        assert found is not None
        actor = actor_for(found)
        return drafts.save_draft(
            session, task_id=task_id, values=values, comment=comment, actor=actor
        )


def _draft_events(task_id: str) -> int:
    with unit_of_work(write=False) as session:
        return session.execute(
            select(func.count()).where(
                HistoryEvent.task_id == task_id, HistoryEvent.type == drafts.DRAFT_SAVED
            )
        ).scalar_one()


def test_the_newest_draft_is_the_tasks_until_it_is_completed(db_url: str) -> None:
    case = Case(setup_shipped(), "cs1", "complaint_handling", complaint("quality"))
    task_id = case.task("acknowledge_complaint")["id"]
    _save(task_id, "cs1", {"notes": "第一次"})
    saved = _save(task_id, "cs2", {"notes": "已回电", "contacted": "true"}, "稍后再打")
    assert _save(task_id, "cs2", {"notes": "已回电", "contacted": "true"}, "稍后再打") == saved
    assert _draft_events(task_id) == 2  # the same draft again writes nothing
    with unit_of_work(write=False) as session:
        task = session.get(Task, task_id)
        assert task is not None
        draft = drafts.task_draft(session, task)
    assert draft is not None
    assert (draft.values, draft.comment, draft.saved_by) == (
        {"notes": "已回电", "contacted": "true"},
        "稍后再打",
        "cs2",
    )

    for values, comment in (
        ({"notes": 3}, ""),
        ({"notes": "a\x00b"}, ""),
        ({"notes": "\ud800"}, ""),
        ({"notes": ["ok", None]}, ""),
        ("notes", ""),
        ({"notes": "x" * (drafts.MAX_DRAFT_CHARS + 1)}, ""),
        ({}, "y" * (drafts.MAX_COMMENT_CHARS + 1)),
    ):
        with pytest.raises(InvalidData):
            _save(task_id, "cs1", values, comment)
    with pytest.raises(NotPermitted):
        _save(task_id, "eng1", {"notes": "别的部门"})
    with pytest.raises(NotFound):
        _save("no-such-task", "cs1", {})

    case.do("acknowledge_complaint", "cs1", {"contacted": True})
    with pytest.raises(TaskNotOpen):
        _save(task_id, "cs1", {"notes": "晚了"})
    with unit_of_work(write=False) as session:
        task = session.get(Task, task_id)
        assert task is not None and drafts.task_draft(session, task) is None
