"""The history's bulk writes: a round's thousands of events go to PostgreSQL as one
COPY, a step's few as one INSERT; what is stored is what was hashed, either way."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Table, func, select

from engine import audit, clock
from engine.audit import ROUNDS_CHAIN, PendingEvent, append_events
from engine.db import COPY_FROM_ROWS, copy_rows, get_engine, unit_of_work
from engine.history import hashing
from engine.models import HistoryEvent
from tests.fixtures.statements import statements

AT = datetime(2026, 12, 3, 8, 0, 0, 123456, tzinfo=UTC)
# What COPY's text format must escape, and text that JSON leaves as it is.
AWKWARD = 'tab\there, line\nbreak, back\\slash, "quoted", 现场勘查 \\N'


def _events(count: int) -> list[PendingEvent]:
    return [
        PendingEvent(
            type="sla_warning",
            actor="system",
            instance_id=f"case-{n}",
            task_id=f"task-{n}",
            element_id="visit",
            data={"name": AWKWARD, "n": n, "recipients": ["eng_1", "主管"], "none": None},
            at=AT,
            process_key="complaint_handling",
            department="engineering",
        )
        for n in range(count)
    ]


@pytest.mark.parametrize("count", [COPY_FROM_ROWS - 1, COPY_FROM_ROWS + 70])
def test_a_bulk_append_stores_what_it_hashed_and_verifies(db_url: str, count: int) -> None:
    with statements() as sent, unit_of_work() as s:
        assert append_events(s, _events(count), chain=ROUNDS_CHAIN) == count
    copied = get_engine().dialect.name == "postgresql" and count >= COPY_FROM_ROWS
    writes = [s for s in sent if s.startswith(("INSERT", "COPY")) and "history_event" in s]
    kinds = [s.split(" ")[0] for s in writes]
    assert kinds == (["COPY"] if copied else ["INSERT"]), sent
    with unit_of_work(write=False) as s:
        rows = s.execute(hashing.checked_events().order_by(HistoryEvent.seq)).all()
        assert len(rows) == count
        for n, row in enumerate(rows):
            assert row.data == audit.canonical_json(_events(count)[n].data)  # the hashed text
            assert audit.row_hash(row) == row.hash
            assert (row.at, row.instance_id, row.chain) == (AT, f"case-{n}", ROUNDS_CHAIN)
        stored = s.scalars(select(HistoryEvent).order_by(HistoryEvent.seq)).first()
        assert stored is not None and stored.data["name"] == AWKWARD
        result = audit.verify_chain(s)
    assert result.ok and result.events == count, result


def test_a_copy_refuses_a_naive_time_and_writes_nothing(db_url: str) -> None:
    if get_engine().dialect.name != "postgresql":
        pytest.skip("COPY is PostgreSQL's bulk path; SQLite inserts with executemany")
    table = HistoryEvent.__table__
    assert isinstance(table, Table)
    row = {
        "seq": 1,
        "at": AT,
        "actor": "system",
        "type": "sla_warning",
        "data": {"a": 1},
        "prev_hash": "0" * 64,
        "hash": "1" * 64,
    }
    rows = [dict(row, seq=n + 1) for n in range(COPY_FROM_ROWS)]
    rows[-1]["at"] = AT.replace(tzinfo=None)
    with pytest.raises(ValueError, match="naive datetime"), unit_of_work() as s:
        copy_rows(s, table, rows)
    with unit_of_work(write=False) as s:
        assert s.execute(select(func.count()).select_from(HistoryEvent)).scalar_one() == 0


def test_a_copy_writes_each_value_to_its_column_whatever_the_row_s_key_order(
    db_url: str,
) -> None:
    if get_engine().dialect.name != "postgresql":
        pytest.skip("COPY is PostgreSQL's bulk path; SQLite inserts with executemany")
    table = HistoryEvent.__table__
    assert isinstance(table, Table)
    rows = [
        {
            "seq": n + 1,
            "at": AT,
            "actor": f"actor-{n}",
            "type": "sla_warning",
            "data": {"n": n},
            "prev_hash": "0" * 64,
            "hash": f"{n:064d}",
        }
        for n in range(COPY_FROM_ROWS)
    ]
    rows[-1] = dict(reversed(list(rows[-1].items())))  # the same keys, the other way round
    with unit_of_work() as s:
        copy_rows(s, table, rows)
    with unit_of_work(write=False) as s:
        last = s.scalars(select(HistoryEvent).where(HistoryEvent.seq == COPY_FROM_ROWS)).one()
    n = COPY_FROM_ROWS - 1
    assert (last.actor, last.hash, last.data, last.at) == (f"actor-{n}", f"{n:064d}", {"n": n}, AT)


def test_an_instant_s_bulk_text_is_its_utc_text_whichever_zone_came_first() -> None:
    """The bulk JSON remembers an instant's text (a round's rows share a few): equal
    instants in other zones give the UTC text each time, and a naive time is refused."""
    import json
    from datetime import timedelta, timezone

    from engine.db import rows_json

    shanghai = timezone(timedelta(hours=8))
    for first, then in [(AT.astimezone(shanghai), AT), (AT, AT.astimezone(shanghai))]:
        clock.utc_text.cache_clear()
        sent = json.loads(rows_json([{"at": first}, {"at": then}, {"at": first}]))
        assert [r["at"] for r in sent] == ["2026-12-03T08:00:00.123456+00:00"] * 3
    whole = datetime(2026, 12, 3, 16, 0, tzinfo=shanghai)  # no microseconds: none written
    assert json.loads(rows_json([{"at": whole}])) == [{"at": "2026-12-03T08:00:00+00:00"}]
    with pytest.raises(ValueError, match="naive datetime"):
        rows_json([{"at": AT.replace(tzinfo=None)}])
