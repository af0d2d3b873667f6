"""What a completion reads before it runs the engine: the task, its locked instance, its
other tasks and its history seqs in one statement (issue 18), and what it sees when it
had to wait for that lock."""

from __future__ import annotations

import threading
import time

from sqlalchemy import event, select

from engine import audit, runtime
from engine.db import get_engine, unit_of_work
from engine.models import Task
from tests.fixtures.factories import deploy_fixture, make_user


def _open(instance_id: str) -> dict[str, Task]:
    with unit_of_work(write=False) as s:
        return {
            t.department: t
            for t in s.scalars(
                select(Task).where(Task.instance_id == instance_id, Task.state == "open")
            )
        }


def test_a_completion_reads_task_and_instance_in_one_statement(db_url: str) -> None:
    cathy = make_user("cathy", "staff", department="customer_service")
    deploy_fixture("two_lane.bpmn")
    with unit_of_work() as s:
        case = runtime.start_instance(s, process_key="two_lane", variables={}, actor=cathy)
    [task] = case.open_tasks
    statements: list[str] = []

    def on_execute(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        statements.append(" ".join(statement.split()))

    engine = get_engine(db_url)
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        with unit_of_work() as s:
            runtime.complete_task(s, task_id=task.id, variables={}, actor=cathy)
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
    writes = [i for i, q in enumerate(statements) if q.startswith(("UPDATE", "INSERT"))]
    reads = [
        q
        for q in statements[: writes[0]]
        if q.startswith("SELECT") and (" FROM task" in q or " FROM instance" in q)
    ]
    # The instance, the task and its siblings, and the history seqs: one statement
    # (PostgreSQL: locked FOR UPDATE OF the instance and its tasks, no other read).
    assert len(reads) == 1, reads
    assert "JOIN task" in reads[0]
    reads_before_writes = [q for q in statements[: writes[0]] if q.startswith("SELECT")]
    if engine.dialect.name == "sqlite":
        assert "max(history_event.seq)" in reads[0]
    else:
        assert reads[0].endswith("FOR UPDATE OF instance, task")
        assert "nextval('history_event_seq_seq')" in reads[0] and "xmin" in reads[0]
    assert reads_before_writes == reads  # no seq, calendar or history read of its own


def test_a_completion_that_waited_for_the_lock_sees_the_committed_tasks(db_url: str) -> None:
    """B completes one parallel task while A, holding the instance, completes another:
    B waits, and then works on the tasks as A left them (not as they were when B's
    statement began)."""
    sam = make_user("sam", "staff", department="sales")
    eric = make_user("eric", "staff", department="engineering")
    pete = make_user("pete", "staff", department="property")
    deploy_fixture("parallel_mi.bpmn")
    with unit_of_work() as s:
        instance_id = runtime.start_instance(
            s,
            process_key="parallel_mi",
            variables={"departments": ["engineering", "property"]},
            actor=sam,
        ).instance.id
    tasks = _open(instance_id)
    a_done, release = threading.Event(), threading.Event()
    results: dict[str, object] = {}

    def a() -> None:
        with unit_of_work() as s:
            runtime.complete_task(
                s, task_id=tasks["engineering"].id, variables={"solution": "pipe"}, actor=eric
            )
            a_done.set()
            release.wait(10)

    def b() -> None:
        try:
            with unit_of_work() as s:
                _, case = runtime.complete_task(
                    s, task_id=tasks["sales"].id, variables={}, actor=sam
                )
                results["open"] = sorted(t.department for t in case.open_tasks)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            results["error"] = exc

    ta = threading.Thread(target=a)
    ta.start()
    assert a_done.wait(10)
    tb = threading.Thread(target=b)
    tb.start()
    time.sleep(0.5)  # B is waiting for A's lock
    assert "open" not in results and "error" not in results
    release.set()
    ta.join(20)
    tb.join(20)
    assert "error" not in results, results
    assert results["open"] == ["property"]
    assert sorted(_open(instance_id)) == ["property"]
    with unit_of_work(write=False) as s:
        states = dict(
            s.execute(
                select(Task.department, Task.state).where(Task.instance_id == instance_id)
            ).all()
        )
    assert states == {"engineering": "completed", "sales": "completed", "property": "open"}
    with unit_of_work() as s:
        runtime.complete_task(
            s, task_id=tasks["property"].id, variables={"solution": "clean"}, actor=pete
        )
    assert _open(instance_id) == {}
    with unit_of_work(write=False) as s:  # B's seqs were taken after A's: the chain holds
        assert audit.verify_chain(s).ok


def test_seqs_taken_with_a_cases_lock_serve_that_cases_events_only(db_url: str) -> None:
    """On PostgreSQL the seqs a lock statement took are newer than its case's events
    only: another chain's events take theirs from the sequence (SQLite's write
    transaction holds the whole database, so there any chain takes them)."""
    ahead = [10**9, 10**9 + 1, 10**9 + 2]
    with unit_of_work() as s:
        audit.keep_seqs(s, ahead, chain="case-a")
        other = audit._new_seqs(s, 2, {"case-b"})
        audit.keep_seqs(s, ahead, chain="case-a")
        own = audit._new_seqs(s, 4, {"case-a"})
        s.rollback()
    assert own[:3] == ahead and len(own) == 4  # then one more, after them
    if db_url.startswith("sqlite"):
        assert other == ahead[:2] and own[3] == ahead[-1] + 1
    else:  # from the sequence (these tests' seqs are far below 10**9)
        assert other[0] < ahead[0] and other[1] == other[0] + 1 and own[3] < ahead[0]
