"""The append-only history: every state change appends hash-chained events.

Appenders lock the single `history_head` row, so events get gapless sequence
numbers and each event's `prev_hash` is the hash of the event before it. The
head row also anchors the chain's end, so deleting the newest event is caught.
Callers append at the end of their transaction to hold that lock briefly.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, func, select, update
from sqlalchemy.orm import Session

from engine import clock
from engine.db import bulk_insert
from engine.models import AuditCheck, HistoryEvent, HistoryHead, Instance, Task

GENESIS_HASH = "0" * 64


@dataclass
class PendingEvent:
    type: str
    actor: str
    instance_id: str | None = None
    task_id: str | None = None
    element_id: str | None = None
    data: dict[str, Any] | None = None
    at: datetime | None = None
    # Search keys; filled from the instance and task rows when the caller leaves them out.
    process_key: str | None = None
    department: str | None = None


def _canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


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
) -> str:
    """Return the SHA-256 of an event's content and its predecessor's hash.

    The search keys `process_key` and `department` (added in revision 0004) are
    hashed when set, so events recorded before them keep their hashes.
    """
    fields: list[Any] = [
        seq,
        clock.to_utc(at).isoformat(timespec="microseconds"),
        actor,
        type,
        instance_id,
        task_id,
        element_id,
        data,
        prev_hash,
    ]
    if process_key is not None or department is not None:
        fields.append([process_key, department])
    body = _canonical_json(fields)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def row_hash(event: Any) -> str:
    """Return the hash an event row (ORM object or Core row) must carry, from its
    content and `prev_hash`."""
    return event_hash(
        seq=event.seq,
        at=event.at,
        actor=event.actor,
        type=event.type,
        instance_id=event.instance_id,
        task_id=event.task_id,
        element_id=event.element_id,
        data=event.data,
        prev_hash=event.prev_hash,
        process_key=event.process_key,
        department=event.department,
    )


def _fill_search_keys(session: Session, events: list[PendingEvent]) -> None:
    """Give events without a process or department those of their instance and task."""
    instance_ids = {e.instance_id for e in events if e.instance_id and e.process_key is None}
    task_ids = {e.task_id for e in events if e.task_id and e.department is None}
    processes: dict[str, str] = {}
    departments: dict[str, tuple[str, str]] = {}
    if task_ids:
        for task_id, key, dept in session.execute(
            select(Task.id, Task.process_key, Task.department).where(Task.id.in_(task_ids))
        ):
            departments[task_id] = (key, dept)
            processes.setdefault(task_id, key)
    if instance_ids:
        for instance_id, key in session.execute(
            select(Instance.id, Instance.process_key).where(Instance.id.in_(instance_ids))
        ):
            processes[instance_id] = key
    for ev in events:
        if ev.task_id and ev.task_id in departments:
            key, dept = departments[ev.task_id]
            ev.department = ev.department or dept
            ev.process_key = ev.process_key or key
        if ev.process_key is None and ev.instance_id:
            ev.process_key = processes.get(ev.instance_id)


def _json_safe(data: dict[str, Any] | None) -> dict[str, Any]:
    # What we hash must be exactly what the JSON column gives back.
    result: dict[str, Any] = json.loads(_canonical_json(data or {}))
    return result


def append_events(session: Session, events: list[PendingEvent]) -> int:
    """Append events to the chain in this transaction (locks the chain head).

    The rows are written with one bulk statement: a background round appends
    thousands of events per batch.
    """
    if not events:
        return 0
    _fill_search_keys(session, events)
    head = session.execute(
        select(HistoryHead).where(HistoryHead.id == 1).with_for_update()
    ).scalar_one()
    seq, prev = head.last_seq, head.last_hash
    rows = []
    now = clock.now()
    for ev in events:
        seq += 1
        at = clock.to_utc(ev.at or now)
        data = _json_safe(ev.data)
        digest = event_hash(
            seq=seq,
            at=at,
            actor=ev.actor,
            type=ev.type,
            instance_id=ev.instance_id,
            task_id=ev.task_id,
            element_id=ev.element_id,
            data=data,
            prev_hash=prev,
            process_key=ev.process_key,
            department=ev.department,
        )
        rows.append(
            {
                "seq": seq,
                "at": at,
                "actor": ev.actor,
                "type": ev.type,
                "instance_id": ev.instance_id,
                "task_id": ev.task_id,
                "element_id": ev.element_id,
                "data": data,
                "process_key": ev.process_key,
                "department": ev.department,
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest
    table = HistoryEvent.__table__
    assert isinstance(table, Table)
    bulk_insert(session, table, rows)
    session.execute(
        update(HistoryHead).where(HistoryHead.id == 1).values(last_seq=seq, last_hash=prev)
    )
    return len(rows)


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    events: int
    first_bad_seq: int | None = None
    problem: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return the result as the API shows it."""
        out: dict[str, Any] = {"ok": self.ok, "events": self.events}
        if not self.ok:
            out["first_bad_seq"] = self.first_bad_seq
            out["problem"] = self.problem
        return out


