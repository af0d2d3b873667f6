"""case facts: the customer, phone, project and unit of every case, for the inbox

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24

The inbox and the history used to join the complaint, lead and customer tables;
they now read `case_fact`, which the real-estate vertical keeps from its step
hook. Cases recorded before this revision get theirs from those tables here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# The same facts the vertical's step hook writes: the customer record's name and
# phone, the case's project and unit (a lead's unit is the one its contract signed),
# and the customer record's id as text.
_COMPLAINT_FACTS = """
INSERT INTO case_fact (instance_id, customer_name, phone, project, unit, customer_ref)
SELECT c.instance_id, cu.name, cu.phone, NULLIF(c.project, ''), NULLIF(c.unit, ''),
       CAST(cu.id AS VARCHAR(64))
FROM complaint c JOIN customer cu ON cu.id = c.customer_id
"""
_LEAD_FACTS = """
INSERT INTO case_fact (instance_id, customer_name, phone, project, unit, customer_ref)
SELECT l.instance_id, cu.name, cu.phone, NULLIF(l.project, ''),
       (SELECT NULLIF(MAX(u.unit), '') FROM unit_ownership u WHERE u.lead_id = l.id),
       CAST(cu.id AS VARCHAR(64))
FROM lead l JOIN customer cu ON cu.id = l.customer_id
WHERE l.instance_id NOT IN (SELECT instance_id FROM case_fact)
"""


def upgrade() -> None:
    op.create_table(
        "case_fact",
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("customer_name", sa.String(length=100), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("project", sa.String(length=100), nullable=True),
        sa.Column("unit", sa.String(length=50), nullable=True),
        sa.Column("customer_ref", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instance.id"], name=op.f("fk_case_fact_instance_id_instance")
        ),
        sa.PrimaryKeyConstraint("instance_id", name=op.f("pk_case_fact")),
    )
    with op.batch_alter_table("case_fact", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_fact_project"), ["project"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_case_fact_customer_ref"), ["customer_ref"], unique=False
        )
    op.execute(_COMPLAINT_FACTS)
    op.execute(_LEAD_FACTS)


def downgrade() -> None:
    with op.batch_alter_table("case_fact", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_fact_customer_ref"))
        batch_op.drop_index(batch_op.f("ix_case_fact_project"))
    op.drop_table("case_fact")
