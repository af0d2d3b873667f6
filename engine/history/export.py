"""Streamed exports of the history: CSV (for Excel) and JSON Lines.

An export fixes the newest event when it starts and reads in short batches: it
sees one consistent, append-only prefix and never holds the whole result.

It is recorded as a `history_exported` event only once it can go out: its filters
were validated by the caller (422 before any byte) and its first batch was read
before the event is written and before the answer starts, so an export whose query
fails records nothing and answers a plain error, however often it is tried.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, Text, cast, func, select

from engine import access, clock
from engine.audit import PendingEvent, append_events
from engine.db import unit_of_work
from engine.history.search import EventFilters, search_conditions
from engine.identity import Actor
from engine.models import HistoryEvent
from engine.privacy import Masker, export_masker

EXPORT_BATCH = 2000
EXPORT_COLUMNS = (
    "seq",
    "at",
    "actor",
    "type",
    "process_key",
    "instance_id",
    "task_id",
    "element_id",
    "department",
    "data",
    "prev_hash",
    "hash",
)


@dataclass(frozen=True)
class Export:
    """A started export: the recorded event's seq and the rows to stream."""

    seq: int
    through_seq: int
    masked: bool
    chunks: Iterator[str]


def start_export(actor: Actor, filters: EventFilters, fmt: str) -> Export:
    """Read the export's first batch, record the export as a history event and return
    its streamed content.

    The export covers the events that existed when it started (through
    `through_seq`); its own event comes after them.
    """
    access.require_auditor(actor)
    if fmt not in ("csv", "jsonl"):
        raise ValueError(f"unknown export format {fmt!r}")
    masker = export_masker(actor)
    with unit_of_work(write=False) as session:
        through = session.execute(select(func.max(HistoryEvent.seq))).scalar() or 0
    first = _batch(filters, through, None)  # a failing query fails here, before the event
    with unit_of_work() as session:
        append_events(
            session,
            [
                PendingEvent(
                    type="history_exported",
                    actor=actor.username,
                    data={
                        "format": fmt,
                        "filters": filters.describe(),
                        "through_seq": through,
                        "masked": masker is not None,
                    },
                )
            ],
        )
        seq = session.execute(select(func.max(HistoryEvent.seq))).scalar() or 0
    rows = _export_rows(filters, through, masker, first)
    chunks = _csv_chunks(rows) if fmt == "csv" else _jsonl_chunks(rows)
    return Export(seq, through, masker is not None, chunks)


def _export_data(text: str | None, masker: Masker | None) -> str:
    """An event's data as JSON text for a file: the stored text itself when it
    needs no masking and holds no escapes, else decoded, masked and re-encoded."""
    text = text or "{}"
    if "\\u" not in text and (masker is None or not masker.concerns(text)):
        return text
    data = json.loads(text)
    return json.dumps(masker.data(data) if masker else data, ensure_ascii=False)


def _batch(filters: EventFilters, through: int, cursor: int | None) -> list[Any]:
    """Return the next batch of matching events after `cursor`, in one short transaction."""
    table = HistoryEvent.__table__
    assert isinstance(table, Table)
    columns = [c for c in table.c if c.name != "data"]
    columns.append(cast(table.c.data, Text).label("data"))
    with unit_of_work(write=False) as session:
        conditions = search_conditions(session, filters)
        if conditions is None:
            return []
        conditions.append(table.c.seq <= through)
        if cursor is not None:
            conditions.append(
                table.c.seq < cursor if filters.newest_first else table.c.seq > cursor
            )
        order = table.c.seq.desc() if filters.newest_first else table.c.seq
        return list(
            session.execute(
                select(*columns).where(*conditions).order_by(order).limit(EXPORT_BATCH)
            ).all()
        )


def _export_rows(
    filters: EventFilters, through: int, masker: Masker | None, batch: list[Any]
) -> Iterator[Any]:
    """Yield (record without data, data as JSON text), from the first batch already
    read on, in batches of short transactions."""
    while batch:
        for row in batch:
            yield row, _export_data(row.data, masker)
        if len(batch) < EXPORT_BATCH:
            return
        batch = _batch(filters, through, batch[-1].seq)


def _fields(row: Any) -> list[Any]:
    return [
        row.seq,
        clock.to_utc(row.at).isoformat(),
        row.actor,
        row.type,
        row.process_key,
        row.instance_id,
        row.task_id,
        row.element_id,
        row.department,
    ]


# A spreadsheet reads a cell starting with one of these as a formula (OWASP "CSV
# injection"): such a cell gets a leading ' whatever it holds (ids, names, keys, data).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """A value as a CSV cell no spreadsheet runs: `=HYPERLINK(1)` → `'=HYPERLINK(1)`."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _csv_chunks(rows: Iterator[Any]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    # The BOM makes Excel read the file as UTF-8 (Chinese text shows correctly).
    buffer.write("\ufeff")
    writer.writerow(EXPORT_COLUMNS)
    for n, (row, data) in enumerate(rows, 1):
        writer.writerow([csv_cell(v) for v in (*_fields(row), data, row.prev_hash, row.hash)])
        if n % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


_JSONL_KEYS = EXPORT_COLUMNS[:9]


def _jsonl_chunks(rows: Iterator[Any]) -> Iterator[str]:
    lines: list[str] = []
    for row, data in rows:
        head = dict(zip(_JSONL_KEYS, _fields(row), strict=True))
        head["prev_hash"], head["hash"] = row.prev_hash, row.hash
        lines.append(json.dumps(head, ensure_ascii=False)[:-1] + ', "data": ' + data + "}")
        if len(lines) == 500:
            yield "\n".join(lines) + "\n"
            lines = []
    if lines:
        yield "\n".join(lines) + "\n"
