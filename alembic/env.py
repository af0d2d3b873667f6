"""Alembic environment: migrates the database named by the flowdesk settings
(or by `sqlalchemy.url` set programmatically, as `engine.migrations` does)."""

from __future__ import annotations

from alembic import context

import crm.models  # noqa: F401 - the vertical's tables are part of the schema
from engine.config import get_settings
from engine.db import get_engine
from engine.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url") or get_settings().database_url
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    with get_engine(url).connect() as conn:
        _run(conn)
        conn.commit()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `flowdesk db upgrade`")
run_migrations_online()
