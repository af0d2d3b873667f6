"""Engine features through the runtime: parallel and multi-instance tasks, DMN, call
activities, timers with `tick --at`, and a serializer round-trip at every step."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from cli.main import main as flowdesk
from engine import clock, runtime
from engine.bpmn.serializer import dump_state, load_state
from engine.db import unit_of_work
from engine.definitions import SPEC_CACHE
from engine.identity import Actor
from engine.models import Instance, Task
from tests.fixtures.factories import deploy_fixture, make_user

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # a Monday, 09:00 in Shanghai


def _open_tasks(instance_id: str) -> list[Task]:
    with unit_of_work(write=False) as s:
        return list(
            s.scalars(
                select(Task)
                .where(Task.instance_id == instance_id, Task.state == "open")
                .order_by(Task.element_id)
            )
        )


def _instance(instance_id: str) -> Instance:
    with unit_of_work(write=False) as s:
        return s.get(Instance, instance_id)


def _assert_round_trip(instance_id: str) -> None:
    """Restore the stored state, serialize it again: nothing may change."""
    with unit_of_work(write=False) as s:
        instance = s.get(Instance, instance_id)
        spec, subs = SPEC_CACHE.get(s, instance.version_id)
        again = dump_state(load_state(instance.workflow_state, spec, subs))
        assert json.loads(again) == json.loads(instance.workflow_state)


def _start(actor: Actor, key: str, variables: dict) -> str:
    with unit_of_work() as s:
        instance_id = runtime.start_instance(
            s, process_key=key, variables=variables, actor=actor
        ).instance.id
    _assert_round_trip(instance_id)
    return instance_id


def _complete(actor: Actor, task: Task, variables: dict | None = None) -> None:
    with unit_of_work() as s:
        runtime.complete_task(s, task_id=task.id, variables=variables or {}, actor=actor)
    _assert_round_trip(task.instance_id)


def test_parallel_gateway_and_multi_instance_per_department(db_url: str) -> None:
    sales = make_user("sam", "staff", department="sales")
    eng = make_user("eric", "staff", department="engineering")
    prop = make_user("pete", "staff", department="property")
    deploy_fixture("parallel_mi.bpmn")
    instance_id = _start(sales, "parallel_mi", {"departments": ["engineering", "property"]})
    tasks = _open_tasks(instance_id)
    assert sorted((t.element_id, t.department) for t in tasks) == [
        ("propose", "engineering"),
        ("propose", "property"),
        ("sales_check", "sales"),
    ]
    by_dept = {t.department: t for t in tasks}
    _complete(eng, by_dept["engineering"], {"solution": "replace pipe"})
    _complete(sales, by_dept["sales"])
    assert _instance(instance_id).status == "running"
    _complete(prop, by_dept["property"], {"solution": "clean up"})
    done = _instance(instance_id)
    assert done.status == "completed"
    assert sorted(done.variables["proposals"]) == ["clean up", "replace pipe"]


def test_business_rule_task_and_call_activity(db_url: str) -> None:
    cs = make_user("cathy", "staff", department="customer_service")
    deploy_fixture("route.dmn", "sub_review.bpmn", "dmn_call.bpmn")
    instance_id = _start(cs, "dmn_call", {"category": "quality"})
    [check] = _open_tasks(instance_id)
    assert (check.element_id, check.department) == ("check", "customer_service")
    assert _instance(instance_id).variables["responsible"] == "engineering"
    _complete(cs, check, {"ok": True})
    assert _instance(instance_id).status == "completed"


def test_intermediate_timer_fires_once_on_tick(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    prop = make_user("pete", "staff", department="property")
    deploy_fixture("timers.bpmn")
    with clock.frozen_at(T0):
        instance_id = _start(prop, "timers", {})
        [first] = _open_tasks(instance_id)
    with clock.frozen_at(T0 + timedelta(minutes=30)):
        _complete(prop, first)
    assert _open_tasks(instance_id) == []

    def tick(at: datetime) -> dict:
        assert flowdesk(["tick", "--at", at.isoformat()]) == 0
        return json.loads(capsys.readouterr().out)

    assert tick(T0 + timedelta(minutes=89))["timers_fired"] == 0
    assert tick(T0 + timedelta(minutes=90))["timers_fired"] == 1  # due by T includes T
    assert tick(T0 + timedelta(minutes=90))["timers_fired"] == 0
    assert tick(T0 + timedelta(hours=5))["timers_fired"] == 0
    [second] = _open_tasks(instance_id)
    assert second.element_id == "second"
    _assert_round_trip(instance_id)
    with unit_of_work(write=False) as s:
        from engine.queries import instance_history

        fired = [e for e in instance_history(s, instance_id) if e.type == "timer_fired"]
    assert [(e.element_id, e.actor) for e in fired] == [("wait", "system")]


def test_boundary_timer_cancels_the_waiting_task(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    prop = make_user("pete", "staff", department="property")
    deploy_fixture("timers.bpmn")
    with clock.frozen_at(T0):
        instance_id = _start(prop, "timers", {})
    [first] = _open_tasks(instance_id)
    assert flowdesk(["tick", "--at", (T0 + timedelta(hours=2, seconds=1)).isoformat()]) == 0
    counts = json.loads(capsys.readouterr().out)
    # the round also verified the events added since the last one
    assert counts.pop("history_ok") is True and counts.pop("events_verified") >= 4
    assert counts == {
        "timers_fired": 1,
        "warnings": 0,
        "breaches": 0,
        "escalations": 0,
        "notifications_sent": 0,
        "notifications_failed": 0,
        "errors": 0,
    }
    assert _instance(instance_id).status == "completed"
    with unit_of_work(write=False) as s:
        assert s.get(Task, first.id).state == "cancelled"
    with unit_of_work() as s, pytest.raises(Exception) as info:
        runtime.complete_task(s, task_id=first.id, variables={}, actor=prop)
    assert "cancelled" in str(info.value)
