"""The append-only history: every state change appends hash-chained events.

Each case's events form their own chain: an event's `prev_seq` and `prev_hash` name
the case's event before it, and the instance row keeps the newest (`history_seq`,
`history_hash`). Every step of a case already locks that row, so cases never queue
on each other. Events of no case go to the `system` chain, the SLA clock's to the
`rounds` chain (heads in `history_chain`, locked only by their few writers). The
rounds seal every head that moved into the `checkpoint` chain (engine/checkpoints.py),
so a case removed with all its events, or a chain cut back and re-headed, still shows;
the witness file anchors the newest checkpoint outside the database.

An event's hashed text and its hash are engine/history/hashing.py's.

Events recorded before revision 0012 keep the one global chain of gapless seqs that
ends at the frozen `history_head` row; `verify_chain` walks both.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Table,
    bindparam,
    func,
    literal_column,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.exc import NoResultFound
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from engine import clock
from engine.db import JsonText, bulk_insert, is_sqlite
from engine.history.hashing import (
    batch_values,
    canonical_json,
    checked_events,
    event_hash,
    row_hash,
    server_checked_events,
)
from engine.models import AuditCheck, HistoryChain, HistoryEvent, HistoryHead, Instance, Task

GENESIS_HASH = "0" * 64
SYSTEM_CHAIN = "system"
ROUNDS_CHAIN = "rounds"
CHECKPOINT_CHAIN = "checkpoint"
NAMED_CHAINS = (SYSTEM_CHAIN, ROUNDS_CHAIN)


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


def _loaded(session: Session, model: type, key: str) -> Any:
    """The object of `model` with primary key `key` when this session holds it, stored
    or about to be (no SQL)."""
    found = session.identity_map.get(identity_key(model, key))
    if found is None:
        found = next(
            (o for o in session.new if isinstance(o, model) and getattr(o, "id", None) == key),
            None,
        )
    return found


def _fill_search_keys(session: Session, events: list[PendingEvent]) -> None:
    """Give events without a process or department those of their instance and task,
    from the rows this session already holds, reading only the others."""
    processes: dict[str, str] = {}
    departments: dict[str, tuple[str, str]] = {}
    task_ids, instance_ids = set(), set()
    for e in events:
        if e.task_id and e.department is None and e.task_id not in departments:
            task = _loaded(session, Task, e.task_id)
            if task is not None:
                departments[e.task_id] = (task.process_key, task.department)
            else:
                task_ids.add(e.task_id)
        if e.instance_id and e.process_key is None and e.instance_id not in processes:
            instance = _loaded(session, Instance, e.instance_id)
            if instance is not None:
                processes[e.instance_id] = instance.process_key
            else:
                instance_ids.add(e.instance_id)
    if task_ids:
        for task_id, key, dept in session.execute(
            select(Task.id, Task.process_key, Task.department).where(Task.id.in_(task_ids))
        ):
            departments[task_id] = (key, dept)
    if instance_ids - processes.keys():
        for instance_id, key in session.execute(
            select(Instance.id, Instance.process_key).where(
                Instance.id.in_(instance_ids - processes.keys())
            )
        ):
            processes[instance_id] = key
    for ev in events:
        if ev.task_id and ev.task_id in departments:
            key, dept = departments[ev.task_id]
            ev.department = ev.department or dept
            ev.process_key = ev.process_key or key
        if ev.process_key is None and ev.instance_id:
            ev.process_key = processes.get(ev.instance_id)


# The seqs a step's lock statement takes ahead on PostgreSQL (engine/runtime.py): a
# completion writes two or three events (done, the next task created, the end).
PRESEQS = 3
_KEPT_SEQS = "flowdesk_history_seqs"


def preallocated_seqs() -> Any:
    """A column of PRESEQS seqs of the sequence as an array (PostgreSQL), for a
    statement that takes a case's lock to take them in the same round trip."""
    return literal_column(
        f"(SELECT array_agg(nextval('history_event_seq_seq')) FROM generate_series(1, {PRESEQS}))"
    )


def newest_seq() -> Any:
    """The newest seq of the history as a column (SQLite: the steps after it are the
    write transaction's own)."""
    return select(func.max(HistoryEvent.seq)).scalar_subquery()


def keep_seqs(session: Session, seqs: list[int] | None, *, chain: str) -> None:
    """Keep seqs taken with the lock of case `chain`, for this transaction's next append
    to that chain (its events take them first; on PostgreSQL they are newer than the
    chain's events only because they were taken with its lock)."""
    session.info[_KEPT_SEQS] = (chain, sorted(seqs or ()))


