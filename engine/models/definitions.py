"""Process definitions and their immutable versions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, UTCDateTime


class ProcessDefinition(Base):
    """A process (BPMN process id) or a decision (DMN decision id) known by its key."""

    __tablename__ = "process_definition"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(10))  # "bpmn" | "dmn"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProcessVersion(Base):
    """One deployed version; never updated after it is written."""

    __tablename__ = "process_version"
    __table_args__ = (UniqueConstraint("definition_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(300))
    filename: Mapped[str] = mapped_column(String(300))
    content: Mapped[str] = mapped_column(Text, deferred=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    specs_json: Mapped[str | None] = mapped_column(Text, nullable=True, deferred=True)
    # The forms definition (forms/registry.py format) deployed with this version; None
    # when the process has no forms. content_hash covers it with the BPMN.
    forms_json: Mapped[str | None] = mapped_column(Text, nullable=True, deferred=True)
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deployed_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
