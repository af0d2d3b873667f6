"""engine/handover.py: cases held through any declared assignee variable, all or nothing,
and a handover racing the leaver's own completion on PostgreSQL (one wins, nothing is
half-moved); a task whose assignee variable names a deactivated user goes to the queue."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from crm.models import Lead
from engine import handover, queries, runtime
from engine.audit import PendingEvent
from engine.db import get_engine, unit_of_work
from engine.errors import FlowdeskError, ProcessError, TaskHeldByOther
from engine.hooks import register_step_hook, unregister_step_hook
from engine.identity import SYSTEM, Actor, actor_for, deactivate_user, get_user
from engine.models import Handover, HistoryEvent, Instance, Task
from tests.crm.leads import assigned
from tests.fixtures.factories import deploy_fixture, make_user
from tests.fixtures.shipped import setup_shipped

ADMIN = SYSTEM


def _open_tasks(instance_id: str) -> list[Task]:
    with unit_of_work(write=False) as s:
        return queries.open_tasks_of(s, instance_id)


def _variables(instance_id: str) -> dict:
    with unit_of_work(write=False) as s:
        return dict(s.get(Instance, instance_id).variables)


def _start_owner_case(owner: str) -> str:
    with unit_of_work() as s:
        case = runtime.start_instance(
            s, process_key="owner_follows", variables={"owner": owner}, actor=ADMIN
        )
        return case.instance.id


def test_any_declared_assignee_variable_makes_a_held_case(db_url: str) -> None:
    deploy_fixture("owner_follows.bpmn")
    make_user("ann", "staff", department="sales")
    bob = make_user("bob", "staff", department="sales")
    instance_id = _start_owner_case("ann")
    with unit_of_work(write=False) as s:
        [held] = handover.held_cases(s, "ann")
        assert (held.instance_id, held.variables) == (instance_id, ("owner",))
        assert handover.held_case_counts(s) == {"ann": 1}
        assert handover.held_cases(s, "bob") == []
    with unit_of_work() as s:
        result = handover.hand_over(s, username="ann", to="bob", actor=ADMIN)
    assert (len(result.tasks), len(result.cases)) == (1, 1)
    assert _variables(instance_id)["owner"] == "bob"
    [first] = _open_tasks(instance_id)
    assert first.assignee == "bob"
    with unit_of_work() as s:
        runtime.complete_task(s, task_id=first.id, variables={}, actor=bob)
    [second] = _open_tasks(instance_id)
    assert (second.element_id, second.assignee) == ("second", "bob")
    # `second` takes no assignee from the variable: the case is held by nobody now
    with unit_of_work(write=False) as s:
        assert handover.held_cases(s, "bob") == []
        assert handover.holdings(s, "bob").task_ids == [second.id]


def test_a_handover_is_all_or_nothing(db_url: str) -> None:
    deploy_fixture("owner_follows.bpmn")
    make_user("ann", "staff", department="sales")
    make_user("bob", "staff", department="sales")
    cases = sorted(_start_owner_case("ann") for _ in range(2))
    with unit_of_work(write=False) as s:
        events = s.execute(select(func.count()).select_from(HistoryEvent)).scalar_one()

    def refuse_second(session: Session, *, instance: Instance, events: Sequence) -> None:
        if instance.id == cases[1] and any((e.data or {}).get("handover") for e in events):
            raise ProcessError("refused by the test")

    register_step_hook(refuse_second)
    try:
        with pytest.raises(ProcessError), unit_of_work() as s:
            handover.hand_over(s, username="ann", to="bob", actor=ADMIN)
    finally:
        unregister_step_hook(refuse_second)
    for instance_id in cases:  # the first case's moves went with the failure
        assert _variables(instance_id)["owner"] == "ann"
        assert [t.assignee for t in _open_tasks(instance_id)] == ["ann"]
    with unit_of_work(write=False) as s:
        assert s.execute(select(func.count()).select_from(Handover)).scalar_one() == 0
        assert s.execute(select(func.count()).select_from(HistoryEvent)).scalar_one() == events


def test_a_task_whose_assignee_variable_names_a_deactivated_user_goes_to_the_queue(
    db_url: str,
) -> None:
    deploy_fixture("owner_follows.bpmn")
    make_user("ann", "staff", department="sales")
    with unit_of_work() as s:
        deactivate_user(s, username="ann", actor=ADMIN)
    [task] = _open_tasks(_start_owner_case("ann"))
    assert (task.department, task.assignee) == ("sales", None)
    [task] = _open_tasks(_start_owner_case("someone_unknown"))
    assert task.assignee == "someone_unknown"  # only a known, deactivated user is skipped


# ---------------------------------------------------------------- the race (PostgreSQL)


class _Gate:
    """A step hook that, in one named thread, holds that thread's step (and so the case's
    lock) until released."""

    def __init__(self, thread_name: str) -> None:
        self.thread_name = thread_name
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(
        self, session: Session, *, instance: Instance, events: Sequence[PendingEvent]
    ) -> None:
        if threading.current_thread().name == self.thread_name and not self.entered.is_set():
            self.entered.set()
            assert self.release.wait(30), "the test never released the gate"


def _until_a_transaction_waits_for_a_lock(db_url: str) -> None:
    """Poll PostgreSQL until another connection waits for a row lock (the second thread
    has reached the case's lock). Each poll in a transaction of its own: within one,
    PostgreSQL shows the activity as the transaction's first look saw it (a second
    thread slower than the first poll was never seen waiting)."""
    deadline = time.monotonic() + 30
    with get_engine(db_url).connect() as conn:
        while True:
            waiting = conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()"
                )
            ).scalar_one()
            conn.rollback()
            if waiting:
                return
            assert time.monotonic() < deadline, "the second thread never waited for the lock"
            time.sleep(0.005)


def _a_lead_of_sales2() -> tuple[str, Task, Actor]:
    """A lead of sales2's at its follow-up, sales3 their colleague; and sales2 as actor."""
    api = setup_shipped()
    make_user("sales3", "staff", department="sales")
    case = assigned(api, consultant="sales2")
    api.close()
    [follow] = _open_tasks(case.id)
    with unit_of_work(write=False) as s:
        return case.id, follow, actor_for(get_user(s, "sales2"))


