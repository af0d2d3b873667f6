"""Process instances: serialized workflow state, status and the next timer due."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, UTCDateTime


class Instance(Base):
    __tablename__ = "instance"
    __table_args__ = (
        # The inbox search by a fragment of the business key: its trigrams on
        # PostgreSQL (pg_trgm; on SQLite a plain index beside the one below).
        Index(
            "ix_instance_business_key_trgm",
            "business_key",
            postgresql_using="gin",
            postgresql_ops={"business_key": "gin_trgm_ops"},
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    process_key: Mapped[str] = mapped_column(String(200), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"), index=True)
    # The version number, kept beside its id so that showing an instance needs no join.
    version: Mapped[int] = mapped_column(Integer)
    business_key: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    variables: Mapped[dict[str, Any]] = mapped_column(JSON)
    workflow_state: Mapped[str] = mapped_column(Text)
    serializer_version: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The earliest BPMN timer waiting in this instance; the timer sweep selects on it.
    next_timer_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    # Optimistic lock: every save bumps it; a stale writer gets ConcurrentUpdate.
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False)
    # The head of this case's own history chain (engine/audit.py): the seq and hash of
    # its newest event; 0 and None before its first chained event.
    history_seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), nullable=False, default=0, server_default="0"
    )
    history_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)

    __mapper_args__ = {"version_id_col": lock_version}
