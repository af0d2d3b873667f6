"""rating credits of the staff scorecards; the open tasks paused

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03

A scorecard credited each rating of the period (a return visit's score, a customer's
survey answer) to everyone who had completed a task of its case by then, joining a
year's ratings to the tasks of their cases on every reading: 600–700 ms at a million
tasks. The credits are now written as each rating is given (engine/scorecards.py);
this fills them for the ratings given so far, by the same rule.

The SLA report adds up the pauses running now: a partial index finds the few open tasks
paused (45 ms through the open tasks' index before, at 25 000 open tasks).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_task = sa.table(
    "task",
    sa.column("id", sa.String),
    sa.column("instance_id", sa.String),
    sa.column("process_key", sa.String),
    sa.column("element_id", sa.String),
    sa.column("state", sa.String),
    sa.column("completed_at", sa.DateTime(timezone=True)),
    sa.column("completed_by", sa.String),
    sa.column("submitted", sa.JSON),
)
_survey = sa.table(
    "survey_link",
    sa.column("id", sa.Integer),
    sa.column("instance_id", sa.String),
    sa.column("answered_at", sa.DateTime(timezone=True)),
    sa.column("score", sa.Integer),
)
_COLUMNS = ("username", "source", "ref", "instance_id", "at", "score")


def _ratings() -> sa.Subquery:
    visit = _task.alias("visit")
    score = visit.c.submitted["satisfaction"].as_integer()
    visits = sa.select(
        visit.c.instance_id,
        visit.c.completed_at.label("at"),
        sa.literal("staff", sa.String).label("source"),
        score.label("score"),
        visit.c.id.label("ref"),
    ).where(
        visit.c.process_key == "complaint_handling",
        visit.c.element_id == "return_visit",
        visit.c.state == "completed",
        score.is_not(None),
    )
    answers = sa.select(
        _survey.c.instance_id,
        _survey.c.answered_at,
        sa.literal("customer", sa.String),
        _survey.c.score,
        sa.cast(_survey.c.id, sa.String),
    ).where(_survey.c.score.is_not(None))
    return sa.union_all(visits, answers).subquery("ratings")


def upgrade() -> None:
    credit = op.create_table(
        "rating_credit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rating_credit")),
        sa.UniqueConstraint("source", "ref", "username", name=op.f("uq_rating_credit_source")),
    )
    op.create_index(
        "ix_rating_credit_at", "rating_credit", ["at", "username", "source", "ref", "score"]
    )
    where = sa.text("state = 'open' AND paused_at IS NOT NULL")
    op.create_index(
        "ix_task_paused_open",
        "task",
        ["created_at"],
        postgresql_where=where,
        sqlite_where=where,
    )
    ratings = _ratings()
    credits = (
        sa.select(
            _task.c.completed_by,
            ratings.c.source,
            ratings.c.ref,
            ratings.c.instance_id,
            ratings.c.at,
            ratings.c.score,
        )
        .join(ratings, ratings.c.instance_id == _task.c.instance_id)
        .where(
            _task.c.state == "completed",
            _task.c.completed_at <= ratings.c.at,
            _task.c.completed_by.is_not(None),
        )
        .distinct()
    )
    op.execute(credit.insert().from_select(_COLUMNS, credits))


def downgrade() -> None:
    op.drop_index("ix_task_paused_open", table_name="task")
    op.drop_index("ix_rating_credit_at", table_name="rating_credit")
    op.drop_table("rating_credit")
