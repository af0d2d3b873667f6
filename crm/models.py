"""Real-estate records: customers (one per phone), their leads, complaints and units.

They share the platform's `Base`, so one metadata (and one chain of migrations)
describes the whole schema once the vertical is imported.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, func, literal_column
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base, UTCDateTime


class Customer(Base):
    __tablename__ = "customer"
    __table_args__ = (
        # GET /customers?q=: a name fragment by its trigrams on PostgreSQL (pg_trgm;
        # a plain index on SQLite); the whole phone is the unique index.
        Index(
            "ix_customer_name_trgm",
            "name",
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


# A phone by its last four digits (engine.privacy.phone_matches): an index on the
# expression itself, so it follows every write of the phone (nothing to keep in step).
Index(
    "ix_customer_phone_last4",
    func.substr(Customer.phone, func.length(Customer.phone) - literal_column("3")),
)


class Lead(Base):
    """One lead (a `lead_follow_up` instance) of a customer for a project."""

    __tablename__ = "lead"
    __table_args__ = (Index("ix_lead_project_consultant", "project", "consultant"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instance.id"), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    project: Mapped[str] = mapped_column(String(100))
    source: Mapped[str | None] = mapped_column(String(20), nullable=True)
    referrer_phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    stage: Mapped[str] = mapped_column(String(20))
    consultant: Mapped[str | None] = mapped_column(String(80), nullable=True)
    lost_reason: Mapped[str | None] = mapped_column(String(20), nullable=True)
    outcome: Mapped[str] = mapped_column(String(20))  # open | won | lost | cancelled
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class LeadStage(Base):
    """A lead entering a stage (the funnel reads this)."""

    __tablename__ = "lead_stage"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id"), index=True)
    stage: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    by: Mapped[str] = mapped_column(String(80))
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)


class Complaint(Base):
    """One complaint (a `complaint_handling` instance) of a customer."""

    __tablename__ = "complaint"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instance.id"), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    project: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    unit: Mapped[str | None] = mapped_column(String(50), nullable=True)
    category: Mapped[str] = mapped_column(String(30))
    severity: Mapped[str] = mapped_column(String(10))
    channel: Mapped[str | None] = mapped_column(String(20), nullable=True)
    description: Mapped[str] = mapped_column(Text)
    responsible_department: Mapped[str | None] = mapped_column(String(40), nullable=True)
    status: Mapped[str] = mapped_column(String(20))  # open | closed | cancelled
    satisfaction: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class UnitOwnership(Base):
    """A customer owning a unit, from a signed contract."""

    __tablename__ = "unit_ownership"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    project: Mapped[str] = mapped_column(String(100))
    unit: Mapped[str | None] = mapped_column(String(50), nullable=True)
    contract_no: Mapped[str] = mapped_column(String(50))
    amount: Mapped[float | None] = mapped_column(nullable=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("lead.id"), nullable=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime)


class SurveyLink(Base):
    """A one-time link for the customer's own satisfaction answer on a complaint.

    Only the SHA-256 of the token is kept: the link is shown once, when it is made."""

    __tablename__ = "survey_link"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instance.id"), index=True)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
