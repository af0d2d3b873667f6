"""The append-only, hash-chained history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, UTCDateTime


class HistoryEvent(Base):
    """One event; `seq` is gapless and `hash` covers the event and the previous hash."""

    __tablename__ = "history_event"
    __table_args__ = (
        Index("ix_history_event_instance_seq", "instance_id", "seq"),
        Index("ix_history_event_actor_seq", "actor", "seq"),
        Index("ix_history_event_type_seq", "type", "seq"),
        Index("ix_history_event_at", "at"),
        Index("ix_history_event_process_seq", "process_key", "seq"),
        Index("ix_history_event_department_seq", "department", "seq"),
        Index("ix_history_event_element_seq", "element_id", "seq"),
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
    """The single row naming the last event: the lock appenders take, and the anchor
    that makes a deleted last event detectable."""

    __tablename__ = "history_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    last_hash: Mapped[str] = mapped_column(String(64))
