"""Test databases built by the real migrations: SQLite always, PostgreSQL when
FLOWDESK_TEST_DATABASE_URL is set (`make test` sets it under CI=true, where an
unreachable server fails the run instead of skipping)."""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import crm
from engine import clock
from engine.config import get_settings
from engine.db import dispose_engines, get_engine
from engine.departments import DEPARTMENTS
from engine.identity import use_low_cost_hashing_for_tests
from engine.migrations import upgrade_database

# The browser tests' `server` and `browser` fixtures, for any test module.
pytest_plugins = ["tests.fixtures.browser"]

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
PG_URL = os.environ.get("FLOWDESK_TEST_DATABASE_URL")
IN_CI = os.environ.get("CI") == "true"
# The key of PostgreSQL runs (servers refuse to start without one); random per run.
TEST_SECRET_KEY = secrets.token_urlsafe(32)

# Production-strength argon2 for every test user cost most of the suite's time.
use_low_cost_hashing_for_tests()

# The adapters install the vertical at start-up; tests that drive the engine directly
# need its step hook too, and its tables in `Base.metadata` (emptied below).
crm.install()

# Tables that keep their rows between tests (seeded by the migrations).
KEEP = {"department", "alembic_version", "history_head", "history_chain", "audit_check"}


def _backends() -> list:
    params = [pytest.param("sqlite", id="sqlite")]
    skip = pytest.mark.skip(
        reason="PostgreSQL not tested: FLOWDESK_TEST_DATABASE_URL is not "
        "set (make test sets it when a server answers on 127.0.0.1:5432)"
    )
    params.append(pytest.param("postgresql", id="postgresql", marks=[] if PG_URL else [skip]))
    return params


def _create_pg_database(server_url: str) -> str:
    url = make_url(server_url)
    name = f"{url.database or 'flowdesk_test'}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - re-raised as a clear failure
        pytest.exit(
            f"PostgreSQL at {url.host}:{url.port} is unreachable ({exc}); "
            "under CI=true the PostgreSQL tests must run",
            returncode=3,
        )
    finally:
        admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _drop_pg_database(db_url: str) -> None:
    url = make_url(db_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Create and migrate one database per backend for the whole run."""
    urls = {"sqlite": f"sqlite:///{tmp_path_factory.mktemp('db') / 'flowdesk.db'}"}
    if PG_URL:
        urls["postgresql"] = _create_pg_database(PG_URL)
    for url in urls.values():
        upgrade_database(url)
    yield urls
    dispose_engines()
    if "postgresql" in urls:
        _drop_pg_database(urls["postgresql"])


def _empty_tables(url: str) -> None:
    from engine.definitions import SPEC_CACHE
    from engine.models import Base

    SPEC_CACHE.clear()  # emptied tables hand out the same version ids again
    from engine import calendar

    calendar.clear_cache()  # loaded calendar years go with the tables
    from engine.sla.planning import forget_department_calendars

    forget_department_calendars()  # and the departments' calendars with them
    engine = get_engine(url)
    tables = [t.name for t in Base.metadata.sorted_tables if t.name not in KEEP]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # DELETE of a test's few rows and a reset of the sequences take ~20 ms;
            # TRUNCATE makes new files for every table and index (~300 ms a test).
            deletes = "; ".join(f"DELETE FROM {name}" for name in reversed(tables))
            conn.exec_driver_sql(
                f"{deletes}; SELECT setval(s.oid, 1, false) FROM pg_class s "
                "JOIN pg_depend d ON d.objid = s.oid AND d.deptype IN ('a', 'i') "
                "JOIN pg_class t ON t.oid = d.refobjid "
                f"WHERE s.relkind = 'S' AND t.relname IN ({', '.join(repr(n) for n in tables)})"
            )
        else:
            for name in reversed(tables):
                conn.execute(text(f"DELETE FROM {name}"))
        conn.execute(text("UPDATE history_head SET last_seq = 0, last_hash = :h"), {"h": "0" * 64})
        conn.execute(text("UPDATE history_chain SET last_seq = 0, last_hash = :h"), {"h": "0" * 64})
        # Departments stay, as the migrations seeded them: names and calendars put back.
        conn.execute(
            text(
                "UPDATE department SET name_zh = :zh, name_en = :en, calendar = NULL "
                "WHERE code = :c"
            ),
            [{"c": d.code, "zh": d.name_zh, "en": d.name_en} for d in DEPARTMENTS],
        )
        conn.execute(
            text(
                "UPDATE audit_check SET verified_seq = 0, verified_hash = :h, ok = :ok, "
                "checked_at = NULL, first_bad_seq = NULL, problem = NULL"
            ),
            {"h": "0" * 64, "ok": True},
        )


@pytest.fixture(params=_backends())
def db_url(
    request: pytest.FixtureRequest,
    database_urls: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[str]:
    """Point flowdesk at an emptied database of each backend in turn."""
    url = database_urls[request.param]
    _empty_tables(url)
    monkeypatch.setenv("FLOWDESK_DATABASE_URL", url)
    # Each test's rounds witness the history head in a file of its own.
    monkeypatch.setenv("FLOWDESK_WITNESS_FILE", str(tmp_path / "witness.jsonl"))
    if request.param == "postgresql":
        # A server install refuses to run without a key; SQLite makes its own (tested).
        monkeypatch.setenv("FLOWDESK_SECRET_KEY", TEST_SECRET_KEY)
    get_settings.cache_clear()
    yield url
    clock.set_global_time(None)
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def _close_api_clients() -> Iterator[None]:
    yield
    from tests.fixtures.api_client import Api

    Api.close_all()


def pytest_report_header(config: pytest.Config) -> list[str]:
    if PG_URL:
        return [f"flowdesk: PostgreSQL tests ON ({make_url(PG_URL).host})"]
    return [
        "flowdesk: PostgreSQL tests SKIPPED: FLOWDESK_TEST_DATABASE_URL is not set "
        "(make test sets it when CI=true or when a server answers on 127.0.0.1:5432)"
    ]
