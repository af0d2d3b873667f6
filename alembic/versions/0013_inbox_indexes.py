"""indexes for every inbox view at a million open tasks

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-02

Each inbox tab, filter and search, and GET /tasks and GET /customers?q=, read an
index that matches them (engine/queries.py, crm/customers.py):

- the SLA filter: (department, state, sla_status, due_at) and (state, sla_status,
  due_at), in due order and counted from the index; the process and step filters
  of GET /tasks: (process_key | element_id, state, due_at);
- the escalated tab: partial indexes of the escalated tasks only, by department
  and overall;
- a phone by its last four digits: an index on the expression
  substr(phone, length(phone) - 3) of customers and case facts (it follows every
  write of the phone); the whole phone of a case by a plain index;
- a name or business-key fragment: trigram indexes (pg_trgm, GIN) on PostgreSQL;
  SQLite takes plain indexes of the same names and keeps scanning.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

ESCALATED = "escalation_level > 0"


def _trigram_index(name: str, table: str, column: str) -> None:
    op.create_index(
        name,
        table,
        [column],
        postgresql_using="gin",
        postgresql_ops={column: "gin_trgm_ops"},
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_index(
        "ix_task_department_state_sla_due", "task", ["department", "state", "sla_status", "due_at"]
    )
    op.create_index("ix_task_state_sla_due", "task", ["state", "sla_status", "due_at"])
    op.create_index("ix_task_process_state_due", "task", ["process_key", "state", "due_at"])
    op.create_index("ix_task_element_state_due", "task", ["element_id", "state", "due_at"])
    op.create_index(
        "ix_task_escalated_department",
        "task",
        ["department", "state", "due_at"],
        postgresql_where=sa.text(ESCALATED),
        sqlite_where=sa.text(ESCALATED),
    )
    op.create_index(
        "ix_task_escalated",
        "task",
        ["state", "due_at"],
        postgresql_where=sa.text(ESCALATED),
        sqlite_where=sa.text(ESCALATED),
    )
    op.create_index("ix_case_fact_phone", "case_fact", ["phone"])
    op.create_index(
        "ix_case_fact_phone_last4", "case_fact", [sa.text("substr(phone, length(phone) - 3)")]
    )
    op.create_index(
        "ix_customer_phone_last4", "customer", [sa.text("substr(phone, length(phone) - 3)")]
    )
    _trigram_index("ix_case_fact_customer_name_trgm", "case_fact", "customer_name")
    _trigram_index("ix_instance_business_key_trgm", "instance", "business_key")
    _trigram_index("ix_customer_name_trgm", "customer", "name")


def downgrade() -> None:
    for name, table in (
        ("ix_customer_name_trgm", "customer"),
        ("ix_instance_business_key_trgm", "instance"),
        ("ix_case_fact_customer_name_trgm", "case_fact"),
        ("ix_customer_phone_last4", "customer"),
        ("ix_case_fact_phone_last4", "case_fact"),
        ("ix_case_fact_phone", "case_fact"),
        ("ix_task_escalated", "task"),
        ("ix_task_escalated_department", "task"),
        ("ix_task_element_state_due", "task"),
        ("ix_task_process_state_due", "task"),
        ("ix_task_state_sla_due", "task"),
        ("ix_task_department_state_sla_due", "task"),
    ):
        op.drop_index(name, table_name=table)
