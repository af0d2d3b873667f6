"""The connection pool: no ping per request, and a server that outlives its database
connections (PostgreSQL terminates them: pg_terminate_backend, a restart, an idle
timeout)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from engine.db import get_engine, unit_of_work
from tests.fixtures.api_client import Api
from tests.fixtures.factories import make_user


def _terminate_pooled_connections(url: str) -> int:
    """End every session of the test database but the one asking; return how many."""
    u = make_url(url)
    admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        ended = list(
            conn.execute(
                text(
                    "WITH doomed AS MATERIALIZED (SELECT pid FROM pg_stat_activity "
                    "WHERE datname = :d AND pid <> pg_backend_pid()) "
                    "SELECT pid FROM doomed WHERE pg_terminate_backend(pid)"
                ),
                {"d": u.database},
            ).scalars()
        )
        # The signal is sent at once, the backends end a moment later: wait for them
        # to be gone, as a client finds a connection the server ended only after.
        for _ in range(100):
            left = conn.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)"),
                {"pids": ended},
            ).scalar()
            if not left:
                break
            time.sleep(0.05)
    admin.dispose()
    return len(ended)


def _only_postgresql(url: str) -> None:
    if not url.startswith("postgresql"):
        pytest.skip("SQLite has no server to drop connections (the file is opened in-process)")


def test_a_healthy_pool_sends_no_ping(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = get_engine(db_url)
    pings: list[object] = []
    real = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda c: pings.append(c) or real(c))
    for _ in range(5):
        with unit_of_work(write=False) as session:
            assert session.execute(text("SELECT 1")).scalar() == 1
    assert pings == []


def test_the_engine_replaces_connections_the_server_ended(db_url: str) -> None:
    _only_postgresql(db_url)
    with unit_of_work(write=False) as a, unit_of_work(write=False) as b:
        a.execute(text("SELECT 1"))
        b.execute(text("SELECT 1"))  # two connections in the pool
    assert _terminate_pooled_connections(db_url) >= 2
    for _ in range(3):  # every pooled one is found dead before use, none fails a request
        with unit_of_work() as session:
            assert session.execute(text("SELECT 1")).scalar() == 1


def test_the_api_answers_after_its_connections_were_killed(db_url: str) -> None:
    _only_postgresql(db_url)
    make_user("cathy", "staff", department="customer_service")
    api = Api()
    assert api.get("/tasks", "cathy").status_code == 200
    assert api.client.get("/healthz").status_code == 200
    assert _terminate_pooled_connections(db_url) >= 1
    assert api.client.get("/healthz").status_code == 200
    assert api.get("/tasks", "cathy").status_code == 200
    assert _terminate_pooled_connections(db_url) >= 1
    assert api.get("/tasks", "cathy").status_code == 200


def test_a_live_connection_with_input_waiting_is_kept(db_url: str) -> None:
    """Input on an idle connection is not proof of death (a notification, a parameter
    report): the connection is pinged and kept when it answers."""
    _only_postgresql(db_url)
    get_engine(db_url).dispose()  # one pooled connection: the next checkout gets it again
    engine = get_engine(db_url).execution_options(isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        conn.execute(text("LISTEN flowdesk_pool_test"))
    other = create_engine(db_url, isolation_level="AUTOCOMMIT")
    with other.connect() as conn:
        conn.execute(text("NOTIFY flowdesk_pool_test"))
    other.dispose()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar() == pid
        conn.execute(text("UNLISTEN *"))
