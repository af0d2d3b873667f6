"""The Alembic migrations and the ORM models describe the same schema, on every backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from engine.db import get_engine, unit_of_work
from engine.departments import DEPARTMENTS
from engine.models import Base, Department


def test_models_and_migrations_do_not_drift(db_url: str) -> None:
    with get_engine(db_url).connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"models and migrations differ; add a migration: {diff}"


def test_migration_seeds_the_five_departments(db_url: str) -> None:
    with unit_of_work(write=False) as s:
        rows = {d.code: (d.name_zh, d.name_en) for d in s.scalars(select(Department))}
    assert rows == {d.code: (d.name_zh, d.name_en) for d in DEPARTMENTS}