def _new_seqs(session: Session, n: int, chains: set[str]) -> list[int]:
    """Take `n` increasing seqs for events of `chains`: those kept from a lock
    statement first, then from the sequence on PostgreSQL; on SQLite the write
    transaction holds the database, so the newest seq plus one."""
    chain, kept = session.info.pop(_KEPT_SEQS, ("", []))
    sqlite = is_sqlite(session)
    taken: list[int] = list(kept[:n]) if sqlite or chains == {chain} else []
    if sqlite:
        if len(taken) < n:  # nothing was written since the kept ones were counted
            newest = taken[-1] if taken else session.scalar(select(func.max(HistoryEvent.seq)))
            newest = newest or 0
            taken.extend(range(newest + 1, newest + 1 + n - len(taken)))
        return taken
    if len(taken) < n:  # after the kept ones: taken later, so greater
        taken.extend(
            session.execute(
                text("SELECT nextval('history_event_seq_seq') FROM generate_series(1, :n)"),
                {"n": n - len(taken)},
            ).scalars()
        )
    return taken


class _Heads:
    """The heads of the chains one append writes to, read under lock, written back."""

    def __init__(self, session: Session, chains: set[str], held: Iterable[Instance]) -> None:
        self.session = session
        self.held = {i.id: i for i in held}
        self.heads: dict[str, tuple[int, str]] = {}
        cases = sorted(c for c in chains if c not in NAMED_CHAINS and c not in self.held)
        self.locking = not is_sqlite(session)  # SQLite: the write transaction holds it all
        for instance in self.held.values():
            self.heads[instance.id] = (
                instance.history_seq or 0,
                instance.history_hash or GENESIS_HASH,
            )
        if cases:
            # In id order, as every multi-case writer locks, so two never deadlock.
            stmt = (
                select(Instance.id, Instance.history_seq, Instance.history_hash)
                .where(Instance.id.in_(cases))
                .order_by(Instance.id)
            )
            for case_id, seq, digest in session.execute(
                stmt.with_for_update() if self.locking else stmt
            ):
                self.heads[case_id] = (seq, digest or GENESIS_HASH)
        named = {c for c in chains if c in NAMED_CHAINS}
        if set(cases) - self.heads.keys():
            named.add(SYSTEM_CHAIN)  # events naming no stored case
        if named:
            stmt2 = select(HistoryChain.name, HistoryChain.last_seq, HistoryChain.last_hash).where(
                HistoryChain.name.in_(sorted(named))
            )
            for name, seq, digest in session.execute(
                stmt2.with_for_update() if self.locking else stmt2
            ):
                self.heads[name] = (seq, digest)
        self.moved: dict[str, tuple[int, str]] = {}

    def chain_for(self, chain: str) -> str:
        """The chain an event joins: an event naming no stored case joins the system's."""
        return chain if chain in self.heads else SYSTEM_CHAIN

    def take(self, chain: str) -> tuple[int, str]:
        return self.moved.get(chain) or self.heads[chain]

    def move(self, chain: str, seq: int, digest: str) -> None:
        self.moved[chain] = (seq, digest)

    def write_held(self) -> None:
        """Set the moved heads of the held instances on them (the caller's flush)."""
        for chain, (seq, digest) in self.moved.items():
            if chain in self.held:
                self.held[chain].history_seq, self.held[chain].history_hash = seq, digest

    def write_unheld(self) -> None:
        """Write the other moved heads: named chains and cases not held."""
        cases: list[dict[str, Any]] = []
        for chain, (seq, digest) in self.moved.items():
            if chain in self.held:
                continue
            if chain in NAMED_CHAINS:
                self.session.execute(
                    update(HistoryChain)
                    .where(HistoryChain.name == chain)
                    .values(last_seq=seq, last_hash=digest)
                )
            else:
                cases.append({"b_id": chain, "b_seq": seq, "b_hash": digest})
        if cases:
            table = Instance.__table__
            assert isinstance(table, Table)
            self.session.execute(
                update(table)
                .where(table.c.id == bindparam("b_id"))
                .values(history_seq=bindparam("b_seq"), history_hash=bindparam("b_hash")),
                cases,
                execution_options={"synchronize_session": False},
            )
            for row in cases:  # keep loaded instances in step with their rows
                loaded = _loaded(self.session, Instance, row["b_id"])
                if loaded is not None:
                    set_committed_value(loaded, "history_seq", row["b_seq"])
                    set_committed_value(loaded, "history_hash", row["b_hash"])


