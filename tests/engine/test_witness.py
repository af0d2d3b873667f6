"""The witness file of the history head: one line per change of head, written by every
round, and the check of a database against it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.db import unit_of_work
from engine.rounds import run_round
from engine.witness import (
    WitnessedHead,
    WitnessUnreadable,
    append_head,
    check_witness,
    read_witness,
)
from tests.fixtures.factories import deploy_fixture


def test_append_writes_each_head_once_and_heals_a_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "w" / "witness.jsonl"
    assert append_head(path, WitnessedHead(1, "a" * 64, "t1"))
    assert not append_head(path, WitnessedHead(1, "a" * 64, "t2"))
    with path.open("ab") as f:
        f.write(b'{"seq": 2, "ha')  # a crash mid-write
    assert [h.seq for h in read_witness(path)] == [1]  # the torn last line witnesses nothing
    assert append_head(path, WitnessedHead(3, "c" * 64, "t3"))
    lines = path.read_text().splitlines()
    assert json.loads(lines[-1]) == {"seq": 3, "hash": "c" * 64, "at": "t3"}
    with pytest.raises(WitnessUnreadable, match=":2: not a witnessed head"):
        read_witness(path)  # the torn line is no longer the last one
    assert path.stat().st_mode & 0o777 == 0o600


def test_rounds_witness_the_head_and_the_check_catches_rollback_and_rewrite(
    db_url: str, tmp_path: Path
) -> None:
    witness = tmp_path / "witness.jsonl"  # FLOWDESK_WITNESS_FILE of the db_url fixture
    deploy_fixture("two_lane.bpmn")
    run_round()
    run_round()  # the same head: no second line
    heads = read_witness(witness)
    assert [h.seq for h in heads] == [1]
    with unit_of_work(write=False) as session:
        assert check_witness(session, heads).ok
        ahead = check_witness(session, [*heads, WitnessedHead(5, "f" * 64, "later")])
        assert not ahead.ok and ahead.missing == 4 and ahead.first_bad_seq == 2
        assert "4 events are missing (events 2 to 5; the history ends at 1" in str(ahead.problem)
        other = check_witness(session, [WitnessedHead(1, "e" * 64, "then")])
        assert not other.ok and other.first_bad_seq == 1
        assert "event 1 differs from the witnessed event" in str(other.problem)