def _race(db_url: str, first: str) -> tuple[dict[str, object], str, str]:
    """Race sales2's completion of their follow-up against the handover of their work to
    sales3, `first` ("complete" or "handover") taking the case's lock first."""
    instance_id, follow, sales2 = _a_lead_of_sales2()
    outcome: dict[str, object] = {}

    def complete() -> None:
        try:
            with unit_of_work() as s:
                runtime.complete_task(
                    s, task_id=follow.id, variables={"stage": "prospect"}, actor=sales2
                )
            outcome["complete"] = "completed"
        except TaskHeldByOther:
            outcome["complete"] = "refused"

    def hand_over() -> None:
        with unit_of_work() as s:
            outcome["handover"] = handover.hand_over(s, username="sales2", to="sales3", actor=ADMIN)

    jobs: dict[str, Callable[[], None]] = {"complete": complete, "handover": hand_over}
    gate = _Gate(first)
    register_step_hook(gate)
    try:
        leader = threading.Thread(target=jobs[first], name=first)
        leader.start()
        assert gate.entered.wait(30)
        second = "handover" if first == "complete" else "complete"
        follower = threading.Thread(target=jobs[second], name=second)
        follower.start()
        _until_a_transaction_waits_for_a_lock(db_url)
        gate.release.set()
        leader.join(30)
        follower.join(30)
    finally:
        gate.release.set()
        unregister_step_hook(gate)
    return outcome, instance_id, follow.id


def _nothing_half_moved(instance_id: str) -> Task:
    """sales3 holds the lead whole: the variable, the lead record, its one open task."""
    assert _variables(instance_id)["consultant"] == "sales3"
    [task] = _open_tasks(instance_id)
    assert (task.element_id, task.assignee) == ("follow_up", "sales3")
    with unit_of_work(write=False) as s:
        lead = s.execute(select(Lead).where(Lead.instance_id == instance_id)).scalar_one()
        assert lead.consultant == "sales3"
        held = handover.holdings(s, "sales2")
        assert held.empty, held
    return task


