"""What an SLA sweep costs: a sweep with nothing due is one indexed query, and a
sweep of several batches (and threads) reads the users once."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from engine import clock
from engine.db import get_engine, unit_of_work
from engine.models import Notification, Task
from engine.sla.sweep import SweepCounts, sweep_due_steps
from tests.engine.test_sla import complaint
from tests.fixtures.api_client import Api
from tests.fixtures.shipped import Case, setup_shipped
from tests.fixtures.statements import statements

SH = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


@pytest.fixture
def api(db_url: str) -> Api:
    return setup_shipped()


def three_surveys(api: Api) -> None:
    """Three site surveys created Monday 10:00, warned Tuesday 15:48."""
    clock.set_global_time(at("2026-11-23T10:00"))
    for _ in range(3):
        case = Case(api, "cs1", "complaint_handling", complaint("quality"))
        case.do("acknowledge_complaint", "cs1", {"contacted": True})


def test_a_sweep_with_nothing_due_is_one_query(api: Api) -> None:
    three_surveys(api)
    clock.set_global_time(at("2026-11-24T15:00"))
    with statements() as sent:
        counts = sweep_due_steps(at("2026-11-24T15:00"), threads=2)
    assert counts == SweepCounts()
    assert len(sent) == 1, sent  # no second connection asking the same
    assert sent[0].startswith("SELECT") and "FROM task" in sent[0]


def test_a_sweep_reads_the_users_once_whatever_its_batches(api: Api) -> None:
    three_surveys(api)
    clock.set_global_time(at("2026-11-24T15:48"))
    with statements() as sent:
        counts = sweep_due_steps(at("2026-11-24T15:48"), batch_size=1, threads=2)
    assert counts == SweepCounts(warnings=3)
    assert sum(1 for s in sent if "FROM app_user" in s) == 1, sent
    with unit_of_work(write=False) as s:
        assert (
            s.execute(
                select(func.count()).select_from(Task).where(Task.sla_status == "at_risk")
            ).scalar_one()
            == 3
        )
        notes = s.execute(select(Notification.kind, Notification.department)).all()
    # nobody holds the surveys: each warning goes to engineering's staff
    assert sorted(notes) == [("sla_warning", "engineering")] * 3


def test_a_batch_runs_with_the_cyclic_collector_held_off(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc

    from engine.sla import sweep

    three_surveys(api)
    seen: list[bool] = []
    append = sweep.append_events

    def watched(session: Any, events: Any, **kwargs: Any) -> int:
        seen.append(gc.isenabled())
        return append(session, events, **kwargs)

    monkeypatch.setattr(sweep, "append_events", watched)
    assert gc.isenabled()
    sweep_due_steps(at("2026-11-24T15:48"), batch_size=2, threads=2)
    assert seen == [False, False] and gc.isenabled()


def test_a_batch_writes_its_tasks_back_with_one_update(api: Api) -> None:
    """Each batch writes its tasks' SLA columns with one UPDATE: on PostgreSQL from one
    JSON parameter, each row found by its place; the columns read back as the steps set
    them. (One array a column, `unnest`, was tried: more CPU in the client and in the
    server in back-to-back rounds at a million open tasks.)"""
    three_surveys(api)
    clock.set_global_time(at("2026-11-24T15:48"))
    with statements() as sent:
        counts = sweep_due_steps(at("2026-11-24T15:48"), batch_size=2, threads=1)
    assert counts == SweepCounts(warnings=3)
    updates = [s for s in sent if s.startswith("UPDATE task ")]
    if get_engine().dialect.name == "postgresql":
        assert len(updates) == 2 and all(
            "json_to_recordset" in s and "task.ctid" in s for s in updates
        )
    else:
        assert len(updates) == 2, updates  # one executemany a batch
    with unit_of_work(write=False) as s:
        rows = s.execute(
            select(Task.sla_status, Task.next_sla_at, Task.due_at).where(Task.state == "open")
        ).all()
    # warned; the clock's next step is the breach, at the deadline
    assert len(rows) == 3 and all(r == ("at_risk", r.due_at, r.due_at) for r in rows), rows
