"""A failure half-way through a step writes nothing: no task row, no event, no state."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine import audit, runtime
from engine.db import unit_of_work
from engine.models import HistoryEvent, Instance, Task
from tests.fixtures.api_client import Api
from tests.fixtures.factories import deploy_fixture, make_user


def _counts() -> tuple[int, int, int]:
    with unit_of_work(write=False) as s:
        return (
            s.scalar(select(func.count()).select_from(Instance)),
            s.scalar(select(func.count()).select_from(Task)),
            s.scalar(select(func.count()).select_from(HistoryEvent)),
        )


def test_failing_history_append_rolls_back_the_whole_completion(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    eng = make_user("eng", "staff", department="engineering")
    deploy_fixture("script_guard.bpmn")
    with unit_of_work() as s:
        instance = runtime.start_instance(s, process_key="script_guard", variables={}, actor=eng)
        instance_id = instance.instance.id
    with unit_of_work(write=False) as s:
        [task] = s.scalars(select(Task).where(Task.instance_id == instance_id)).all()
        state_before = s.get(Instance, instance_id).workflow_state
    before = _counts()

    def broken_insert(session, table, rows):  # type: ignore[no-untyped-def]
        session.flush()  # the task rows and the new state are written ...
        raise RuntimeError("disk full")  # ... and then the history insert fails

    monkeypatch.setattr(audit, "bulk_insert", broken_insert)
    with pytest.raises(RuntimeError), unit_of_work() as s:
        runtime.complete_task(s, task_id=task.id, variables={"amount": 500}, actor=eng)
    monkeypatch.undo()
    assert _counts() == before
    with unit_of_work(write=False) as s:
        assert s.get(Task, task.id).state == "open"
        assert s.get(Instance, instance_id).workflow_state == state_before
        assert audit.verify_chain(s).ok


def test_process_failure_answers_422_and_keeps_the_task_open(db_url: str) -> None:
    make_user("dora", "designer")
    make_user("eng", "staff", department="engineering")
    api = Api()
    deploy_fixture("script_guard.bpmn")
    instance = api.start("eng", "script_guard").json()
    [task] = instance["open_tasks"]
    before = _counts()
    # `amount` is missing: the script task after the user task fails.
    r = api.complete("eng", task["id"], {"other": 1})
    assert r.status_code == 422
    [problem] = r.json()["detail"]
    assert problem["element_id"] == "compute" and "amount" in problem["message"]
    assert _counts() == before
    assert api.get(f"/tasks/{task['id']}", "eng").json()["state"] == "open"
    ok = api.complete("eng", task["id"], {"amount": 70})
    assert ok.status_code == 200, ok.text
    [big] = ok.json()["instance"]["open_tasks"]
    assert big["element_id"] == "big" and ok.json()["instance"]["variables"]["total"] == 140
