"""The text an event's hash is made of, and the hash.

An event's hash is the SHA-256 of the canonical JSON of the list [seq, at, actor, type,
instance, task, element, data, prev_hash, (process_key, department)?, (chain,
prev_seq)?] (`_hashed_text`): the append (engine/audit.py) makes it once an event, the
checks make it again from the stored row (`row_hash`), and on PostgreSQL the scheduled
check has the server write the text (`SERVER_HASHED_TEXT`) and hash it
(`SERVER_TEXT_HASH`). Every release's hashes must stay what they were:
`tests/engine/test_audit.py` pins them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Table, Text, cast, literal_column, select

from engine import clock
from engine.models import HistoryEvent


def text_digest(text: str) -> str:
    """The SHA-256 of a hashed text, in hex."""
    return hashlib.sha256(text.encode()).hexdigest()


# Made once: json.dumps with options builds an encoder per call (a third of its time on
# an event's data).
_CANONICAL = json.JSONEncoder(
    sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
)


# How the canonical encoder writes a string (ensure_ascii=False: json's C function).
_encode_string = json.encoder.encode_basestring  # type: ignore[attr-defined]


def canonical_json(value: Any) -> str:
    return _CANONICAL.encode(value)


def event_hash(
    *,
    seq: int,
    at: datetime,
    actor: str,
    type: str,
    instance_id: str | None,
    task_id: str | None,
    element_id: str | None,
    data: dict[str, Any],
    prev_hash: str,
    process_key: str | None = None,
    department: str | None = None,
    chain: str | None = None,
    prev_seq: int | None = None,
    data_text: str | None = None,
) -> str:
    """Return the SHA-256 of an event's content and its predecessor's hash.

    `data_text`, when given, is `canonical_json(data)` already made (the append makes
    it once, to hash and to store).

    The search keys `process_key` and `department` (added in revision 0004) are
    hashed when set, and the chain and predecessor (revision 0012) when the event has
    a chain, so events recorded before them keep their hashes.
    """
    if data_text is None:
        data_text = canonical_json(data)
    return _text_hash(
        seq,
        at,
        actor,
        type,
        instance_id,
        task_id,
        element_id,
        data_text,
        prev_hash,
        process_key,
        department,
        chain,
        prev_seq,
    )


def _text_hash(*values: Any) -> str:
    """`event_hash` from the data's canonical text (positional, in `_HASHED`'s order:
    the checks call it once per event)."""
    return text_digest(_hashed_text(*values))


def _hashed_text(
    seq: int,
    at: datetime,
    actor: str,
    type_: str,
    instance_id: str | None,
    task_id: str | None,
    element_id: str | None,
    data_text: str,
    prev_hash: str,
    process_key: str | None,
    department: str | None,
    chain: str | None,
    prev_seq: int | None,
) -> str:
    """The text an event's hash is made of, from the data's canonical text. It is the
    canonical JSON of the list [seq, at, actor, type,
    instance, task, element, data, prev_hash, (process_key, department)?, (chain,
    prev_seq)?] — a JSON list is its items' texts between commas, so the data's text
    goes in as it is."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)  # a naive time is UTC (clock.to_utc)
    # The same text as `_encoded_text` makes, by the encoder's own string function: the
    # canonical encoder costs microseconds a call to set up, and every event is hashed
    # when appended and again when checked. A value of another type than its column's
    # (a None where a column is never null included: the string function refuses it)
    # goes the encoder's way.
    enc = _encode_string
    try:
        if type(seq) is not int or not (prev_seq is None or type(prev_seq) is int):
            raise TypeError("a seq that is not an int")
        body = (
            f'[{seq},"{clock.utc_text(at, "microseconds")}",{enc(actor)},{enc(type_)},'
            f"{'null' if instance_id is None else enc(instance_id)},"
            f"{'null' if task_id is None else enc(task_id)},"
            f"{'null' if element_id is None else enc(element_id)},{data_text},{enc(prev_hash)}"
        )
        if process_key is not None or department is not None or chain is not None:
            body += (
                f",[{'null' if process_key is None else enc(process_key)},"
                f"{'null' if department is None else enc(department)}]"
            )
        if chain is not None:
            body += f",[{enc(chain)},{'null' if prev_seq is None else prev_seq}]"
    except TypeError:
        return _encoded_text(
            seq, clock.to_utc(at), actor, type_, instance_id, task_id, element_id, data_text,
            prev_hash, process_key, department, chain, prev_seq,
        )  # fmt: skip
    return f"{body}]"


def _encoded_text(
    seq: Any,
    at: datetime,
    actor: Any,
    type_: Any,
    instance_id: Any,
    task_id: Any,
    element_id: Any,
    data_text: str,
    prev_hash: Any,
    process_key: Any,
    department: Any,
    chain: Any,
    prev_seq: Any,
) -> str:
    """`_hashed_text` by the canonical encoder itself: for values of other types than
    the columns' own (which `default=str` writes as their text)."""
    head = _CANONICAL.encode(
        [seq, at.isoformat(timespec="microseconds"), actor, type_, instance_id, task_id, element_id]
    )
    tail: list[Any] = [prev_hash]
    if process_key is not None or department is not None or chain is not None:
        tail.append([process_key, department])
    if chain is not None:
        tail.append([chain, prev_seq])
    return f"{head[:-1]},{data_text},{_CANONICAL.encode(tail)[1:]}"


