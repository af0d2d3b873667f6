"""A user task's `assignee_variable`: reassigning the task sets the case variable, in the
history and through the step hooks, so later tasks assigned from it follow."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import runtime
from engine.audit import PendingEvent
from engine.db import unit_of_work
from engine.hooks import register_step_hook, unregister_step_hook
from engine.models import HistoryEvent, Instance, Task
from tests.fixtures.factories import deploy_fixture, make_user


def _open(instance_id: str) -> Task:
    with unit_of_work(write=False) as s:
        return s.scalars(
            select(Task).where(Task.instance_id == instance_id, Task.state == "open")
        ).one()


def test_reassigning_sets_the_variable_and_later_tasks_follow(db_url: str) -> None:
    deploy_fixture("owner_follows.bpmn")
    first_owner = make_user("ann", "staff", department="sales")
    second_owner = make_user("bob", "staff", department="sales")
    boss = make_user("sue", "supervisor", department="sales")
    seen: list[tuple[str, object]] = []

    def hook(session: Session, *, instance: Instance, events: Sequence[PendingEvent]) -> None:
        seen.extend((e.type, instance.variables.get("owner")) for e in events)

    register_step_hook(hook)
    try:
        with unit_of_work() as s:
            case = runtime.start_instance(
                s, process_key="owner_follows", variables={"owner": "ann"}, actor=first_owner
            )
            instance_id = case.instance.id
        first = _open(instance_id)
        assert first.assignee == "ann"
        with unit_of_work() as s:
            runtime.assign_task(s, task_id=first.id, username="bob", actor=boss)
        with unit_of_work(write=False) as s:
            assert s.get(Instance, instance_id).variables["owner"] == "bob"
            [assigned] = s.scalars(
                select(HistoryEvent).where(HistoryEvent.type == "task_assigned")
            ).all()
            assert assigned.data["changes"] == [{"name": "owner", "before": "ann", "after": "bob"}]
        assert ("task_assigned", "bob") in seen
        with unit_of_work() as s:
            runtime.complete_task(s, task_id=first.id, variables={}, actor=second_owner)
        second = _open(instance_id)
        assert (second.element_id, second.assignee) == ("second", "bob")
        # a task without the property is reassigned without touching the case
        with unit_of_work() as s:
            runtime.assign_task(s, task_id=second.id, username="ann", actor=boss)
        with unit_of_work(write=False) as s:
            assert s.get(Instance, instance_id).variables["owner"] == "bob"
            assert s.get(Task, second.id).assignee == "ann"
    finally:
        unregister_step_hook(hook)


def test_a_multi_instance_task_is_reassigned_as_any_other(db_url: str) -> None:
    deploy_fixture("parallel_mi.bpmn")
    sales = make_user("sam", "staff", department="sales")
    make_user("eve", "staff", department="engineering")
    boss = make_user("ed", "supervisor", department="engineering")
    with unit_of_work() as s:
        case = runtime.start_instance(
            s,
            process_key="parallel_mi",
            variables={"departments": ["engineering", "property"]},
            actor=sales,
        )
        [propose] = [t for t in case.open_tasks if t.department == "engineering"]
    with unit_of_work() as s:
        runtime.assign_task(s, task_id=propose.id, username="eve", actor=boss)
    with unit_of_work(write=False) as s:
        assert s.get(Task, propose.id).assignee == "eve"
