"""engine/migration.py beyond the API: a waiting timer keeps its due time across a
migration, and a case fails to move as a whole when the new version fails on it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from engine import clock, runtime
from engine.db import unit_of_work
from engine.definitions import deploy_files
from engine.identity import SYSTEM, Actor
from engine.migration import migrate_instances
from engine.models import Instance, Task
from tests.fixtures.factories import FIXTURES, make_user

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # a Monday, 09:00 in Shanghai
TIMERS = (FIXTURES / "processes" / "timers.bpmn").read_bytes()


def _deploy(content: bytes) -> None:
    with unit_of_work() as session:
        deploy_files(session, files=[("timers.bpmn", content)], actor=SYSTEM)


def _start(actor: Actor) -> str:
    with unit_of_work() as session:
        return runtime.start_instance(
            session, process_key="timers", variables={}, actor=actor
        ).instance.id


def test_a_waiting_boundary_timer_keeps_its_due_time(db_url: str) -> None:
    prop = make_user("pete", "staff", department="property")
    designer = make_user("dora", "designer")
    _deploy(TIMERS)
    with clock.frozen_at(T0):
        instance_id = _start(prop)
    _deploy(TIMERS.replace(b'name="First"', b'name="First look"'))
    with clock.frozen_at(T0 + timedelta(hours=1)), unit_of_work() as session:
        report = migrate_instances(
            session, process_key="timers", from_version=1, to_version=2, actor=designer
        )
    assert [(i.ok, i.problem) for i in report.items] == [(True, None)]
    with unit_of_work(write=False) as s:
        instance = s.get(Instance, instance_id)
        assert instance.version == 2
        assert instance.next_timer_at == T0 + timedelta(hours=2)  # not restarted at T0+1h
        [first] = s.scalars(select(Task).where(Task.instance_id == instance_id)).all()
        assert first.name == "First look" and first.state == "open"
    with unit_of_work() as session:
        fired = runtime.fire_due_timers(
            session, instance_id=instance_id, at=T0 + timedelta(hours=2), actor=SYSTEM
        )
    assert fired == ["too_late"]
    with unit_of_work(write=False) as s:
        assert s.get(Instance, instance_id).status == "completed"
        assert s.get(Task, first.id).state == "cancelled"
