"""The history's head witnessed outside the database, so that a rollback shows.

The hash chains (engine/audit.py) prove that the events in a database follow one
another; they cannot tell an old copy of the database from the real one, because an
old copy is a perfectly good history that simply ends earlier, nor a history whose
checkpoints (engine/checkpoints.py) were all rebuilt. So every background round
appends the current head — the newest event's seq and hash, and the newest
checkpoint's number and hash — to an append-only file outside the database, one
JSON line per change of head, and every backup carries the head it was taken at.
`flowdesk audit verify --witness FILE` then checks that the database still holds
every witnessed event and checkpoint with the witnessed hash.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select, text
from sqlalchemy.orm import Session

from engine import clock
from engine.audit import GENESIS_HASH
from engine.config import get_settings
from engine.db import single_statement_engine
from engine.errors import FlowdeskError
from engine.models import HistoryCheckpoint, HistoryEvent

log = logging.getLogger("flowdesk.witness")


class WitnessUnreadable(FlowdeskError):
    """The witness file is missing or holds a line that is not a witnessed head."""


@dataclass(frozen=True)
class WitnessedHead:
    seq: int
    hash: str
    at: str = ""
    checkpoint: int = 0
    checkpoint_hash: str = ""

    def as_json(self) -> str:
        """Return the head as one line of the witness file."""
        item: dict[str, Any] = {"seq": self.seq, "hash": self.hash, "at": self.at}
        if self.checkpoint:
            item |= {"checkpoint": self.checkpoint, "checkpoint_hash": self.checkpoint_hash}
        return json.dumps(item, sort_keys=True)


@dataclass(frozen=True)
class WitnessResult:
    ok: bool
    heads: int
    newest_seq: int
    missing: int = 0
    first_bad_seq: int | None = None
    problem: str | None = None


NEWEST_EVENT_SQL = "SELECT seq, hash FROM history_event ORDER BY seq DESC LIMIT 1"
NEWEST_CHECKPOINT_SQL = "SELECT last_seq, last_hash FROM history_chain WHERE name = 'checkpoint'"


def head_of(event: Any, checkpoint: Any) -> WitnessedHead:
    """The head from the newest event's and checkpoint's (seq, hash) rows (or None)."""
    seq, digest = (event[0], event[1]) if event else (0, GENESIS_HASH)
    number, sealed = (checkpoint[0], checkpoint[1]) if checkpoint else (0, "")
    return WitnessedHead(seq, digest, "", number, sealed if number else "")


# Both in one statement: one round trip, and the two from one snapshot.
HEAD_SQL = (
    "SELECT (SELECT seq FROM history_event ORDER BY seq DESC LIMIT 1),"
    " (SELECT hash FROM history_event ORDER BY seq DESC LIMIT 1),"
    " (SELECT last_seq FROM history_chain WHERE name = 'checkpoint'),"
    " (SELECT last_hash FROM history_chain WHERE name = 'checkpoint')"
)


def current_head(session: Session | Connection, *, at: datetime | None = None) -> WitnessedHead:
    """Return the history's head in the database: its newest event and checkpoint, read
    by one statement."""
    seq, digest, number, sealed = session.execute(text(HEAD_SQL)).one()
    head = head_of(
        (seq, digest) if seq is not None else None,
        (number, sealed) if number is not None else None,
    )
    instant = clock.to_utc(at or clock.now()).isoformat(timespec="seconds")
    return replace(head, at=instant)


def _last_line(handle: Any) -> str:
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    handle.seek(max(0, size - 4096))
    lines = handle.read().decode("utf-8", "replace").splitlines()
    return lines[-1] if lines else ""


def append_head(path: Path, head: WitnessedHead) -> bool:
    """Append `head` to the witness file unless it is the file's last head; True if written.

    Several processes (API workers, Celery workers) may witness at once: an exclusive
    lock on the file makes read-last-then-append one step.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "r+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            last = _last_line(handle)
            if last:
                try:
                    previous = json.loads(last)
                    if (
                        previous.get("seq"),
                        previous.get("hash"),
                        previous.get("checkpoint", 0),
                    ) == (head.seq, head.hash, head.checkpoint):
                        return False
                except ValueError:
                    pass  # a torn last line: write the head on a line of its own
            size = handle.seek(0, os.SEEK_END)
            prefix = b"\n" if size and not _ends_with_newline(handle) else b""
            handle.write(prefix + head.as_json().encode("utf-8") + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
            return True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _ends_with_newline(handle: Any) -> bool:
    handle.seek(-1, os.SEEK_END)
    ends = bool(handle.read(1) == b"\n")
    handle.seek(0, os.SEEK_END)
    return ends


def witness_current_head(path: Path | None = None) -> WitnessedHead | None:
    """Append the database's head to the configured witness file (a round's last step).

    A witness that cannot be written is logged, never fatal: the round's real work
    is done and the next round tries again.
    """
    path = path or get_settings().witness_file
    if path is None:
        return None
    with single_statement_engine().connect() as conn:  # one read, no transaction round trips
        head = current_head(conn)
    try:
        append_head(path, head)
    except OSError as exc:
        log.error("cannot write the history witness %s: %s", path, exc)
        return None
    return head


def read_witness(path: Path) -> list[WitnessedHead]:
    """Read every witnessed head of a witness file (or a backup's `.witness.json`)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise WitnessUnreadable(f"cannot read the witness file {path}: {exc.strerror}") from None
    heads = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            seq, digest = item["seq"], item["hash"]
            if not isinstance(seq, int) or seq < 0 or not isinstance(digest, str):
                raise ValueError
        except (ValueError, KeyError, TypeError):
            if number == len(lines):
                continue  # a last line torn by a crash mid-write witnesses nothing
            raise WitnessUnreadable(
                f"{path}:{number}: not a witnessed head (a JSON object with seq and hash)"
            ) from None
        checkpoint = item.get("checkpoint", 0)
        sealed = item.get("checkpoint_hash", "")
        if not isinstance(checkpoint, int) or checkpoint < 0 or not isinstance(sealed, str):
            raise WitnessUnreadable(f"{path}:{number}: not a witnessed checkpoint")
        heads.append(WitnessedHead(seq, digest, str(item.get("at", "")), checkpoint, sealed))
    return heads


def _events(n: int) -> str:
    return "1 event is" if n == 1 else f"{n} events are"


def _span(first: int, last: int) -> str:
    return f"event {first}" if first == last else f"events {first} to {last}"


def check_witness(session: Session, heads: list[WitnessedHead]) -> WitnessResult:
    """Check that the database holds every witnessed event with its witnessed hash."""
    last_seq = session.execute(select(func.max(HistoryEvent.seq))).scalar() or 0
    wanted = [h for h in heads if h.seq > 0]
    newest = max(wanted, key=lambda h: h.seq, default=None)
    if newest is not None and newest.seq > last_seq:
        missing = newest.seq - last_seq
        return WitnessResult(
            False,
            len(heads),
            newest.seq,
            missing=missing,
            first_bad_seq=last_seq + 1,
            problem=(
                f"the database is behind its witness: {_events(missing)} missing "
                f"({_span(last_seq + 1, newest.seq)}; the history ends at "
                f"{last_seq} but event {newest.seq} was witnessed at {newest.at}); "
                "an older copy of the database was restored or events were removed"
            ),
        )
    seqs = sorted({h.seq for h in wanted})
    stored: dict[int, str] = {}
    for start in range(0, len(seqs), 1000):
        chunk = seqs[start : start + 1000]
        rows = session.execute(
            select(HistoryEvent.seq, HistoryEvent.hash).where(HistoryEvent.seq.in_(chunk))
        ).all()
        stored.update({seq: digest for seq, digest in rows})
    for head in sorted(wanted, key=lambda h: h.seq):
        if stored.get(head.seq) != head.hash:
            what = "is missing" if head.seq not in stored else "differs from the witnessed event"
            return WitnessResult(
                False,
                len(heads),
                newest.seq if newest else 0,
                first_bad_seq=head.seq,
                problem=(
                    f"event {head.seq} {what} (witnessed at {head.at}): the history was "
                    "replaced by another one"
                ),
            )
    checkpoint = _check_checkpoints(session, heads, newest.seq if newest else 0)
    return checkpoint or WitnessResult(True, len(heads), newest.seq if newest else 0)


def _check_checkpoints(
    session: Session, heads: list[WitnessedHead], newest: int
) -> WitnessResult | None:
    """Every witnessed checkpoint must still be in the database with its hash."""
    # A restored copy that ran a round witnessed checkpoints of its own: a checkpoint
    # passes when it is one that was witnessed under its number.
    witnessed: dict[int, list[WitnessedHead]] = {}
    for h in heads:
        if h.checkpoint:
            witnessed.setdefault(h.checkpoint, []).append(h)
    if not witnessed:
        return None
    stored = dict(
        session.execute(
            select(HistoryCheckpoint.id, HistoryCheckpoint.hash).where(
                HistoryCheckpoint.id.in_(sorted(witnessed))
            )
        ).all()
    )
    for number in sorted(witnessed):
        seen = witnessed[number]
        if stored.get(number) not in {h.checkpoint_hash for h in seen}:
            what = "is missing" if number not in stored else "differs from the witnessed one"
            return WitnessResult(
                False,
                len(heads),
                newest,
                first_bad_seq=seen[0].seq,
                problem=(
                    f"checkpoint {number} {what} (witnessed at {seen[0].at}): the history's "
                    "checkpoints were rebuilt or an older copy of the database was restored"
                ),
            )
    return None
