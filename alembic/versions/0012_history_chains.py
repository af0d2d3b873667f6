"""history chains per case

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02

Every event used to lock the one `history_head` row: all writes of all cases queued
on it. From this revision each case's events form their own chain (its head on the
instance row), events of no case form the `system` chain and the SLA clock's the
`rounds` chain (heads in `history_chain`); the rounds seal all moved heads into the
`history_checkpoint` chain. Events written before stay as they are: their global
chain ends at the frozen `history_head`, and no event is rewritten.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
_SEQ = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("history_event") as batch:
        batch.add_column(sa.Column("chain", sa.String(40), nullable=True))
        batch.add_column(sa.Column("prev_seq", _SEQ, nullable=True))
        batch.create_index("ix_history_event_chain_seq", ["chain", "seq"])
    with op.batch_alter_table("instance") as batch:
        batch.add_column(sa.Column("history_seq", _SEQ, nullable=False, server_default="0"))
        batch.add_column(sa.Column("history_hash", sa.String(64), nullable=True))
    chain = op.create_table(
        "history_chain",
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("last_seq", _SEQ, nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_history_chain")),
    )
    op.bulk_insert(
        chain,
        [
            {"name": n, "last_seq": 0, "last_hash": GENESIS}
            for n in ("system", "rounds", "checkpoint")
        ],
    )
    op.create_table(
        "history_checkpoint",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("through_seq", _SEQ, nullable=False),
        sa.Column("heads", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_history_checkpoint")),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Appenders take seqs from a sequence (SQLite serializes writers: max + 1).
        op.execute("CREATE SEQUENCE history_event_seq_seq OWNED BY history_event.seq")
        op.execute(
            "SELECT setval('history_event_seq_seq', max(seq)) FROM history_event "
            "HAVING max(seq) IS NOT NULL"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP SEQUENCE IF EXISTS history_event_seq_seq")
    op.drop_table("history_checkpoint")
    op.drop_table("history_chain")
    # Plain ALTER TABLE (SQLite 3.35+ too): a batch copy of `instance` trips its keys.
    op.drop_index("ix_history_event_chain_seq", table_name="history_event")
    for table, column in (
        ("instance", "history_hash"),
        ("instance", "history_seq"),
        ("history_event", "prev_seq"),
        ("history_event", "chain"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
