"""Handovers: one user's open work moved to colleagues, kept so it can be handed back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, UTCDateTime


class Handover(Base):
    """What one handover moved: `moves` is `{"tasks": [{"task_id", "instance_id", "to"}],
    "cases": [{"instance_id", "variables", "to"}]}`; a hand-back sets `returned_*`."""

    __tablename__ = "handover"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    from_user: Mapped[str] = mapped_column(String(80), index=True)
    to_users: Mapped[list[str]] = mapped_column(JSON)
    department: Mapped[str | None] = mapped_column(String(40), nullable=True)
    actor: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    moves: Mapped[dict[str, Any]] = mapped_column(JSON)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    returned_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
