"""Reading the history for auditors: search, case timelines, streamed exports.

Search and export walk the chain by `seq` with keyset pagination on the
`(key, seq)` indexes, so page N costs what page 1 costs however deep it is.
An export fixes the newest event when it starts and reads in short batches:
it sees one consistent, append-only prefix and never holds the whole result.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, Text, cast, or_, select
from sqlalchemy.orm import Session

from engine import access, clock
from engine.audit import PendingEvent, append_events
from engine.config import get_settings
from engine.db import unit_of_work
from engine.definitions import element_labels
from engine.errors import NotFound
from engine.identity import Actor
from engine.models import (
    CaseFact,
    HistoryEvent,
    HistoryHead,
    Instance,
    ProcessVersion,
    User,
)

MAX_PAGE = 1000
MAX_CUSTOMERS = 2000  # a customer text matching more people than this is too vague
EXPORT_BATCH = 2000
# Types whose `data.recipients` name who an SLA step reached.
SLA_TYPES = ("sla_warning", "sla_breached", "task_escalated")


@dataclass(frozen=True)
class EventFilters:
    """What an auditor searches for; every field narrows the result."""

    process_key: str | None = None
    instance_id: str | None = None
    business_key: str | None = None
    customer_id: int | None = None
    customer: str | None = None  # a name or phone number, or part of one
    actor: str | None = None
    department: str | None = None
    types: tuple[str, ...] = ()
    element_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    newest_first: bool = False

    def describe(self) -> dict[str, Any]:
        """Return the filters that are set, as the export event records them."""
        out: dict[str, Any] = {}
        for name, value in asdict(self).items():
            if value is None or value is False or value == ():
                continue
            out[name] = value.isoformat() if isinstance(value, datetime) else value
        if "types" in out:
            out["types"] = list(out["types"])
        return out


@dataclass
class Page:
    events: list[HistoryEvent] = field(default_factory=list)
    next_cursor: int | None = None


def _instance_ids(session: Session, filters: EventFilters) -> set[str] | None:
    """Resolve the case filters (business key, customer) to instance ids; None when unset."""
    found: set[str] | None = None
    if filters.business_key:
        found = set(
            session.execute(
                select(Instance.id).where(Instance.business_key == filters.business_key)
            ).scalars()
        )
    # A customer is the vertical's customer record: its `customer_ref` on the case facts.
    customers: set[str] | None = None
    if filters.customer_id is not None:
        customers = {str(filters.customer_id)}
    if filters.customer:
        pattern = "%" + filters.customer.replace("%", r"\%").replace("_", r"\_") + "%"
        matching = {
            ref
            for ref in session.execute(
                select(CaseFact.customer_ref)
                .where(
                    CaseFact.customer_ref.is_not(None),
                    or_(
                        CaseFact.customer_name.like(pattern, escape="\\"),
                        CaseFact.phone.like(pattern, escape="\\"),
                    ),
                )
                .distinct()
                .limit(MAX_CUSTOMERS)
            ).scalars()
            if ref is not None
        }
        customers = matching if customers is None else customers & matching
    if customers is not None:
        ids = set(
            session.execute(
                select(CaseFact.instance_id).where(CaseFact.customer_ref.in_(customers))
            ).scalars()
        )
        found = ids if found is None else found & ids
    if filters.instance_id:
        found = {filters.instance_id} if found is None else found & {filters.instance_id}
    return found


def _conditions(session: Session, filters: EventFilters) -> list[ColumnElement[bool]] | None:
    """Return the WHERE conditions of a search, or None when nothing can match."""
    conditions: list[ColumnElement[bool]] = []
    ids = _instance_ids(session, filters)
    if ids is not None:
        if not ids:
            return None
        conditions.append(HistoryEvent.instance_id.in_(sorted(ids)))
    for column, value in (
        (HistoryEvent.process_key, filters.process_key),
        (HistoryEvent.actor, filters.actor),
        (HistoryEvent.department, filters.department),
        (HistoryEvent.element_id, filters.element_id),
    ):
        if value:
            conditions.append(column == value)
    if filters.types:
        conditions.append(HistoryEvent.type.in_(filters.types))
    if filters.since:
        conditions.append(HistoryEvent.at >= clock.to_utc(filters.since))
    if filters.until:
        conditions.append(HistoryEvent.at < clock.to_utc(filters.until))
    return conditions


def search_events(
    session: Session,
    *,
    actor: Actor,
    filters: EventFilters,
    after: int | None = None,
    limit: int = 100,
) -> Page:
    """Return one page of events, oldest or newest first; `after` is the previous
    page's `next_cursor` (the last seq it showed)."""
    access.require_auditor(actor)
    conditions = _conditions(session, filters)
    if conditions is None:
        return Page()
    if after is not None:
        conditions.append(
            HistoryEvent.seq < after if filters.newest_first else HistoryEvent.seq > after
        )
    limit = max(1, min(limit, MAX_PAGE))
    order = HistoryEvent.seq.desc() if filters.newest_first else HistoryEvent.seq
    events = list(
        session.execute(
            select(HistoryEvent).where(*conditions).order_by(order).limit(limit + 1)
        ).scalars()
    )
    more = len(events) > limit
    events = events[:limit]
    return Page(events, events[-1].seq if more else None)


# ---------------------------------------------------------------- privacy


_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")


def mask_text(text: str) -> str:
    """Mask every mainland mobile number in a text: 13812345678 → 138****5678."""
    return _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)


def mask_name(name: str) -> str:
    """Keep a name's first character: 王小明 → 王**, Alice Chen → A*********."""
    stripped = name.strip()
    if not stripped:
        return name
    return stripped[0] + "*" * (len(stripped) - 1)


class Masker:
    """Masks customers' phone numbers and names in event data.

    Variables named in `FLOWDESK_PERSONAL_VARIABLES` are masked wherever case
    data appears (`variables`, `changes`); any mobile number in any text is
    masked too (a comment may quote one).
    """

    def __init__(self, personal: frozenset[str]) -> None:
        self.personal = personal
        self._quoted = tuple(f'"{name}"' for name in personal)

    def concerns(self, text: str) -> bool:
        """Whether an event's JSON text may hold something to mask: case data with a
        personal variable, or a mobile number anywhere."""
        if _MOBILE.search(text):
            return True
        holds_case_data = '"variables"' in text or '"changes"' in text
        return holds_case_data and any(q in text for q in self._quoted)

    def _personal(self, name: str, value: Any) -> Any:
        if isinstance(value, str):
            return mask_text(value) if _MOBILE.search(value) else mask_name(value)
        return self.value(value)

    def variables(self, values: dict[str, Any]) -> dict[str, Any]:
        """Mask a dict of case variables."""
        return {
            k: self._personal(k, v) if k in self.personal else self.value(v)
            for k, v in values.items()
        }

    def value(self, value: Any) -> Any:
        """Mask mobile numbers anywhere in a JSON value."""
        if isinstance(value, str):
            return mask_text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        return value

    def data(self, data: dict[str, Any]) -> dict[str, Any]:
        """Mask one event's data."""
        out: dict[str, Any] = {}
        for key, value in data.items():
            if key == "variables" and isinstance(value, dict):
                out[key] = self.variables(value)
            elif key == "changes" and isinstance(value, list):
                out[key] = [self._change(c) for c in value]
            else:
                out[key] = self.value(value)
        return out

    def _change(self, change: Any) -> Any:
        if not isinstance(change, dict) or change.get("name") not in self.personal:
            return self.value(change)
        return {
            **change,
            "before": self._personal(change["name"], change.get("before")),
            "after": self._personal(change["name"], change.get("after")),
        }


def export_masker(actor: Actor) -> Masker | None:
    """Return the masker for an export by this actor, or None when their role may
    see personal data (`FLOWDESK_EXPORT_UNMASKED_ROLES`)."""
    settings = get_settings()
    if actor.has(*settings.export_unmasked_roles):
        return None
    return Masker(settings.personal_variables)


# ---------------------------------------------------------------- exports

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


