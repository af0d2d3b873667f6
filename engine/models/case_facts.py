"""Case facts: who and where a case is about, as the vertical that runs it reports."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String, func, literal_column
from sqlalchemy.orm import Mapped, mapped_column

from engine.models.base import Base


class CaseFact(Base):
    """One instance's customer, phone, project and unit (written through `engine.hooks`).

    The inbox filters and searches on these columns and shows them in task lists;
    the history finds a customer's cases by `customer_ref`, the vertical's own id
    of the customer record, which the platform never interprets.
    """

    __tablename__ = "case_fact"
    __table_args__ = (
        # The inbox search (engine.queries): a name fragment by its trigrams on
        # PostgreSQL (pg_trgm; a plain index on SQLite), a phone as the whole number.
        Index(
            "ix_case_fact_customer_name_trgm",
            "customer_name",
            postgresql_using="gin",
            postgresql_ops={"customer_name": "gin_trgm_ops"},
        ),
        Index("ix_case_fact_phone", "phone"),
        # The inbox's project filter probes each listed task's case: from this index
        # alone (no visit to the wider rows).
        Index("ix_case_fact_instance_project", "instance_id", "project"),
    )

    instance_id: Mapped[str] = mapped_column(ForeignKey("instance.id"), primary_key=True)
    customer_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # The inbox's project filter and its list of projects.
    project: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    unit: Mapped[str | None] = mapped_column(String(50), nullable=True)
    # A customer's cases (history search, the customer link of task lists).
    customer_ref: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)


# A phone by its last four digits (engine.privacy.phone_matches): an index on the
# expression itself, so it follows every write of the phone (nothing to keep in step).
Index(
    "ix_case_fact_phone_last4",
    func.substr(CaseFact.phone, func.length(CaseFact.phone) - literal_column("3")),
)
