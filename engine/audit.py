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

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from engine import clock
from engine.db import bulk_insert
from engine.models import HistoryEvent, HistoryHead

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
) -> str:
    """Return the SHA-256 of an event's content and its predecessor's hash."""
    body = _canonical_json(
        [
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
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def row_hash(event: HistoryEvent) -> str:
    """Return the hash an event row must carry, from its content and `prev_hash`."""
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
    )


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


def verify_chain(session: Session, *, batch_size: int = 5000) -> VerifyResult:
    """Walk the whole history in order and report the first altered, removed or inserted event."""
    expected_seq, prev = 1, GENESIS_HASH
    count = 0
    last_seen = 0
    while True:
        batch = (
            session.execute(
                select(HistoryEvent)
                .where(HistoryEvent.seq > last_seen)
                .order_by(HistoryEvent.seq)
                .limit(batch_size)
            )
            .scalars()
            .all()
        )
        if not batch:
            break
        for ev in batch:
            count += 1
            if ev.seq != expected_seq:
                if ev.seq > expected_seq:
                    return VerifyResult(
                        False,
                        count,
                        expected_seq,
                        f"event {expected_seq} is missing (removed); the next event is {ev.seq}",
                    )
                return VerifyResult(False, count, ev.seq, f"event {ev.seq} is out of sequence")
            if ev.prev_hash != prev:
                return VerifyResult(
                    False,
                    count,
                    ev.seq,
                    f"event {ev.seq} does not follow event {ev.seq - 1}: "
                    "an event was inserted, removed or altered before it",
                )
            digest = row_hash(ev)
            if digest != ev.hash:
                return VerifyResult(
                    False,
                    count,
                    ev.seq,
                    f"event {ev.seq} ({ev.type}) was altered: its content does not match its hash",
                )
            prev = ev.hash
            expected_seq += 1
            last_seen = ev.seq
        session.expunge_all()
    head = session.execute(select(HistoryHead).where(HistoryHead.id == 1)).scalar_one()
    if head.last_seq != expected_seq - 1 or head.last_hash != prev:
        if head.last_seq > expected_seq - 1:
            return VerifyResult(
                False,
                count,
                expected_seq,
                f"event {expected_seq} is missing (removed): the history "
                f"ends at {expected_seq - 1} but recorded {head.last_seq} events",
            )
        return VerifyResult(
            False,
            count,
            head.last_seq + 1,
            f"event {head.last_seq + 1} was inserted after the recorded end of the history",
        )
    return VerifyResult(True, count)