def _walk(
    session: Session, *, after_seq: int, prev_hash: str, until_seq: int, batch_size: int
) -> tuple[int, int, str, VerifyResult | None]:
    """Check events after `after_seq` up to `until_seq` in order.

    Returns (events checked, last good seq, its hash, the first problem or None).
    """
    table = HistoryEvent.__table__
    assert isinstance(table, Table)
    expected_seq, prev, count, last_seen = after_seq + 1, prev_hash, 0, after_seq

    def broken(seq: int, problem: str) -> tuple[int, int, str, VerifyResult]:
        return count, expected_seq - 1, prev, VerifyResult(False, count, seq, problem)

    while last_seen < until_seq:
        batch = session.execute(
            select(table)
            .where(table.c.seq > last_seen, table.c.seq <= until_seq)
            .order_by(table.c.seq)
            .limit(batch_size)
        ).all()
        if not batch:
            break
        for ev in batch:
            count += 1
            if ev.seq != expected_seq:
                return broken(
                    expected_seq,
                    f"event {expected_seq} is missing (removed); the next event is {ev.seq}",
                )
            if ev.prev_hash != prev:
                return broken(
                    ev.seq,
                    f"event {ev.seq} does not follow event {ev.seq - 1}: "
                    "an event was inserted, removed or altered before it",
                )
            if row_hash(ev) != ev.hash:
                return broken(
                    ev.seq,
                    f"event {ev.seq} ({ev.type}) was altered: its content does not match its hash",
                )
            prev = ev.hash
            expected_seq += 1
            last_seen = ev.seq
    if last_seen < until_seq:
        return broken(
            last_seen + 1,
            f"event {last_seen + 1} is missing (removed): the history ends at {last_seen} "
            f"but recorded {until_seq} events",
        )
    return count, last_seen, prev, None


def _head(session: Session) -> HistoryHead:
    return session.execute(select(HistoryHead).where(HistoryHead.id == 1)).scalar_one()


def _check_end(session: Session, count: int, last_seq: int, last_hash: str) -> VerifyResult | None:
    """Compare the walked end with the recorded head; catch events added past the end."""
    head = _head(session)
    if head.last_seq == last_seq and head.last_hash != last_hash:
        return VerifyResult(
            False, count, last_seq, f"event {last_seq} is not the event the history recorded last"
        )
    oldest = session.execute(select(func.min(HistoryEvent.seq))).scalar()
    if oldest is not None and oldest < 1:
        return VerifyResult(
            False, count, oldest, f"event {oldest} was inserted before the start of the history"
        )
    newest = session.execute(select(func.max(HistoryEvent.seq))).scalar() or 0
    session.expire(head)
    head = _head(session)  # appenders move the head in the transaction that adds events
    if newest > head.last_seq:
        return VerifyResult(
            False,
            count,
            head.last_seq + 1,
            f"event {head.last_seq + 1} was inserted after the recorded end of the history",
        )
    return None


def _check_checkpoint(session: Session, count: int, last_seq: int) -> VerifyResult | None:
    """The scheduled check remembers the newest event it verified: it must still be there."""
    check = session.get(AuditCheck, 1)
    if check is None or check.verified_seq == 0:
        return None
    if check.verified_seq > last_seq:
        return VerifyResult(
            False,
            count,
            last_seq + 1,
            f"events {last_seq + 1} to {check.verified_seq} were removed: "
            f"they were verified on {check.checked_at}",
        )
    stored = session.execute(
        select(HistoryEvent.hash).where(HistoryEvent.seq == check.verified_seq)
    ).scalar()
    if stored != check.verified_hash:
        return VerifyResult(
            False,
            count,
            check.verified_seq,
            f"event {check.verified_seq} differs from the event verified on "
            f"{check.checked_at}: the history was rewritten",
        )
    return None


def verify_chain(session: Session, *, batch_size: int = 5000) -> VerifyResult:
    """Walk the whole history in order and report the first altered, removed or inserted event."""
    bound = _head(session).last_seq
    count, last_seq, last_hash, problem = _walk(
        session, after_seq=0, prev_hash=GENESIS_HASH, until_seq=bound, batch_size=batch_size
    )
    problem = (
        problem
        or _check_end(session, count, last_seq, last_hash)
        or _check_checkpoint(session, count, last_seq)
    )
    return problem or VerifyResult(True, count)


def verify_new_events(
    session: Session, *, batch_size: int = 5000, max_events: int = 100_000
) -> VerifyResult | None:
    """The scheduled check: verify the events added since the last run and remember
    how far the chain is good. Returns None when another round holds the check.

    One run checks at most `max_events` (a history that predates the check is
    caught up over several rounds, each a short transaction).
    """
    stmt = select(AuditCheck).where(AuditCheck.id == 1)
    if session.get_bind().dialect.name != "sqlite":
        stmt = stmt.with_for_update(skip_locked=True)
    check = session.execute(stmt).scalar_one_or_none()
    if check is None:
        return None
    bound = _head(session).last_seq
    result: VerifyResult | None = None
    start_seq, start_hash = check.verified_seq, check.verified_hash
    if start_seq > bound:
        result = VerifyResult(
            False,
            0,
            bound + 1,
            f"events {bound + 1} to {start_seq} were removed: they were verified before",
        )
    elif start_seq > 0:
        anchor = session.execute(select(HistoryEvent).where(HistoryEvent.seq == start_seq)).scalar()
        if anchor is None or anchor.hash != start_hash or row_hash(anchor) != anchor.hash:
            result = VerifyResult(
                False,
                0,
                start_seq,
                f"event {start_seq} was removed or altered after it was verified",
            )
    count = 0
    if result is None:
        count, last_seq, last_hash, result = _walk(
            session,
            after_seq=start_seq,
            prev_hash=start_hash,
            until_seq=min(bound, start_seq + max_events),
            batch_size=batch_size,
        )
        if result is None and last_seq == bound:
            result = _check_end(session, count, last_seq, last_hash)
        check.verified_seq, check.verified_hash = last_seq, last_hash
    check.checked_at = clock.now()
    check.ok = result is None
    check.first_bad_seq = result.first_bad_seq if result else None
    check.problem = result.problem if result else None
    return result or VerifyResult(True, count)
