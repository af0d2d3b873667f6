"""Searching the history for auditors: filters and keyset pages.

Search walks the chain by `seq` with keyset pagination on the `(key, seq)`
indexes, so page N costs what page 1 costs however deep it is.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from engine import access, clock
from engine.identity import Actor
from engine.models import CaseFact, HistoryEvent, Instance

MAX_PAGE = 1000
MAX_CUSTOMERS = 2000  # a customer text matching more people than this is too vague


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


def search_conditions(session: Session, filters: EventFilters) -> list[ColumnElement[bool]] | None:
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
    conditions = search_conditions(session, filters)
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


def event_record(event: Any) -> dict[str, Any]:
    """Return an event (ORM object or row) as the API shows it (an export's columns)."""
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
        "data": event.data or {},
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }
