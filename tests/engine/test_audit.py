"""The hash chain catches edited, deleted and inserted events (tampering in the table)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import text

from cli.main import main as flowdesk
from engine import audit, runtime
from engine.db import get_engine, unit_of_work
from engine.history import hashing
from tests.fixtures.api_client import Api
from tests.fixtures.factories import deploy_fixture, make_user


@pytest.fixture
def history(db_url: str) -> Api:
    make_user("dora", "designer")
    cs = make_user("cathy", "staff", department="customer_service")
    make_user("ada", "auditor")
    deploy_fixture("two_lane.bpmn")
    with unit_of_work() as s:
        for _ in range(3):
            runtime.start_instance(s, process_key="two_lane", variables={"n": 1}, actor=cs)
    return Api()


def _sql(statement: str, **params: object) -> None:
    with get_engine().begin() as conn:
        conn.execute(text(statement), params)


def _verify(api: Api) -> tuple[dict, int]:
    return api.get("/audit/verify", "ada").json(), flowdesk(["audit", "verify"])


def test_intact_history_verifies(history: Api, capsys: pytest.CaptureFixture[str]) -> None:
    result, code = _verify(history)
    assert result == {"ok": True, "events": 7} and code == 0
    assert "7 events verified" in capsys.readouterr().out


def test_edited_event_is_named(history: Api, capsys: pytest.CaptureFixture[str]) -> None:
    _sql("UPDATE history_event SET actor = 'mallory' WHERE seq = 4")
    result, code = _verify(history)
    assert (result["ok"], result["first_bad_seq"], code) == (False, 4, 1)
    assert "event 4" in capsys.readouterr().out


def test_edited_data_is_named(history: Api) -> None:
    _sql(
        "UPDATE history_event SET data = :d WHERE seq = 2",
        d=json.dumps({"name": "Intake", "department": "sales"}),
    )
    assert _verify(history)[0]["first_bad_seq"] == 2


def test_deleted_event_is_named(history: Api) -> None:
    _sql("DELETE FROM history_event WHERE seq = 3")
    result, code = _verify(history)
    assert (result["ok"], result["first_bad_seq"], code) == (False, 3, 1)


def test_deleted_last_event_is_named(history: Api) -> None:
    _sql("DELETE FROM history_event WHERE seq = 7")
    result, code = _verify(history)
    assert (result["ok"], result["first_bad_seq"], code) == (False, 7, 1)


def test_inserted_event_is_named(history: Api) -> None:
    # Make room in the middle, as a forger would, and insert a plausible event.
    _sql("UPDATE history_event SET seq = seq + 100 WHERE seq >= 5")
    _sql(
        "INSERT INTO history_event (seq, at, actor, type, instance_id, task_id, element_id, "
        "data, prev_hash, hash) SELECT 5, at, 'mallory', 'task_completed', instance_id, task_id, "
        "element_id, data, hash, hash FROM history_event WHERE seq = 4"
    )
    result, code = _verify(history)
    assert (result["ok"], result["first_bad_seq"], code) == (False, 5, 1)


def test_event_appended_behind_the_chain_is_named(history: Api) -> None:
    _sql(
        "INSERT INTO history_event (seq, at, actor, type, instance_id, task_id, element_id, "
        "data, prev_hash, hash) SELECT 8, at, 'mallory', 'task_completed', instance_id, task_id, "
        "element_id, data, hash, hash FROM history_event WHERE seq = 7"
    )
    result, code = _verify(history)
    assert (result["ok"], result["first_bad_seq"], code) == (False, 8, 1)


def test_event_inserted_before_the_start_is_named(history: Api) -> None:
    _sql(
        "INSERT INTO history_event (seq, at, actor, type, instance_id, task_id, element_id, "
        "data, prev_hash, hash) SELECT 0, at, 'mallory', type, instance_id, task_id, "
        "element_id, data, prev_hash, hash FROM history_event WHERE seq = 1"
    )
    result, code = _verify(history)
    assert (result["ok"], result["first_bad_seq"], code) == (False, 0, 1)


def _stored_data(seq: int) -> str:
    with get_engine().connect() as conn:
        return str(
            conn.execute(
                text("SELECT CAST(data AS TEXT) FROM history_event WHERE seq = :s"), {"s": seq}
            ).scalar()
        )


def test_an_event_stores_the_canonical_text_it_was_hashed_with(history: Api) -> None:
    """The append serializes an event's data once: the column keeps the canonical text
    the hash was made of, so a check hashes that text without parsing it."""
    with get_engine().connect() as conn:
        rows = conn.execute(hashing.checked_events().order_by(text("seq"))).all()
    assert rows
    for row in rows:
        assert isinstance(row.data, str)
        assert row.data == audit.canonical_json(json.loads(row.data)), row.data
        assert hashing._row_hash(row, {}, data_text=row.data) == row.hash
        # The check's one-call path (a Core row) and the by-name one (any object with
        # the columns as attributes) give the recorded hash, and a changed text does not.
        assert audit.row_hash(row) == row.hash
        by_name = SimpleNamespace(**row._asdict())
        assert audit.row_hash(by_name) == row.hash
        by_name.data = by_name.data.replace(":", ": ", 1)  # other text, same content
        assert audit.row_hash(by_name) == row.hash
        by_name.actor = "someone else"
        assert audit.row_hash(by_name) != row.hash


def test_data_stored_as_other_json_text_of_the_same_content_still_verifies(
    history: Api,
) -> None:
    """Events written before the canonical text (spaces, keys in another order): the
    check parses them and hashes their content, as before; a changed value is named."""
    original = json.loads(_stored_data(2))
    reordered = json.dumps(dict(reversed(list(original.items()))), ensure_ascii=False, indent=1)
    _sql("UPDATE history_event SET data = :d WHERE seq = 2", d=reordered)
    assert _stored_data(2) != audit.canonical_json(original)
    assert _verify(history) == ({"ok": True, "events": 7}, 0)
    changed = dict(original, name="改过的名称")
    _sql("UPDATE history_event SET data = :d WHERE seq = 2", d=json.dumps(changed, indent=1))
    assert _verify(history)[0]["first_bad_seq"] == 2


def test_a_bulk_write_sends_given_json_text_as_it_is() -> None:
    """PostgreSQL's bulk parameter carries a `JsonText` verbatim (the canonical text the
    hash was made of), the other values serialized as before, whatever the row holds."""
    from datetime import UTC, datetime

    from engine.db import JsonText, rows_json

    at = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
    given = audit.canonical_json({"名称": "确认投诉", "b": [1, 2.5, None]})
    rows = [
        {"seq": 1, "at": at, "data": JsonText(given)},
        {"data": JsonText("{}")},
        {"seq": 3, "actor": "系统"},
    ]
    sent = rows_json(rows)
    assert f'"data":{given}' in sent
    assert json.loads(sent) == [
        {"seq": 1, "at": "2026-12-03T08:00:00+00:00", "data": json.loads(given)},
        {"data": {}},
        {"seq": 3, "actor": "系统"},
    ]


def test_an_event_s_hash_is_the_one_every_release_made() -> None:
    """The hashes recorded since revisions 0004 and 0012, pinned: a faster way to make
    them must make the same ones, or every stored history would read as altered."""
    from datetime import timedelta, timezone

    at = datetime(2026, 11, 24, 18, 0, 0, 123456, tzinfo=timezone(timedelta(hours=8)))
    data = {"name": "现场勘查", "recipients": ["sales_0"], "level": 1, "z": None}
    base: dict[str, Any] = {
        "seq": 42,
        "at": at,
        "actor": "system",
        "type": "sla_warning",
        "instance_id": "i-1",
        "task_id": "t-1",
        "element_id": "visit",
        "data": data,
        "prev_hash": "ab" * 32,
    }
    keys = {"process_key": "lead_follow_up", "department": "sales"}
    chained = {**keys, "chain": "i-1", "prev_seq": 41}
    assert audit.event_hash(**base) == (
        "b6a098a77294151a8d86e9728ea16ab746d7a3cca87ab7aae98598de26dcdbb5"
    )
    assert audit.event_hash(**base, **keys) == (
        "b6cb761c5af9dfb9fb59d8ad9aced66df6ff0c18f7bef8b9bae4bd830858cb7d"
    )
    made = "867fb6b6a7fa4a14c19d3f6125b8eed72185e5bb62c432ea3e33306da683e27b"
    assert audit.event_hash(**base, **chained) == made
    assert audit.event_hash(**base, **chained, data_text=audit.canonical_json(data)) == made
    naive_utc = at.astimezone(UTC).replace(tzinfo=None)  # a naive time is UTC
    assert audit.event_hash(**{**base, "at": naive_utc}, **chained) == made


def test_the_fast_hash_text_is_the_canonical_encoder_s() -> None:
    """`_hashed_text` writes the hashed text itself (the encoder's setup cost microseconds
    an event): for strings that need escaping, None, other types than a column's and
    ints that are bools, it gives the hash the canonical encoder gives."""
    import random
    import uuid
    from datetime import timedelta

    rng = random.Random(20261203)
    alphabet = 'ab "\\/\t\n\x00\x1f\x7f\u2028é现场勘查🙂'
    at = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)

    def value() -> Any:
        pick = rng.random()
        if pick < 0.15:
            return None
        if pick < 0.2:
            return uuid.UUID(int=rng.getrandbits(128))  # written as its text
        if pick < 0.22:
            return 7
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 10)))

    for _ in range(3000):
        given = [
            rng.choice([rng.randint(0, 10**12), True]),
            at + timedelta(microseconds=rng.randint(0, 10**12)),
            value() or "system",
            value() or "sla_warning",
            value(),
            value(),
            value(),
            audit.canonical_json({"name": str(value())}),
            value() or audit.GENESIS_HASH,
            value(),
            value(),
            value(),
            rng.choice([None, rng.randint(0, 10**9), False]),
        ]
        assert hashing._hashed_text(*given) == hashing._encoded_text(*given), given


def test_the_servers_hashed_text_is_the_encoders(db_url: str) -> None:
    """PostgreSQL writes a chained event's hashed text for the scheduled check
    (`hashing.SERVER_HASHED_TEXT`): for strings that need escaping, Chinese and emoji,
    None and any instant, it is the text `_hashed_text` makes, and the server's SHA-256
    of it (`hashing.SERVER_TEXT_HASH`) is the hash the append stores."""
    if db_url.startswith("sqlite"):
        pytest.skip("the server's text is PostgreSQL's; SQLite's check builds it in Python")
    import random
    from datetime import timedelta

    rng = random.Random(20261207)
    alphabet = 'ab "\\/\t\n\r\b\f\x01\x1f\x7f\u2028é现场勘查🙂'  # text has no NUL
    at = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)

    def value() -> str | None:
        if rng.random() < 0.2:
            return None
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))

    rows = []
    for i in range(400):
        rows.append(
            {
                "seq": rng.randint(1, 10**12),
                "at": at + timedelta(microseconds=rng.randint(-(10**13), 10**13)),
                "actor": value() or "system",
                "type": value() or "sla_warning",
                "instance_id": value(),
                "task_id": value(),
                "element_id": value(),
                "data": audit.canonical_json({"name": value(), "n": i, "x": [1.5, None]}),
                "prev_hash": value() or audit.GENESIS_HASH,
                "process_key": value(),
                "department": value(),
                "chain": value() or "rounds",
                "prev_seq": rng.choice([None, rng.randint(1, 10**12)]),
            }
        )
    names = list(rows[0])
    columns = ", ".join(names)
    sql = (
        f"SELECT {hashing.SERVER_HASHED_TEXT}, {hashing.SERVER_TEXT_HASH} "
        "FROM (VALUES (CAST(:seq AS bigint), "
        "CAST(:at AS timestamptz), :actor, :type, :instance_id, :task_id, :element_id, "
        "CAST(:data AS json), :prev_hash, :process_key, :department, :chain, "
        f"CAST(:prev_seq AS bigint))) AS history_event({columns})"
    )
    with get_engine().connect() as conn:
        for row in rows:
            made, digest = conn.execute(text(sql), row).one()
            values = [row[name] for name in hashing._HASHED]
            assert made == hashing._hashed_text(*values), row
            assert digest == hashing._text_hash(*values), row


def test_the_scheduled_check_takes_other_json_text_and_names_a_changed_event(
    history: Api,
) -> None:
    """The round's check of new chained events: data stored as other JSON text of the
    same content (an older release's) passes, a changed value or actor is named."""
    original = json.loads(_stored_data(2))
    reordered = json.dumps(dict(reversed(list(original.items()))), ensure_ascii=False, indent=1)
    _sql("UPDATE history_event SET data = :d WHERE seq = 2", d=reordered)
    with unit_of_work() as s:
        result = audit.verify_new_events(s)
    assert result is not None and (result.ok, result.events) == (True, 7)
    _sql("UPDATE audit_check SET verified_seq = 0, verified_hash = ''")
    _sql("UPDATE history_event SET actor = 'mallory' WHERE seq = 5")
    changed = dict(original, name="改过的名称")
    _sql("UPDATE history_event SET data = :d WHERE seq = 2", d=json.dumps(changed, indent=1))
    with unit_of_work() as s:
        result = audit.verify_new_events(s)
    assert result is not None and not result.ok and result.first_bad_seq == 2
    assert "was altered" in (result.problem or "")