def chain_of(event: PendingEvent) -> str:
    """The chain an event joins by default: its case's, else the system chain."""
    return event.instance_id or SYSTEM_CHAIN


def append_events(
    session: Session,
    events: list[PendingEvent],
    *,
    chain: str | None = None,
    held: Iterable[Instance] = (),
) -> int:
    """Append events to their chains in this transaction.

    Each event joins its case's chain (or `chain` when given: the rounds pass
    ROUNDS_CHAIN); the heads are locked here in id order, except those of `held`
    instances, which the caller has locked and will write with its own update.
    The rows are written with one bulk statement: a round appends thousands.
    """
    return prepare_events(session, events, chain=chain, held=held).write(rehash=False)


@dataclass
class PreparedEvents:
    """Events with their seqs taken and their chains' heads moved (the heads of `held`
    instances set on the objects, for the caller's flush to write), waiting for `write`
    to insert them."""

    session: Session
    events: list[PendingEvent]
    chains: list[str]
    seqs: list[int]
    heads: _Heads | None
    rows: list[dict[str, Any]]

    def write(self, *, rehash: bool = True) -> int:
        """Insert the events (one bulk statement) and the heads not on held instances.

        With `rehash` the events are hashed again first: a step hook may have added to
        an event's data since they were prepared (the case number on
        `instance_started`); a held instance whose head moved on then gets it set once
        more. (`append_events` writes what it has just prepared.)"""
        if not self.events:
            return 0
        assert self.heads is not None
        rows = self.rows
        if rehash:
            rows = _chained_rows(self.events, self.chains, self.seqs, self.heads)
            if rows != self.rows:
                self.heads.write_held()
        table = HistoryEvent.__table__
        assert isinstance(table, Table)
        bulk_insert(self.session, table, rows)
        self.heads.write_unheld()
        return len(rows)


def _chained_rows(
    events: list[PendingEvent], chains: list[str], seqs: list[int], heads: _Heads
) -> list[dict[str, Any]]:
    """The events' rows, each hashed onto its chain from the heads as read (the moved
    heads are set anew)."""
    heads.moved = {}
    rows = []
    now = clock.now()
    for ev, name, seq in zip(events, chains, seqs, strict=True):
        prev_seq, prev = heads.take(name)
        at = clock.to_utc(ev.at or now)
        # Hashed and stored as the one text: what is hashed is what the column gives back.
        data = canonical_json(ev.data or {})
        digest = event_hash(
            seq=seq,
            at=at,
            actor=ev.actor,
            type=ev.type,
            instance_id=ev.instance_id,
            task_id=ev.task_id,
            element_id=ev.element_id,
            data=ev.data or {},
            prev_hash=prev,
            process_key=ev.process_key,
            department=ev.department,
            chain=name,
            prev_seq=prev_seq,
            data_text=data,
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
                "data": JsonText(data),
                "process_key": ev.process_key,
                "department": ev.department,
                "prev_hash": prev,
                "hash": digest,
                "chain": name,
                "prev_seq": prev_seq,
            }
        )
        heads.move(name, seq, digest)
    return rows


