"""Checkpoints: the rounds seal every history chain head that moved into one more
link of the `checkpoint` chain.

A case's chain proves its events follow one another, and its head on the instance
row catches a removed newest event; but a case deleted with all its events, or a
chain cut back with its head rewritten, leaves a perfectly good (shorter) history.
A checkpoint records, for each chain that moved since the previous checkpoint, the
seq and hash of its newest event; each checkpoint's hash covers those heads and
the previous checkpoint's hash, and the witness file (engine/witness.py) keeps the
newest checkpoint outside the database. `verify_checkpoints` then finds every
sealed event still in place.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from engine import clock
from engine.audit import CHECKPOINT_CHAIN, GENESIS_HASH, canonical_json, chain_name
from engine.db import is_sqlite
from engine.models import HistoryChain, HistoryCheckpoint, HistoryEvent

# Events are numbered when appended but may commit a little out of order; each
# checkpoint looks back this many seqs before the previous one's end, so an event
# still in flight when that checkpoint was made is sealed by the next.
LOOKBACK = 10_000


def checkpoint_hash(
    *, id: int, at: datetime, through_seq: int, heads: dict[str, Any], prev_hash: str
) -> str:
    """Return the SHA-256 of a checkpoint's content and the previous checkpoint's hash."""
    body = canonical_json(
        [id, clock.to_utc(at).isoformat(timespec="microseconds"), through_seq, heads, prev_hash]
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def newest_checkpoint(session: Session) -> HistoryCheckpoint | None:
    """The newest checkpoint, or None before the first."""
    head = session.get(HistoryChain, CHECKPOINT_CHAIN)
    if head is None or not head.last_seq:
        return None
    return session.get(HistoryCheckpoint, head.last_seq)


def anything_to_seal(session: Session) -> bool:
    """Whether an event was appended after the newest checkpoint's last seq: one read,
    no lock (an idle round asks it and takes no write transaction). An event that
    commits after it is asked is sealed by the next round."""
    sealed_through = (
        select(HistoryCheckpoint.through_seq)
        .join(HistoryChain, HistoryChain.last_seq == HistoryCheckpoint.id)
        .where(HistoryChain.name == CHECKPOINT_CHAIN)
        .scalar_subquery()
    )
    newest, through = session.execute(select(func.max(HistoryEvent.seq), sealed_through)).one()
    return (newest or 0) > (through or 0)


def seal(session: Session, *, at: datetime | None = None) -> HistoryCheckpoint | None:
    """Seal the chain heads that moved since the newest checkpoint; None when nothing
    moved (asked again under the chain's lock: an idle round stops at
    `anything_to_seal`)."""
    stmt = select(HistoryChain).where(HistoryChain.name == CHECKPOINT_CHAIN)
    if not is_sqlite(session):
        stmt = stmt.with_for_update()  # one sealer at a time
    head = session.execute(stmt).scalar_one()
    previous = session.get(HistoryCheckpoint, head.last_seq) if head.last_seq else None
    through = previous.through_seq if previous else 0
    newest = session.execute(select(func.max(HistoryEvent.seq))).scalar() or 0
    if newest <= through:
        return None
    heads = _moved_heads(session, after=max(0, through - LOOKBACK), through=newest)
    instant = clock.to_utc(at or clock.now())
    number = head.last_seq + 1
    digest = checkpoint_hash(
        id=number, at=instant, through_seq=newest, heads=heads, prev_hash=head.last_hash
    )
    checkpoint = HistoryCheckpoint(
        id=number,
        at=instant,
        through_seq=newest,
        heads=heads,
        prev_hash=head.last_hash,
        hash=digest,
    )
    session.add(checkpoint)
    session.execute(
        update(HistoryChain)
        .where(HistoryChain.name == CHECKPOINT_CHAIN)
        .values(last_seq=number, last_hash=digest)
    )
    session.flush()
    return checkpoint


def _moved_heads(session: Session, *, after: int, through: int) -> dict[str, list[Any]]:
    """The newest event of each chain among seqs `after` < seq <= `through`, as
    {chain: [seq, hash]}: the database groups the range (a busy round's 20 000 seqs)
    and sends one seq a chain that moved; their hashes are then read by key, a
    thousand a statement (a plan that cannot turn into a scan of the history)."""
    grouped = (
        select(HistoryEvent.chain, func.max(HistoryEvent.seq))
        .where(
            HistoryEvent.seq > after,
            HistoryEvent.seq <= through,
            HistoryEvent.chain.is_not(None),
        )
        .group_by(HistoryEvent.chain)
    )
    newest = {chain: seq for chain, seq in session.execute(grouped)}
    seqs = sorted(newest.values())
    heads: dict[str, list[Any]] = {}
    for start in range(0, len(seqs), 1000):
        rows = session.execute(
            select(HistoryEvent.chain, HistoryEvent.seq, HistoryEvent.hash).where(
                HistoryEvent.seq.in_(seqs[start : start + 1000])
            )
        )
        for chain, seq, digest in rows:
            assert chain is not None
            heads[chain] = [seq, digest]
    return heads


def verify_checkpoints(session: Session, *, batch_size: int = 500) -> list[tuple[int, str]]:
    """Check the checkpoint chain and that every event it sealed last is still there
    with its sealed hash; returns (seq, problem) pairs, none when intact."""
    problems: list[tuple[int, str]] = []
    head = session.get(HistoryChain, CHECKPOINT_CHAIN)
    sealed: dict[str, tuple[int, str, int]] = {}
    prev, expected, last_through = GENESIS_HASH, 1, 0
    after = 0
    while True:
        batch = (
            session.execute(
                select(HistoryCheckpoint)
                .where(HistoryCheckpoint.id > after)
                .order_by(HistoryCheckpoint.id)
                .limit(batch_size)
            )
            .scalars()
            .all()
        )
        if not batch:
            break
        for cp in batch:
            if cp.id != expected:
                problems.append(
                    (last_through + 1, f"checkpoint {expected} was removed from the history")
                )
                return problems
            digest = checkpoint_hash(
                id=cp.id, at=cp.at, through_seq=cp.through_seq, heads=cp.heads, prev_hash=prev
            )
            if cp.prev_hash != prev or digest != cp.hash:
                problems.append((cp.through_seq, f"checkpoint {cp.id} was altered"))
                return problems
            for chain, (seq, event_hash) in cp.heads.items():
                sealed[chain] = (seq, event_hash, cp.id)
            prev, expected, last_through = cp.hash, cp.id + 1, cp.through_seq
            after = cp.id
    recorded = (head.last_seq, head.last_hash) if head else (0, GENESIS_HASH)
    if recorded != (expected - 1, prev):
        problems.append(
            (
                last_through + 1,
                f"checkpoint {recorded[0]} is not the newest checkpoint the history holds "
                f"({expected - 1}): checkpoints were removed or replaced",
            )
        )
    items = sorted(sealed.items(), key=lambda item: item[1][0])
    for start in range(0, len(items), 1000):
        chunk = items[start : start + 1000]
        stored = {
            seq: (chain, digest)
            for seq, chain, digest in session.execute(
                select(HistoryEvent.seq, HistoryEvent.chain, HistoryEvent.hash).where(
                    HistoryEvent.seq.in_([seq for _, (seq, _, _) in chunk])
                )
            )
        }
        for chain, (seq, digest, number) in chunk:
            if stored.get(seq) != (chain, digest):
                what = "is missing" if seq not in stored else "differs from the sealed event"
                problems.append(
                    (
                        seq,
                        f"event {seq} {what}: checkpoint {number} sealed it as the newest "
                        f"event of {chain_name(chain)}"
                        " — the case was removed or its history cut back",
                    )
                )
    return problems
