"""SQLite's log copied back by a thread of the API process, not inside commits."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from engine import wal
from engine.db import NO_TRANSACTION_OPTION, get_engine


@pytest.fixture
def no_checkpointers() -> Iterator[None]:
    yield
    for running in list(wal._started.values()):
        running.stop()
    wal._started.clear()


def _engine(tmp_path: Path, name: str) -> Engine:
    return get_engine(f"sqlite:///{tmp_path / name}")


def _write_pages(engine: Engine, rows: int) -> None:
    """`rows` commits of one 4 KB row each: at least a page of log apiece."""
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS filler (body BLOB)"))
    for _ in range(rows):
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO filler VALUES (randomblob(4000))"))


def _unread(engine: Engine) -> Engine:
    return engine.execution_options(**{NO_TRANSACTION_OPTION: True})


def test_a_served_process_s_connections_checkpoint_only_past_the_backstop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(wal.ENV, "background")
    with _engine(tmp_path, "served.db").connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == wal.BACKSTOP_PAGES
    monkeypatch.delenv(wal.ENV)
    with _engine(tmp_path, "command.db").connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == wal.DEFAULT_PAGES


def test_commits_leave_the_log_to_the_thread_only_in_a_served_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """1 200 commits of a page or more: SQLite's default copies the log back inside one
    of them (the log starts over, under 1 000 pages); a served process's commits leave
    it whole for the thread."""
    monkeypatch.setenv(wal.ENV, "background")
    served = _engine(tmp_path, "served.db")
    _write_pages(served, 1_200)
    left = wal.checkpoint(_unread(served))
    assert left.log_pages > wal.DEFAULT_PAGES
    assert left.copied_pages == left.log_pages  # and the checkpoint took it all back

    monkeypatch.delenv(wal.ENV)
    command = _engine(tmp_path, "command.db")
    _write_pages(command, 1_200)
    assert wal.checkpoint(_unread(command)).log_pages < wal.DEFAULT_PAGES + 50


def test_the_thread_copies_the_log_back_while_writers_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(wal.ENV, "background")
    engine = _engine(tmp_path, "served.db")
    checkpointer = wal.Checkpointer(_unread(engine), interval=0.02).start()
    try:
        for _ in range(2):  # it goes on round after round
            _write_pages(engine, 150)
            # a round that began after the writes: it saw every page they wrote
            after = checkpointer.rounds + 1
            deadline = time.monotonic() + 10
            while checkpointer.rounds <= after and time.monotonic() < deadline:
                time.sleep(0.02)
            assert checkpointer.rounds > after
            assert checkpointer.last is not None and checkpointer.last.log_pages > 0
            assert checkpointer.last.copied_pages == checkpointer.last.log_pages
    finally:
        checkpointer.stop()
    assert not checkpointer.thread.is_alive()
    with engine.connect() as conn:  # every row is there, read from the database file
        assert conn.execute(text("SELECT count(*) FROM filler")).scalar() == 300
    after = wal.checkpoint(_unread(engine))
    assert after.copied_pages == after.log_pages  # nothing was left behind


def test_a_served_app_checkpoints_its_sqlite_database_in_one_thread(
    db_url: str, monkeypatch: pytest.MonkeyPatch, no_checkpointers: None
) -> None:
    """The app started by `flowdesk serve` runs the thread on SQLite, once however many
    times it starts; PostgreSQL has no such log to copy back, and no thread."""
    from fastapi.testclient import TestClient

    from api.app import create_app

    monkeypatch.setenv(wal.ENV, "background")
    with TestClient(create_app()) as client:
        assert client.get("/healthz").status_code == 200
    with TestClient(create_app()):
        pass
    running = list(wal._started.values())
    if db_url.startswith("sqlite"):
        assert len(running) == 1 and running[0].thread.is_alive()
        assert running[0].thread.name == "flowdesk-sqlite-checkpoint"
    else:
        assert running == []


def test_an_app_not_started_by_serve_leaves_checkpoints_to_sqlite(
    db_url: str, monkeypatch: pytest.MonkeyPatch, no_checkpointers: None
) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app

    monkeypatch.delenv(wal.ENV, raising=False)
    with TestClient(create_app()) as client:
        assert client.get("/healthz").status_code == 200
    assert wal._started == {}
