"""Per-case history chains (revision 0012): no global lock, and what the chains, their
heads, the checkpoints and the witness catch between them."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import func, insert, select, text

from cli.main import main as flowdesk
from engine import audit, checkpoints, queries, runtime
from engine.audit import GENESIS_HASH, event_hash
from engine.db import dispose_engines, get_engine, unit_of_work
from engine.migrations import alembic_config
from engine.models import HistoryEvent, Instance
from engine.rounds import run_round
from engine.witness import check_witness, read_witness
from tests.fixtures.factories import deploy_fixture, make_user
from tests.fixtures.statements import statements


@pytest.fixture
def cases(db_url: str) -> list[str]:
    """Three cases of the two-lane fixture, each at its first task."""
    cathy = make_user("cathy", "staff", department="customer_service")
    deploy_fixture("two_lane.bpmn")
    ids = []
    with unit_of_work() as s:
        for n in range(3):
            ids.append(
                runtime.start_instance(
                    s, process_key="two_lane", variables={"n": n}, actor=cathy
                ).instance.id
            )
    return ids


def _sql(statement: str, **params: object) -> None:
    with get_engine().begin() as conn:
        conn.execute(text(statement), params)


def _verify() -> audit.VerifyResult:
    with unit_of_work(write=False) as s:
        return audit.verify_chain(s)


def _events_of(chain: str) -> list[HistoryEvent]:
    with unit_of_work(write=False) as s:
        return list(
            s.scalars(select(HistoryEvent).where(HistoryEvent.chain == chain).order_by("seq"))
        )


def test_each_case_chains_its_own_events_and_its_row_keeps_the_head(cases: list[str]) -> None:
    for case_id in cases:
        events = _events_of(case_id)
        assert events and events[0].prev_seq == 0 and events[0].prev_hash == GENESIS_HASH
        for before, after in zip(events, events[1:], strict=False):
            assert (after.prev_seq, after.prev_hash) == (before.seq, before.hash)
        with unit_of_work(write=False) as s:
            instance = s.get(Instance, case_id)
            assert (instance.history_seq, instance.history_hash) == (
                events[-1].seq,
                events[-1].hash,
            )
    [deployed] = _events_of(audit.SYSTEM_CHAIN)
    assert deployed.type == "definition_deployed" and deployed.instance_id is None
    assert _verify().ok


def test_a_removed_tail_with_its_head_moved_back_is_caught_by_the_checkpoint(
    cases: list[str],
) -> None:
    run_round()  # seals every head
    last = _events_of(cases[1])[-1]
    _sql("DELETE FROM history_event WHERE seq = :s", s=last.seq)
    previous = _events_of(cases[1])[-1]
    _sql(
        "UPDATE instance SET history_seq = :s, history_hash = :h WHERE id = :i",
        s=previous.seq,
        h=previous.hash,
        i=cases[1],
    )
    result = _verify()
    assert (result.ok, result.first_bad_seq) == (False, last.seq)
    assert "checkpoint 1 sealed it" in str(result.problem)


def test_a_case_removed_with_all_its_events_is_caught_by_the_checkpoint(
    cases: list[str],
) -> None:
    run_round()
    newest = _events_of(cases[0])[-1]
    _sql("DELETE FROM history_event WHERE chain = :i", i=cases[0])
    _sql("DELETE FROM task WHERE instance_id = :i", i=cases[0])
    _sql("DELETE FROM instance WHERE id = :i", i=cases[0])
    result = _verify()
    assert (result.ok, result.first_bad_seq) == (False, newest.seq)
    assert flowdesk(["audit", "verify"]) == 1


def test_events_left_behind_by_a_removed_case_record_are_caught(cases: list[str]) -> None:
    first = _events_of(cases[2])[0]
    _sql("DELETE FROM task WHERE instance_id = :i", i=cases[2])
    _sql("DELETE FROM instance WHERE id = :i", i=cases[2])
    result = _verify()
    assert (result.ok, result.first_bad_seq) == (False, first.seq)
    assert "whose record was removed" in str(result.problem)


def test_an_event_moved_into_another_case_is_caught(cases: list[str]) -> None:
    moved = _events_of(cases[0])[-1]
    _sql("UPDATE history_event SET instance_id = :i WHERE seq = :s", i=cases[1], s=moved.seq)
    assert _verify().first_bad_seq == moved.seq


def test_an_altered_or_removed_checkpoint_is_caught(cases: list[str]) -> None:
    run_round()
    _sql("UPDATE history_checkpoint SET through_seq = through_seq + 1 WHERE id = 1")
    assert "checkpoint 1 was altered" in str(_verify().problem)
    _sql("DELETE FROM history_checkpoint")
    assert "checkpoints were removed or replaced" in str(_verify().problem)


def test_an_idle_round_seals_nothing_and_a_busy_one_seals_only_what_moved(
    cases: list[str],
) -> None:
    run_round()
    with unit_of_work() as s:
        assert checkpoints.seal(s) is None  # nothing moved since the round's checkpoint
    cs = make_user("cs2", "staff", department="customer_service")
    with unit_of_work() as s:
        [task] = queries.open_tasks_of(s, cases[0])
        runtime.complete_task(s, task_id=task.id, variables={"note": "ok"}, actor=cs)
    with unit_of_work() as s:
        sealed = checkpoints.seal(s)
        assert sealed is not None and sealed.id == 2
        newest = _events_of(cases[0])[-1]
        assert sealed.heads[cases[0]] == [newest.seq, newest.hash]
        assert sealed.through_seq == newest.seq
    assert _verify().ok


def test_a_checkpoint_seals_the_newest_event_of_every_chain_that_moved(
    cases: list[str],
) -> None:
    """2 500 chains moved (more than one read of hashes takes), some of them several
    times, with events of old unchained history between: each head is its chain's
    newest event, and only the fixture's chains (within the look-back) besides."""
    run_round()
    with unit_of_work(write=False) as s:
        start = (s.scalar(select(func.max(HistoryEvent.seq))) or 0) + 1
    rows = []
    for n in range(6000):
        seq = start + n
        chain = None if n % 7 == 0 else f"moved-{(n * 37) % 2500:04d}"
        rows.append(
            {
                "seq": seq,
                "at": datetime(2026, 12, 1, tzinfo=UTC),
                "actor": "system",
                "type": "sla_warning",
                "data": {},
                "prev_hash": GENESIS_HASH,
                "hash": f"{seq:064d}",
                "chain": chain,
                "prev_seq": 0,
            }
        )
    with unit_of_work() as s:
        s.execute(insert(HistoryEvent), rows)
    expected: dict[str, list[object]] = {}
    for row in rows:
        if row["chain"] is not None:
            expected[str(row["chain"])] = [row["seq"], row["hash"]]
    with unit_of_work() as s:
        sealed = checkpoints.seal(s)
        assert sealed is not None and sealed.through_seq == start + 5999
        moved = {k: v for k, v in sealed.heads.items() if k.startswith("moved-")}
        assert len(moved) == 2500 and moved == expected
        assert set(sealed.heads) - set(moved) <= {*audit.NAMED_CHAINS, *cases}