def _pg_only(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite serializes every write transaction; the race is PostgreSQL's")


def test_the_leaver_completing_first_has_their_next_follow_up_moved(db_url: str) -> None:
    _pg_only(db_url)
    outcome, instance_id, first_task = _race(db_url, first="complete")
    assert outcome["complete"] == "completed"
    result = outcome["handover"]
    assert isinstance(result, handover.HandoverResult)
    task = _nothing_half_moved(instance_id)
    assert task.id != first_task  # the follow-up the completion created went along
    assert [m.task_id for m in result.tasks] == [task.id] and len(result.cases) == 1


def test_the_handover_first_refuses_the_leavers_completion(db_url: str) -> None:
    _pg_only(db_url)
    outcome, instance_id, first_task = _race(db_url, first="handover")
    assert outcome["complete"] == "refused"
    task = _nothing_half_moved(instance_id)
    assert task.id == first_task
    with unit_of_work(write=False) as s:
        assert s.get(Task, first_task).completed_at is None
        assert not s.scalars(
            select(HistoryEvent).where(
                HistoryEvent.type == "task_completed", HistoryEvent.task_id == first_task
            )
        ).all()


def test_a_free_race_has_one_winner_and_nothing_half_moved(db_url: str) -> None:
    _pg_only(db_url)
    instance_id, follow, sales2 = _a_lead_of_sales2()
    barrier = threading.Barrier(2)
    errors: list[FlowdeskError] = []

    def complete() -> None:
        barrier.wait()
        try:
            with unit_of_work() as s:
                runtime.complete_task(
                    s, task_id=follow.id, variables={"stage": "prospect"}, actor=sales2
                )
        except TaskHeldByOther as exc:
            errors.append(exc)

    def hand_over() -> None:
        barrier.wait()
        with unit_of_work() as s:
            handover.hand_over(s, username="sales2", to="sales3", actor=ADMIN)

    threads = [threading.Thread(target=complete), threading.Thread(target=hand_over)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    task = _nothing_half_moved(instance_id)
    assert (task.id == follow.id) == bool(errors)  # refused, or completed and the next moved


def test_a_handover_of_many_cases_does_not_deadlock_with_a_completion(db_url: str) -> None:
    """The handover holds case A (saved) and waits for case B, whose completion holds B
    and then needs the history's lock: the handover must not hold that lock yet."""
    _pg_only(db_url)
    api = setup_shipped()
    make_user("sales3", "staff", department="sales")
    cases = sorted(assigned(api, consultant="sales2", phone=f"1390013900{n}").id for n in range(2))
    api.close()
    [follow_b] = _open_tasks(cases[1])
    with unit_of_work(write=False) as s:
        sales2 = actor_for(get_user(s, "sales2"))
    outcome: dict[str, object] = {}

    def complete() -> None:
        with unit_of_work() as s:
            runtime.complete_task(
                s, task_id=follow_b.id, variables={"stage": "prospect"}, actor=sales2
            )
        outcome["complete"] = "completed"

    def hand_over() -> None:
        with unit_of_work() as s:
            outcome["handover"] = handover.hand_over(s, username="sales2", to="sales3", actor=ADMIN)

    gate = _Gate("complete")
    register_step_hook(gate)
    try:
        completing = threading.Thread(target=complete, name="complete")
        completing.start()
        assert gate.entered.wait(30)
        handing = threading.Thread(target=hand_over, name="handover")
        handing.start()
        _until_a_transaction_waits_for_a_lock(db_url)  # the handover, at case B
        gate.release.set()
        completing.join(30)
        handing.join(30)
    finally:
        gate.release.set()
        unregister_step_hook(gate)
    assert outcome["complete"] == "completed"
    result = outcome["handover"]
    assert isinstance(result, handover.HandoverResult) and len(result.cases) == 2
    for instance_id in cases:
        _nothing_half_moved(instance_id)