def event_record(event: Any, masker: Masker | None = None) -> dict[str, Any]:
    """Return an event (ORM object or row) as exports and the API show it."""
    data = event.data or {}
    return {
        "seq": event.seq,
        "at": clock.to_utc(event.at).isoformat(),
        "actor": event.actor,
        "type": event.type,
        "process_key": event.process_key,
        "instance_id": event.instance_id,
        "task_id": event.task_id,
        "element_id": event.element_id,
        "department": event.department,
        "data": masker.data(data) if masker else data,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


@dataclass(frozen=True)
class Export:
    """A started export: the recorded event's seq and the rows to stream."""

    seq: int
    through_seq: int
    masked: bool
    chunks: Iterator[str]


def start_export(actor: Actor, filters: EventFilters, fmt: str) -> Export:
    """Record the export as a history event and return its streamed content.

    The export covers the events that existed when it started (through
    `through_seq`); its own event comes after them.
    """
    access.require_auditor(actor)
    if fmt not in ("csv", "jsonl"):
        raise ValueError(f"unknown export format {fmt!r}")
    masker = export_masker(actor)
    with unit_of_work() as session:
        through = session.execute(select(HistoryHead.last_seq)).scalar_one()
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
        seq = session.execute(select(HistoryHead.last_seq)).scalar_one()
    rows = _export_rows(filters, through, masker)
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


def _export_rows(filters: EventFilters, through: int, masker: Masker | None) -> Iterator[Any]:
    """Yield (record without data, data as JSON text) in batches of short transactions."""
    table = HistoryEvent.__table__
    assert isinstance(table, Table)
    columns = [c for c in table.c if c.name != "data"]
    columns.append(cast(table.c.data, Text).label("data"))
    cursor: int | None = None
    while True:
        with unit_of_work(write=False) as session:
            conditions = _conditions(session, filters)
            if conditions is None:
                return
            conditions.append(table.c.seq <= through)
            if cursor is not None:
                conditions.append(
                    table.c.seq < cursor if filters.newest_first else table.c.seq > cursor
                )
            order = table.c.seq.desc() if filters.newest_first else table.c.seq
            batch = session.execute(
                select(*columns).where(*conditions).order_by(order).limit(EXPORT_BATCH)
            ).all()
        if not batch:
            return
        for row in batch:
            yield row, _export_data(row.data, masker)
        cursor = batch[-1].seq


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


def _csv_chunks(rows: Iterator[Any]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    # The BOM makes Excel read the file as UTF-8 (Chinese text shows correctly).
    buffer.write("\ufeff")
    writer.writerow(EXPORT_COLUMNS)
    for n, (row, data) in enumerate(rows, 1):
        writer.writerow(
            [*("" if v is None else v for v in _fields(row)), data, row.prev_hash, row.hash]
        )
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


# ---------------------------------------------------------------- case timeline


def timeline(session: Session, *, actor: Actor, instance_id: str) -> dict[str, Any]:
    """Return a case's life from its history: every event with who, which department,
    when, the working time a task took, the change of the case variables it made,
    and whom an SLA step reached; plus the definition version in force."""
    access.require_auditor(actor)
    instance = session.get(Instance, instance_id)
    events = list(
        session.execute(
            select(HistoryEvent)
            .where(HistoryEvent.instance_id == instance_id)
            .order_by(HistoryEvent.seq)
        ).scalars()
    )
    if instance is None and not events:
        raise NotFound(key="error_case_not_found", instance_id=instance_id)
    actors = {e.actor for e in events}
    departments = dict(
        session.execute(
            select(User.username, User.department_code).where(User.username.in_(actors))
        ).all()
    )
    labels = element_labels(session, instance.version_id) if instance else {}
    replayed: dict[str, Any] = {}
    entries = []
    for event in events:
        data = event.data or {}
        changes = data.get("changes") or []
        for change in changes:
            if change.get("removed"):
                replayed.pop(change["name"], None)
            else:
                replayed[change["name"]] = change.get("after")
        entry: dict[str, Any] = {
            **event_record(event),
            "actor_department": departments.get(event.actor),
            "element_name": labels.get(event.element_id or "", {}),
            "task_name": data.get("name") if event.task_id else None,
            "changes": changes,
            "submitted": data.get("variables") if event.type == "task_completed" else None,
            "working_seconds": data.get("working_seconds"),
        }
        if event.type in SLA_TYPES:
            entry["recipients"] = data.get("recipients", [])
            entry["recipient_group"] = data.get("recipient_group") or data.get("to_department")
            entry["level"] = data.get("level")
        entries.append(entry)
    return {
        "instance": _instance_summary(session, instance, events),
        "events": entries,
        "variables_from_history": replayed,
        "matches_case": instance is not None and replayed == (instance.variables or {}),
    }


def _instance_summary(
    session: Session, instance: Instance | None, events: list[HistoryEvent]
) -> dict[str, Any]:
    started = next((e for e in events if e.type == "instance_started"), None)
    start_data = (started.data or {}) if started else {}
    key = instance.process_key if instance else start_data.get("process_key")
    number = instance.version if instance else start_data.get("version")
    version = session.get(ProcessVersion, instance.version_id) if instance else None
    deployed = session.execute(
        select(HistoryEvent)
        .where(
            HistoryEvent.type == "definition_deployed",
            HistoryEvent.element_id == key,
        )
        .order_by(HistoryEvent.seq)
    ).scalars()
    deployment = next((e for e in deployed if (e.data or {}).get("version") == number), None)
    return {
        "id": instance.id if instance else (started.instance_id if started else None),
        "process_key": key,
        "version": number,
        "business_key": instance.business_key if instance else None,
        "status": instance.status if instance else None,
        "started_at": clock.to_utc(instance.started_at).isoformat() if instance else None,
        "ended_at": clock.to_utc(instance.ended_at).isoformat()
        if instance and instance.ended_at
        else None,
        "definition": {
            "key": key,
            "version": number,
            "content_hash": version.content_hash if version else None,
            "deployed_at": clock.to_utc(version.deployed_at).isoformat() if version else None,
            "deployed_by": version.deployed_by if version else None,
            "deployed_event_seq": deployment.seq if deployment else None,
        },
    }