def test_an_idle_round_asks_once_whether_to_seal_and_locks_nothing(cases: list[str]) -> None:
    from engine.rounds import seal_history

    run_round()
    with statements(transaction_control=True) as sent:
        seal_history(datetime.now(UTC))
    queries_sent = [q for q in sent if q.startswith("SELECT")]
    assert len(queries_sent) == 1 and "history_checkpoint" in queries_sent[0], sent
    assert not any("FOR UPDATE" in q or "IMMEDIATE" in q or q.startswith("INSERT") for q in sent)
    cs = make_user("cs2", "staff", department="customer_service")
    with unit_of_work() as s:
        [task] = queries.open_tasks_of(s, cases[0])
        runtime.complete_task(s, task_id=task.id, variables={"note": "ok"}, actor=cs)
    seal_history(datetime.now(UTC))  # something moved: sealed as before
    with unit_of_work(write=False) as s:
        newest = checkpoints.newest_checkpoint(s)
        assert newest is not None and newest.id == 2
        assert newest.through_seq == _events_of(cases[0])[-1].seq
    assert _verify().ok


def test_the_witness_catches_rebuilt_checkpoints(cases: list[str]) -> None:
    run_round()
    heads = [h for h in read_witness(witness_file()) if h.checkpoint]
    assert heads and heads[-1].checkpoint == 1
    # A forger rebuilds checkpoint 1 consistently (its hash and the chain head).
    with unit_of_work() as s:
        s.execute(text("DELETE FROM history_checkpoint"))
        s.execute(
            text("UPDATE history_chain SET last_seq = 0, last_hash = :h WHERE name = 'checkpoint'"),
            {"h": GENESIS_HASH},
        )
    with unit_of_work() as s:
        assert checkpoints.seal(s) is not None
    assert _verify().ok  # the database alone cannot tell
    with unit_of_work(write=False) as s:
        result = check_witness(s, read_witness(witness_file()))
    assert not result.ok and "checkpoint 1 differs from the witnessed one" in str(result.problem)


