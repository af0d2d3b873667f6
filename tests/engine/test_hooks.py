"""The seam a vertical plugs into (engine/hooks.py): step hooks run inside the step's
transaction, and the case facts they write are what the inbox and the history read."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import queries, runtime
from engine.audit import PendingEvent
from engine.db import unit_of_work
from engine.history.search import EventFilters, search_events
from engine.hooks import (
    CaseFacts,
    StepHook,
    register_step_hook,
    unregister_step_hook,
    write_case_facts,
)
from engine.identity import Actor
from engine.models import CaseFact, HistoryEvent, Instance, Task
from tests.fixtures.factories import deploy_fixture, make_user


@pytest.fixture
def hooks() -> Iterator[Callable[[StepHook], None]]:
    """Register step hooks for one test; they are gone after it."""
    registered: list[StepHook] = []

    def register(hook: StepHook) -> None:
        register_step_hook(hook)
        registered.append(hook)

    yield register
    for hook in registered:
        unregister_step_hook(hook)


def _facts_from_variables(
    session: Session, *, instance: Instance, events: Sequence[PendingEvent]
) -> None:
    """A vertical of the test process: its start data names the customer and the project."""
    if instance.process_key != "two_lane" or "instance_started" not in {e.type for e in events}:
        return
    v = instance.variables
    write_case_facts(
        session,
        instance_id=instance.id,
        facts=CaseFacts(
            customer_name=v.get("who"),
            phone=v.get("tel"),
            project=v.get("project"),
            unit=v.get("unit"),
            customer_ref=v.get("ref"),
        ),
    )


def _start(actor: Actor, variables: dict[str, Any]) -> str:
    with unit_of_work() as s:
        return runtime.start_instance(
            s, process_key="two_lane", variables=variables, actor=actor
        ).instance.id


def _open_task(instance_id: str) -> Task:
    with unit_of_work(write=False) as s:
        return s.scalars(
            select(Task).where(Task.instance_id == instance_id, Task.state == "open")
        ).one()


def test_a_step_hook_sees_the_saved_step_before_its_events(
    db_url: str, hooks: Callable[[StepHook], None]
) -> None:
    actor = make_user("cs", "staff", department="customer_service")
    deploy_fixture("two_lane.bpmn")
    seen: list[dict[str, Any]] = []

    def spy(session: Session, *, instance: Instance, events: Sequence[PendingEvent]) -> None:
        seen.append(
            {
                "types": [e.type for e in events],
                "variables": dict(instance.variables),
                "open_tasks": session.scalar(
                    select(func.count())
                    .select_from(Task)
                    .where(Task.instance_id == instance.id, Task.state == "open")
                ),
                "events_written": session.scalar(
                    select(func.count())
                    .select_from(HistoryEvent)
                    .where(HistoryEvent.instance_id == instance.id)
                ),
            }
        )

    hooks(spy)
    hooks(spy)  # registering twice runs it once
    instance_id = _start(actor, {"who": "Alpha"})
    with unit_of_work() as s:
        runtime.complete_task(
            s, task_id=_open_task(instance_id).id, variables={"note": "ok"}, actor=actor
        )
    assert seen == [
        {
            "types": ["instance_started", "task_created"],
            "variables": {"who": "Alpha"},
            "open_tasks": 1,
            "events_written": 0,
        },
        {
            "types": ["task_completed", "task_created"],
            "variables": {"who": "Alpha", "note": "ok"},
            "open_tasks": 1,
            "events_written": 2,
        },
    ]


def test_a_failing_hook_fails_the_step_and_what_hooks_wrote_goes_with_it(
    db_url: str, hooks: Callable[[StepHook], None]
) -> None:
    actor = make_user("cs", "staff", department="customer_service")
    deploy_fixture("two_lane.bpmn")

    def rewrite_project(
        session: Session, *, instance: Instance, events: Sequence[PendingEvent]
    ) -> None:
        write_case_facts(
            session,
            instance_id=instance.id,
            facts=CaseFacts(project="after " + events[0].type),
        )

    def refuse_completions(
        session: Session, *, instance: Instance, events: Sequence[PendingEvent]
    ) -> None:
        if any(e.type == "task_completed" for e in events):
            raise RuntimeError("the vertical refuses this step")

    hooks(rewrite_project)
    hooks(refuse_completions)
    instance_id = _start(actor, {})
    task = _open_task(instance_id)
    with pytest.raises(RuntimeError, match="refuses"), unit_of_work() as s:
        runtime.complete_task(s, task_id=task.id, variables={"note": "x"}, actor=actor)
    with unit_of_work(write=False) as s:
        assert s.get(CaseFact, instance_id).project == "after instance_started"
        assert s.get(Task, task.id).state == "open"
        assert s.get(Instance, instance_id).variables == {}
        types = s.scalars(
            select(HistoryEvent.type)
            .where(HistoryEvent.instance_id == instance_id)
            .order_by(HistoryEvent.seq)
        ).all()
    assert types == ["instance_started", "task_created"]

    # A start refused by a hook leaves no instance and no facts at all.
    unregister_step_hook(refuse_completions)

    def refuse_starts(
        session: Session, *, instance: Instance, events: Sequence[PendingEvent]
    ) -> None:
        raise RuntimeError("no starts")

    hooks(refuse_starts)
    with pytest.raises(RuntimeError), unit_of_work() as s:
        runtime.start_instance(s, process_key="two_lane", variables={}, actor=actor)
    with unit_of_work(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Instance)) == 1
        assert s.scalar(select(func.count()).select_from(CaseFact)) == 1


def test_the_inbox_and_history_read_the_facts_a_vertical_writes(
    db_url: str, hooks: Callable[[StepHook], None]
) -> None:
    actor = make_user("cs", "staff", department="customer_service")
    auditor = make_user("aud", "auditor")
    deploy_fixture("two_lane.bpmn")
    hooks(_facts_from_variables)
    alpha = _start(
        actor, {"who": "Alpha", "tel": "13800000001", "project": "P1", "unit": "1-1", "ref": "7"}
    )
    alpha_again = _start(actor, {"who": "Alpha", "tel": "13800000001", "project": "P2", "ref": "7"})
    beta = _start(actor, {"who": "Beta", "tel": "13900000002", "project": "P2", "ref": "8"})
    bare = _start(actor, {"who": "Gamma", "project": "P1"})  # no facts: the hook's choice
    with unit_of_work() as s:
        write_case_facts(s, instance_id=bare, facts=CaseFacts())

    def inbox(**filters: Any) -> set[str]:
        with unit_of_work(write=False) as s:
            rows, total = queries.list_tasks(
                s, actor=actor, filters=queries.TaskFilters(scope="department", **filters)
            )
        assert total == len(rows)
        return {t.instance_id for t in rows}

    assert inbox() == {alpha, alpha_again, beta, bare}
    assert inbox(project="P1") == {alpha}
    assert inbox(project="P2") == {alpha_again, beta}
    assert inbox(search="Alp") == {alpha, alpha_again}
    assert inbox(search="0002") == {beta}
    assert inbox(search="Gamma") == set()  # start data the vertical did not report
    with unit_of_work(write=False) as s:
        assert queries.known_projects(s) == ["P1", "P2"]
        facts = queries.case_facts_of(s, {alpha, beta, bare, "no-such-case"})
    assert sorted(facts) == sorted([alpha, beta, bare])
    assert (facts[alpha].customer_name, facts[alpha].unit, facts[alpha].customer_ref) == (
        "Alpha",
        "1-1",
        "7",
    )

    def cases_in_history(**filters: Any) -> set[str | None]:
        with unit_of_work(write=False) as s:
            page = search_events(s, actor=auditor, filters=EventFilters(**filters), limit=1000)
        return {e.instance_id for e in page.events}

    assert cases_in_history(customer_id=7) == {alpha, alpha_again}
    assert cases_in_history(customer="Beta") == {beta}
    assert cases_in_history(customer="1380000") == {alpha, alpha_again}
    assert cases_in_history(customer="Gamma") == set()