def checked_events() -> Any:
    """A select of the history's columns with `data` as the text the column keeps (see
    `row_hash`): the checks read events this way."""
    table = HistoryEvent.__table__
    assert isinstance(table, Table)
    return select(*[c if c.name != "data" else cast(c, Text).label("data") for c in table.columns])


def row_hash(event: Any, values: Any = None) -> str:
    """Return the hash an event row (ORM object or Core row) must carry, from its
    content and `prev_hash`. `values`: the getter of `batch_values` for a batch of
    Core rows of one select (made once for them, not per row).

    A row read with its data as stored text (`checked_events`) is first hashed with
    that text as it is: events appended since 2026-12-03 store the canonical text they
    were hashed with, so a match needs no parsing. Otherwise (older events, stored as
    other JSON text of the same data, or an altered one) the data is parsed and hashed
    canonically, as always."""
    data = event.data
    if isinstance(data, str):
        if values is None:
            fields = getattr(event, "_fields", None)  # a Core row: its values in one call
            values = _hashed_values(fields) if fields is not None else None
        if values is not None:
            made = _text_hash(*values(event))
        else:
            made = _text_hash(*(getattr(event, name) for name in _HASHED))
        if made == event.hash:
            return made
        data = json.loads(data)
    return _row_hash(event, data)


# The columns `_hashed_text` takes, in its order.
_HASHED = (
    "seq",
    "at",
    "actor",
    "type",
    "instance_id",
    "task_id",
    "element_id",
    "data",
    "prev_hash",
    "process_key",
    "department",
    "chain",
    "prev_seq",
)
_getters: dict[tuple[str, ...], Any] = {}


def batch_values(rows: Sequence[Any]) -> Any:
    """The getter of `row_hash`'s values for rows of one select (None for ORM objects):
    a Core row builds its `_fields` anew at each call."""
    fields = getattr(rows[0], "_fields", None) if rows else None
    return _hashed_values(fields) if fields is not None else None


def _hashed_values(fields: tuple[str, ...]) -> Any:
    """A getter of a row's hashed values (by the row's columns, made once per select)."""
    getter = _getters.get(fields)
    if getter is None:
        getter = _getters[fields] = itemgetter(*(fields.index(name) for name in _HASHED))
    return getter


def _row_hash(event: Any, data: Any, *, data_text: str | None = None) -> str:
    return event_hash(
        seq=event.seq,
        at=event.at,
        actor=event.actor,
        type=event.type,
        instance_id=event.instance_id,
        task_id=event.task_id,
        element_id=event.element_id,
        data=data,
        prev_hash=event.prev_hash,
        process_key=event.process_key,
        department=event.department,
        chain=event.chain,
        prev_seq=event.prev_seq,
        data_text=data_text,
    )


# The text `_hashed_text` makes for a chained event, written by PostgreSQL from the
# row: the scheduled check of a busy round's 10 000 events then hashes texts the server
# made instead of building each one in Python. `to_json` writes a string as the
# canonical encoder does (the same escapes, every other character as itself); a
# chained event always has the search keys' pair and the chain's pair.
SERVER_HASHED_TEXT = (
    "'[' || seq || ',\"' || to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US') "
    "|| '+00:00\",' || to_json(actor)::text || ',' || to_json(type)::text || ',' "
    "|| coalesce(to_json(instance_id)::text, 'null') || ',' "
    "|| coalesce(to_json(task_id)::text, 'null') || ',' "
    "|| coalesce(to_json(element_id)::text, 'null') || ',' || data::text || ',' "
    "|| to_json(prev_hash)::text || ',[' || coalesce(to_json(process_key)::text, 'null') "
    "|| ',' || coalesce(to_json(department)::text, 'null') || '],[' || to_json(chain)::text "
    "|| ',' || coalesce(prev_seq::text, 'null') || ']]'"
)


# Its SHA-256 as the server makes it (pg_catalog's functions by name, whatever the
# search path holds): the check of a busy round's events then compares hashes in the
# server and receives a flag per event, not its text.
SERVER_TEXT_HASH = (
    f"pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to({SERVER_HASHED_TEXT}, "
    "'UTF8')), 'hex')"
)


def server_checked_events() -> Any:
    """A select of what the check of chained events compares, with whether the event's
    text as the server writes it gives its hash (PostgreSQL; None or false: hash it
    again the Python way before calling it altered)."""
    table = HistoryEvent.__table__
    assert isinstance(table, Table)
    c = table.c
    return select(
        c.seq,
        c.type,
        c.chain,
        c.prev_seq,
        c.prev_hash,
        c.hash,
        literal_column(f"{SERVER_TEXT_HASH} = history_event.hash").label("text_gives_hash"),
    )
