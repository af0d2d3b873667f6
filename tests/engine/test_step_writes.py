"""A step's rows written by prebuilt statements (engine/step_writes.py): what lands in
the database is what the ORM would have written, nothing is left for its flush, a
stale instance is refused, and a session with other changes goes the ORM's way."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, inspect, select, text
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from engine import runtime
from engine.db import unit_of_work
from engine.errors import ConcurrentUpdate
from engine.models import Instance, Task, TaskComment
from engine.step_writes import write_step_rows
from tests.fixtures.factories import deploy_fixture, make_user
from tests.fixtures.statements import statements


@contextmanager
def _flushes() -> Iterator[list[int]]:
    """Count the ORM flushes that had something to write."""
    seen: list[int] = []

    def note(session: Session, *_: Any) -> None:
        seen.append(len(session.new) + len(session.dirty))

    event.listen(Session, "before_flush", note)
    try:
        yield seen
    finally:
        event.remove(Session, "before_flush", note)


def _columns(row: Any) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in inspect(type(row)).column_attrs}


def _stored(model: type, key: str) -> dict[str, Any]:
    with unit_of_work(write=False) as s:
        return _columns(s.get(model, key))


def _start_two_lane() -> tuple[Any, Task]:
    cathy = make_user("cathy", "staff", department="customer_service")
    deploy_fixture("two_lane.bpmn")
    with unit_of_work() as s:
        case = runtime.start_instance(s, process_key="two_lane", variables={}, actor=cathy)
    [task] = case.open_tasks
    return cathy, task


def test_a_completion_writes_its_rows_without_the_orm_flush(db_url: str) -> None:
    cathy, task = _start_two_lane()
    before = _stored(Instance, task.instance_id)
    with _flushes() as flushes, statements() as sent, unit_of_work() as s:
        done, case = runtime.complete_task(s, task_id=task.id, variables={}, actor=cathy)
        written = list(sent)
        # every column of the rows it holds is loaded: reading them sends nothing
        after_rows = [_columns(case.instance), _columns(done), *map(_columns, case.open_tasks)]
        assert sent == written
    assert flushes == []  # nothing was left for the ORM, not even at commit
    assert [" ".join(q.split()[:2]) for q in written if q.startswith("UPDATE")][:2] == [
        "UPDATE instance",
        "UPDATE task",
    ]
    assert sum(q.startswith("INSERT INTO task ") for q in written) == 1
    instance_row, done_row, *new_rows = after_rows
    # the database holds what the objects say, column for column
    assert _stored(Instance, task.instance_id) == instance_row
    assert _stored(Task, task.id) == done_row
    [new_row] = new_rows
    assert _stored(Task, new_row["id"]) == new_row
    assert instance_row["lock_version"] == before["lock_version"] + 1
    assert instance_row["history_seq"] > before["history_seq"]
    assert done_row["state"] == "completed" and done_row["completed_by"] == "cathy"
    assert done_row["completed_seq"] is not None and new_row["created_seq"] is not None
    # a new row's defaults are written and set, as the ORM's insert would
    assert new_row["sla_status"] == "on_track"
    assert new_row["escalation_level"] == 0 and new_row["paused_seconds"] == 0


def test_a_stale_instance_is_refused_and_nothing_is_written(db_url: str) -> None:
    _, task = _start_two_lane()
    before = _stored(Instance, task.instance_id)
    with pytest.raises(ConcurrentUpdate), unit_of_work() as s:
        instance = s.get(Instance, task.instance_id)
        # loaded before another writer moved the row on
        set_committed_value(instance, "lock_version", instance.lock_version - 1)
        instance.error = "changed"
        write_step_rows(s, [instance])
    assert _stored(Instance, task.instance_id) == before


def test_other_changes_in_the_session_go_the_orms_way_with_the_rows(db_url: str) -> None:
    _, task = _start_two_lane()
    with _flushes() as flushes, unit_of_work() as s:
        row = s.get(Task, task.id)
        s.add(
            TaskComment(
                task_id=task.id,
                instance_id=task.instance_id,
                author="cathy",
                text="x",
                created_at=row.created_at,
            )
        )
        row.name = "改过的名字"
        write_step_rows(s, [row])
        assert flushes == [2]  # the comment and the task, in one flush of the ORM
    with unit_of_work(write=False) as s:
        assert s.get(Task, task.id).name == "改过的名字"
        assert s.scalar(select(TaskComment.text).where(TaskComment.task_id == task.id)) == "x"


def test_an_unchanged_assignment_writes_nothing(db_url: str) -> None:
    _, task = _start_two_lane()
    with statements() as sent, _flushes() as flushes, unit_of_work() as s:
        row = s.get(Task, task.id)
        row.name = row.name  # set to what it was
        write_step_rows(s, [row])
    assert not [q for q in sent if q.startswith("UPDATE")]
    assert flushes == []


def test_json_and_times_come_back_as_written(db_url: str) -> None:
    """The converters of the prebuilt statements are the columns' own: Chinese text in
    JSON as itself (not as \\u escapes), times in UTC and aware."""
    cathy, task = _start_two_lane()
    with unit_of_work() as s:
        runtime.complete_task(s, task_id=task.id, variables={"note": "已回电"}, actor=cathy)
    with unit_of_work(write=False) as s:
        variables, submitted = s.execute(
            text(
                "SELECT CAST(i.variables AS TEXT), CAST(t.submitted AS TEXT) FROM instance i "
                "JOIN task t ON t.instance_id = i.id WHERE t.id = :id"
            ),
            {"id": task.id},
        ).one()
        stored = s.get(Task, task.id)
    assert "已回电" in variables and "已回电" in submitted and "\\u" not in submitted
    assert stored.submitted == {"note": "已回电"}
    assert stored.completed_at is not None and stored.completed_at.utcoffset() == timedelta(0)


def test_the_tasks_a_step_opens_go_in_one_insert(db_url: str) -> None:
    """A parallel split opens three tasks (a sales check and two proposals): one INSERT
    of all three rows, as the ORM's flush batched them, each row as its object says."""
    sam = make_user("sam", "staff", department="sales")
    deploy_fixture("parallel_mi.bpmn")
    with _flushes() as flushes, statements() as sent, unit_of_work() as s:
        case = runtime.start_instance(
            s,
            process_key="parallel_mi",
            variables={"departments": ["engineering", "property"]},
            actor=sam,
        )
        opened = [_columns(t) for t in case.open_tasks]
        instance = _columns(case.instance)
    assert flushes == []
    inserts = [q for q in sent if q.startswith("INSERT INTO task ")]
    assert len(opened) == 3 and len(inserts) == 1
    assert sent.index(inserts[0]) > next(
        i for i, q in enumerate(sent) if q.startswith("INSERT INTO instance ")
    )
    assert {row["department"] for row in opened} == {"sales", "engineering", "property"}
    for row in opened:
        assert _stored(Task, row["id"]) == row
    assert _stored(Instance, instance["id"]) == instance and instance["lock_version"] == 1
