"""The append-only, hash-chained history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, UTCDateTime


class HistoryEvent(Base):
    """One event. `hash` covers its content and the hash of the event before it in its
    chain: a case's own chain (`chain` = the instance id), the system chain or the
    rounds chain; `prev_seq` names that event (0 for a chain's first). Events recorded
    before revision 0012 have no `chain`: they form the one global chain of gapless
    `seq`s that ends at `history_head`."""

    __tablename__ = "history_event"
    __table_args__ = (
        Index("ix_history_event_instance_seq", "instance_id", "seq"),
        Index("ix_history_event_actor_seq", "actor", "seq"),
        Index("ix_history_event_type_seq", "type", "seq"),
        Index("ix_history_event_at", "at"),
        Index("ix_history_event_process_seq", "process_key", "seq"),
        Index("ix_history_event_department_seq", "department", "seq"),
        Index("ix_history_event_element_seq", "element_id", "seq"),
        Index("ix_history_event_chain_seq", "chain", "seq"),
    )

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(80))
    type: Mapped[str] = mapped_column(String(40))
    instance_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    task_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    element_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # The process and the department the event concerns (search keys, hashed too).
    process_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    department: Mapped[str | None] = mapped_column(String(40), nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    chain: Mapped[str | None] = mapped_column(String(40), nullable=True)
    prev_seq: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), nullable=True
    )


class AuditCheck(Base):
    """The scheduled incremental verification's progress: the chain is known good up
    to `verified_seq` (whose hash is `verified_hash`); `ok` false names the first bad event."""

    __tablename__ = "audit_check"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    verified_seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    verified_hash: Mapped[str] = mapped_column(String(64))
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ok: Mapped[bool] = mapped_column(Boolean)
    first_bad_seq: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), nullable=True
    )
    problem: Mapped[str | None] = mapped_column(Text, nullable=True)


class HistoryHead(Base):
    """The end of the global chain of the events recorded before revision 0012: frozen
    there, it makes a deleted last event of that older history detectable."""

    __tablename__ = "history_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    last_hash: Mapped[str] = mapped_column(String(64))


class HistoryChain(Base):
    """The head of a named chain: `system` (deploys, accounts, calendars, exports),
    `rounds` (the SLA clock's warnings, breaches and escalations) and `checkpoint`
    (whose `last_seq` is the newest checkpoint's id)."""

    __tablename__ = "history_chain"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    last_hash: Mapped[str] = mapped_column(String(64))


class HistoryCheckpoint(Base):
    """A seal of every chain head that moved since the previous checkpoint (`heads`:
    chain → [seq, hash]), chained by `prev_hash`: a case removed with all its events,
    or a chain cut back, no longer matches its seal."""

    __tablename__ = "history_checkpoint"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    through_seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    heads: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
