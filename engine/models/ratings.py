"""The ratings of the staff scorecards, credited to the people who worked each case."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, UTCDateTime


class RatingCredit(Base):
    """One rating of a case credited to one person who had completed a task of the case
    by the time it was given (engine/scorecards.py), written with the rating.

    A rating is a staff-recorded score (`source` "staff") or the customer's own answer
    ("customer"); `ref` tells two ratings of one source apart. Crediting at the moment
    of the rating keeps the scorecards from joining a year's ratings to the tasks of
    their cases on every reading.
    """

    __tablename__ = "rating_credit"
    __table_args__ = (
        UniqueConstraint("source", "ref", "username"),
        # A period's credits, counted from the index alone.
        Index("ix_rating_credit_at", "at", "username", "source", "ref", "score"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(16))
    ref: Mapped[str] = mapped_column(String(64))
    username: Mapped[str] = mapped_column(String(80))
    instance_id: Mapped[str] = mapped_column(String(36))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    score: Mapped[int] = mapped_column(Integer)