def witness_file() -> Path:
    from engine.config import get_settings

    path = get_settings().witness_file
    assert path is not None
    return path


def test_steps_of_two_cases_do_not_wait_for_each_other(cases: list[str], db_url: str) -> None:
    """The lock a step takes is its own case's: a step of another case goes on while the
    first is still open (PostgreSQL; SQLite serializes all writers by design)."""
    if get_engine().dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    cs = make_user("cs2", "staff", department="customer_service")
    with unit_of_work(write=False) as s:
        first = queries.open_tasks_of(s, cases[0])[0].id
        second = queries.open_tasks_of(s, cases[1])[0].id
    holding, release, done = threading.Event(), threading.Event(), []

    def hold_first() -> None:
        with unit_of_work() as s:
            runtime.complete_task(s, task_id=first, variables={"note": "a"}, actor=cs)
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=hold_first)
    thread.start()
    assert holding.wait(10)
    try:
        with unit_of_work() as s:
            s.execute(text("SET LOCAL lock_timeout = '2s'"))  # a global lock would time out
            runtime.complete_task(s, task_id=second, variables={"note": "b"}, actor=cs)
            done.append(True)
    finally:
        release.set()
        thread.join(10)
    assert done and _verify().ok


def test_the_migration_keeps_an_older_history_and_chains_what_follows(db_url: str) -> None:
    """A history written before revision 0012 (one global chain ending at history_head)
    stays as it is, verifies, and the cases it holds go on in chains of their own."""
    cathy = make_user("cathy", "staff", department="customer_service")
    deploy_fixture("two_lane.bpmn")
    with unit_of_work() as s:
        case = runtime.start_instance(s, process_key="two_lane", variables={}, actor=cathy)
        case_id, task_id = case.instance.id, case.open_tasks[0].id
    config = alembic_config(db_url)
    try:
        _sql("DELETE FROM history_event")
        command.downgrade(config, "0011")
        dispose_engines()
        # The older appender: gapless seqs, one chain, its end on history_head.
        prev, rows = GENESIS_HASH, []
        at = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
        for seq, type_ in enumerate(("definition_deployed", "instance_started", "task_created"), 1):
            instance = None if seq == 1 else case_id
            data = {"n": seq}
            digest = event_hash(
                seq=seq,
                at=at,
                actor="cathy",
                type=type_,
                instance_id=instance,
                task_id=None,
                element_id=None,
                data=data,
                prev_hash=prev,
            )
            rows.append((seq, instance, type_, data, prev, digest))
            prev = digest
        table = HistoryEvent.__table__
        with get_engine(db_url).begin() as conn:
            for seq, instance, type_, data, before, digest in rows:
                conn.execute(
                    insert(table).values(
                        seq=seq,
                        at=at,
                        actor="cathy",
                        type=type_,
                        instance_id=instance,
                        data=data,
                        prev_hash=before,
                        hash=digest,
                    )
                )
            conn.execute(text("UPDATE history_head SET last_seq = 3, last_hash = :h"), {"h": prev})
    finally:
        command.upgrade(config, "head")
        dispose_engines()
    assert _verify().ok
    with unit_of_work() as s:
        runtime.complete_task(s, task_id=task_id, variables={"note": "已回电"}, actor=cathy)
    chained = _events_of(case_id)
    assert chained and chained[0].seq == 4 and chained[0].prev_seq == 0
    with unit_of_work(write=False) as s:
        kept = s.execute(select(HistoryEvent.seq, HistoryEvent.hash).where(HistoryEvent.seq <= 3))
        assert [tuple(r) for r in kept] == [(seq, digest) for seq, *_, digest in rows]
    assert _verify().ok
    run_round()
    assert _verify().ok
    _sql("UPDATE history_event SET actor = 'mallory' WHERE seq = 2")
    assert _verify().first_bad_seq == 2
    _sql("UPDATE history_event SET actor = 'cathy' WHERE seq = 2")
    _sql("DELETE FROM history_event WHERE seq = 3")
    assert _verify().first_bad_seq == 3