def prepare_events(
    session: Session,
    events: list[PendingEvent],
    *,
    chain: str | None = None,
    held: Iterable[Instance] = (),
) -> PreparedEvents:
    """Take the seqs, chain the events and move the heads, without writing an event: the
    heads of `held` instances are set on them at once, so that a step's one UPDATE of
    its instance carries its history head too; `write()` then inserts the events."""
    if not events:
        return PreparedEvents(session, [], [], [], None, [])
    with session.no_autoflush:  # the caller flushes its rows once, heads included
        _fill_search_keys(session, events)
        wanted = [chain or chain_of(ev) for ev in events]
        heads = _Heads(session, set(wanted), held)
        seqs = _new_seqs(session, len(events), {heads.chain_for(name) for name in wanted})
    chains = [heads.chain_for(name) for name in wanted]
    rows = _chained_rows(events, chains, seqs, heads)
    heads.write_held()
    return PreparedEvents(session, list(events), chains, seqs, heads, rows)


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
            checked_events()
            .where(table.c.seq > last_seen, table.c.seq <= until_seq, table.c.chain.is_(None))
            .order_by(table.c.seq)
            .limit(batch_size)
        ).all()
        if not batch:
            break
        values = batch_values(batch)
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
            if row_hash(ev, values) != ev.hash:
                return broken(
                    ev.seq,
                    _altered(ev),
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
    """The frozen head of the older global chain (read once a session: it never moves)."""
    head = session.get(HistoryHead, 1)
    if head is None:
        raise NoResultFound("the history has no head row")
    return head


def _check_end(session: Session, count: int, last_seq: int, last_hash: str) -> VerifyResult | None:
    """Compare the walked end of the older global chain with its frozen head; catch
    chainless events added past that end or before the start."""
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
    stray = session.execute(
        select(func.min(HistoryEvent.seq)).where(
            HistoryEvent.chain.is_(None), HistoryEvent.seq > head.last_seq
        )
    ).scalar()
    if stray is not None:
        return VerifyResult(
            False,
            count,
            stray,
            f"event {stray} was inserted: it belongs to no chain of the history",
        )
    return None


def _check_checkpoint(session: Session, count: int) -> VerifyResult | None:
    """The scheduled check remembers the newest event it verified: it must still be there."""
    check = session.get(AuditCheck, 1)
    if check is None or check.verified_seq == 0:
        return None
    stored = session.execute(
        select(HistoryEvent.hash).where(HistoryEvent.seq == check.verified_seq)
    ).scalar()
    if stored is None:
        return VerifyResult(
            False,
            count,
            check.verified_seq,
            f"event {check.verified_seq} was removed: it was verified on {check.checked_at}",
        )
    if stored != check.verified_hash:
        return VerifyResult(
            False,
            count,
            check.verified_seq,
            f"event {check.verified_seq} differs from the event verified on "
            f"{check.checked_at}: the history was rewritten",
        )
    return None


class _Problems:
    """The problems found so far; the one of the lowest seq is reported."""

    def __init__(self) -> None:
        self.first: tuple[int, str] | None = None

    def note(self, seq: int, problem: str) -> None:
        if self.first is None or seq < self.first[0]:
            self.first = (seq, problem)

    def add(self, result: VerifyResult | None) -> None:
        if result is not None and not result.ok and result.first_bad_seq is not None:
            self.note(result.first_bad_seq, result.problem or "")


def chain_heads(session: Session, chains: set[str]) -> dict[str, tuple[int, str]]:
    """The recorded heads (seq, hash) of these chains; a removed case has none."""
    heads: dict[str, tuple[int, str]] = {}
    named = [c for c in chains if c in NAMED_CHAINS]
    cases = [c for c in chains if c not in NAMED_CHAINS]
    if named:
        for name, seq, digest in session.execute(
            select(HistoryChain.name, HistoryChain.last_seq, HistoryChain.last_hash).where(
                HistoryChain.name.in_(named)
            )
        ):
            heads[name] = (seq, digest)
    for start in range(0, len(cases), 1000):
        for case_id, case_seq, case_hash in session.execute(
            select(Instance.id, Instance.history_seq, Instance.history_hash).where(
                Instance.id.in_(cases[start : start + 1000])
            )
        ):
            heads[case_id] = (case_seq, case_hash or GENESIS_HASH)
    return heads


def _altered(ev: Any) -> str:
    return f"event {ev.seq} ({ev.type}) was altered: its content does not match its hash"


def _missing(seq: int, chain: str) -> str:
    return f"event {seq} is missing (removed) from the history of {chain_name(chain)}"


def _relinked(seq: int) -> str:
    return f"event {seq} was altered: the event after it records another hash"


def _check_chain(
    chain: str, events: list[Any], head: tuple[int, str] | None, out: _Problems
) -> None:
    """Walk one chain back from its head: every event reached once, links and hashes
    matching, back to the genesis; what is not reached was inserted."""
    values = batch_values(events)
    for ev in events:
        if row_hash(ev, values) != ev.hash:
            out.note(
                ev.seq,
                _altered(ev),
            )
        if chain not in NAMED_CHAINS and ev.instance_id != chain:
            out.note(
                ev.seq, f"event {ev.seq} is in the chain of case {chain} but names another case"
            )
    if head is None:
        out.note(
            events[0].seq,
            f"events {events[0].seq} to {events[-1].seq} belong to case {chain}, "
            "whose record was removed",
        )
        return
    by_seq = {ev.seq: ev for ev in events}
    seq, expected = head
    reached: set[int] = set()
    while seq:
        ev = by_seq.get(seq)
        if ev is None:
            out.note(seq, _missing(seq, chain))
            return
        if ev.hash != expected:
            out.note(
                seq,
                f"event {seq} ({ev.type}) was altered: the event after it records another hash",
            )
        reached.add(seq)
        if ev.prev_seq is None or ev.prev_seq >= seq:
            out.note(seq, f"event {seq} does not name the event before it")
            return
        seq, expected = ev.prev_seq, ev.prev_hash
    if expected != GENESIS_HASH and reached:
        first = min(reached)
        out.note(first, f"event {first} was altered: it does not start its chain")
    for ev in events:
        if ev.seq not in reached:
            out.note(
                ev.seq,
                f"event {ev.seq} was inserted: no event of {chain_name(chain)} follows it",
            )


def chain_name(chain: str) -> str:
    return f"the {chain} chain" if chain in NAMED_CHAINS else f"case {chain}"


def _walk_chains(session: Session, batch_size: int, out: _Problems) -> int:
    """Check every chain of events written since revision 0012; return the events read."""
    table = HistoryEvent.__table__
    assert isinstance(table, Table)
    count = 0
    seen: set[str] = set()
    group: list[Any] = []
    heads: dict[str, tuple[int, str]] = {}
    after: tuple[str, int] | None = None
    while True:
        stmt = checked_events().where(table.c.chain.is_not(None))
        if after is not None:
            stmt = stmt.where(tuple_(table.c.chain, table.c.seq) > after)
        batch = session.execute(stmt.order_by(table.c.chain, table.c.seq).limit(batch_size)).all()
        if not batch:
            break
        heads.update(chain_heads(session, {ev.chain for ev in batch} - heads.keys()))
        for ev in batch:
            count += 1
            if group and group[0].chain != ev.chain:
                _check_chain(group[0].chain, group, heads.pop(group[0].chain, None), out)
                group = []
            seen.add(ev.chain)
            group.append(ev)
        after = (batch[-1].chain, batch[-1].seq)
    if group:
        _check_chain(group[0].chain, group, heads.get(group[0].chain), out)
    # Heads whose events are all gone.
    for case_id, seq in session.execute(
        select(Instance.id, Instance.history_seq).where(Instance.history_seq > 0)
    ):
        if case_id not in seen:
            out.note(seq, f"event {seq} is missing (removed): case {case_id} has no events left")
    for name, seq in session.execute(
        select(HistoryChain.name, HistoryChain.last_seq).where(
            HistoryChain.name.in_(NAMED_CHAINS), HistoryChain.last_seq > 0
        )
    ):
        if name not in seen:
            out.note(seq, f"event {seq} is missing (removed): the {name} chain has no events left")
    return count


def verify_chain(session: Session, *, batch_size: int = 5000) -> VerifyResult:
    """Walk the whole history and report the first altered, removed or inserted event:
    the older global chain, every case's and named chain, and the checkpoints."""
    from engine import checkpoints

    bound = _head(session).last_seq
    out = _Problems()
    count, last_seq, last_hash, problem = _walk(
        session, after_seq=0, prev_hash=GENESIS_HASH, until_seq=bound, batch_size=batch_size
    )
    out.add(problem)
    if problem is None:
        out.add(_check_end(session, count, last_seq, last_hash))
    count += _walk_chains(session, batch_size, out)
    for seq, text_ in checkpoints.verify_checkpoints(session):
        out.note(seq, text_)
    out.add(_check_checkpoint(session, count))
    if out.first is not None:
        return VerifyResult(False, count, out.first[0], out.first[1])
    return VerifyResult(True, count)


def _stored_row_hash(session: Session, seq: int) -> str:
    """The hash of the stored event `seq` made the Python way (`row_hash`)."""
    table = HistoryEvent.__table__
    assert isinstance(table, Table)
    return row_hash(session.execute(checked_events().where(table.c.seq == seq)).one())


def _check_new_chained(
    session: Session, *, after_seq: int, limit: int
) -> tuple[int, int, str, VerifyResult | None]:
    """Check chained events after `after_seq` in seq order: each one's hash, and that
    the event it names before it is there with the hash it records.

    On PostgreSQL the server writes each event's hashed text and compares its SHA-256
    with the stored hash (`hashing.SERVER_TEXT_HASH`); an event whose text does not
    give its hash (data an older release stored as other JSON text of the same content,
    say) is hashed again the Python way before it is called altered.

    Returns (events checked, newest seq checked, its hash, the first problem or None).
    """
    table = HistoryEvent.__table__
    assert isinstance(table, Table)
    server_texts = session.get_bind().dialect.name == "postgresql"
    batch = session.execute(
        (server_checked_events() if server_texts else checked_events())
        .where(table.c.seq > after_seq, table.c.chain.is_not(None))
        .order_by(table.c.seq)
        .limit(limit)
    ).all()
    if not batch:
        return 0, after_seq, "", None
    known = {ev.seq: ev for ev in batch}
    wanted = sorted({ev.prev_seq for ev in batch if ev.prev_seq and ev.prev_seq not in known})
    for start in range(0, len(wanted), 1000):
        for ev in session.execute(
            select(table.c.seq, table.c.chain, table.c.hash).where(
                table.c.seq.in_(wanted[start : start + 1000])
            )
        ):
            known.setdefault(ev.seq, ev)
    out = _Problems()
    values = None if server_texts else batch_values(batch)
    for ev in batch:
        if server_texts:
            intact = bool(ev.text_gives_hash)
            if not intact:
                intact = _stored_row_hash(session, ev.seq) == ev.hash
        else:
            intact = row_hash(ev, values) == ev.hash
        if not intact:
            out.note(ev.seq, _altered(ev))
        if not ev.prev_seq:
            if ev.prev_hash != GENESIS_HASH:
                out.note(ev.seq, f"event {ev.seq} does not name the event before it")
            continue
        before = known.get(ev.prev_seq)
        if before is None:
            out.note(
                ev.prev_seq,
                _missing(ev.prev_seq, ev.chain),
            )
        elif before.chain != ev.chain or before.hash != ev.prev_hash:
            out.note(
                ev.prev_seq,
                _relinked(ev.prev_seq),
            )
    if out.first is None:
        return len(batch), batch[-1].seq, batch[-1].hash, None
    good = [ev for ev in batch if ev.seq < out.first[0]]
    last_seq, last_hash = (good[-1].seq, good[-1].hash) if good else (after_seq, "")
    return len(batch), last_seq, last_hash, VerifyResult(False, len(batch), *out.first)


def verify_new_events(
    session: Session, *, batch_size: int = 5000, max_events: int = 100_000
) -> VerifyResult | None:
    """The scheduled check: verify the events added since the last run and remember
    how far the history is good. Returns None when another round holds the check.

    One run checks at most `max_events` (a history that predates the check is
    caught up over several rounds, each a short transaction): first the older global
    chain up to its frozen head, then the chained events in seq order. An event that
    commits after a later one was checked is left to `verify_chain`.
    """
    # the check's row, locked, with the frozen head in the same statement
    stmt = (
        select(AuditCheck, HistoryHead)
        .outerjoin(HistoryHead, HistoryHead.id == 1)
        .where(AuditCheck.id == 1)
    )
    if session.get_bind().dialect.name != "sqlite":
        stmt = stmt.with_for_update(skip_locked=True, of=AuditCheck)
    found = session.execute(stmt).first()
    if found is None:
        return None
    check = found[0]
    bound = _head(session).last_seq
    result: VerifyResult | None = None
    start_seq, start_hash = check.verified_seq, check.verified_hash
    if start_seq > 0:
        anchor = session.execute(select(HistoryEvent).where(HistoryEvent.seq == start_seq)).scalar()
        if anchor is None or anchor.hash != start_hash or row_hash(anchor) != anchor.hash:
            result = VerifyResult(
                False,
                0,
                start_seq,
                f"event {start_seq} was removed or altered after it was verified",
            )
    count = 0
    if result is None and start_seq < bound:
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
    if result is None and check.verified_seq >= bound and count < max_events:
        checked, last_seq, last_hash, result = _check_new_chained(
            session, after_seq=check.verified_seq, limit=max_events - count
        )
        count += checked
        if last_seq > check.verified_seq:
            check.verified_seq, check.verified_hash = last_seq, last_hash
        if result is None and checked:  # an idle round: the previous run checked the ends
            result = _check_end(session, count, bound, _head(session).last_hash)
    check.checked_at = clock.now()
    check.ok = result is None
    check.first_bad_seq = result.first_bad_seq if result else None
    check.problem = result.problem if result else None
    return result or VerifyResult(True, count)
