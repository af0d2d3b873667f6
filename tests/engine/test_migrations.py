"""The Alembic migrations and the ORM models describe the same schema, on every backend."""

from __future__ import annotations

import json

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text

from engine import queries, runtime
from engine.db import dispose_engines, get_engine, unit_of_work
from engine.departments import DEPARTMENTS
from engine.migrations import alembic_config
from engine.models import Base, Department
from engine.steps import case_steps
from tests.fixtures.factories import deploy_fixture, make_user


def test_models_and_migrations_do_not_drift(db_url: str) -> None:
    with get_engine(db_url).connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"models and migrations differ; add a migration: {diff}"


def test_migration_seeds_the_five_departments(db_url: str) -> None:
    with unit_of_work(write=False) as s:
        rows = {d.code: (d.name_zh, d.name_en) for d in s.scalars(select(Department))}
    assert rows == {d.code: (d.name_zh, d.name_en) for d in DEPARTMENTS}


def test_the_step_records_migration_fills_submitted_from_the_completion_events(
    db_url: str,
) -> None:
    cathy = make_user("cathy", "staff", department="customer_service")
    eric = make_user("eric", "staff", department="engineering")
    deploy_fixture("two_lane.bpmn")
    with unit_of_work() as s:
        case = runtime.start_instance(s, process_key="two_lane", variables={}, actor=cathy)
        runtime.complete_task(
            s, task_id=case.open_tasks[0].id, variables={"note": "已回电"}, actor=cathy
        )
        instance_id = case.instance.id
    with unit_of_work() as s:
        [review] = queries.open_tasks_of(s, instance_id)
        runtime.complete_task(s, task_id=review.id, variables={"approved": False}, actor=eric)
    with unit_of_work(write=False) as s:
        before = case_steps(s, instance_id)
    assert [step["data"] for step in before] == [{"note": "已回电"}, {"approved": False}]
    config = alembic_config(db_url)
    try:
        command.downgrade(config, "0006")  # a database from before step records
        command.upgrade(config, "head")  # `submitted` filled from the task_completed events
    finally:
        command.upgrade(config, "head")
        dispose_engines()  # pooled connections knew the old table
    with get_engine(db_url).connect() as conn:
        stored = {
            task_id: json.loads(value) if isinstance(value, str) else value
            for task_id, value in conn.execute(
                text("SELECT id, submitted FROM task WHERE state = 'completed'")
            )
        }
    assert stored == {step["task_id"]: step["data"] for step in before}
    with unit_of_work(write=False) as s:
        assert case_steps(s, instance_id) == before
