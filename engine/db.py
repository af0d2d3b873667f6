"""Database engine, sessions and the unit of work.

SQLite (embedded) runs in WAL mode; write transactions start with
`BEGIN IMMEDIATE` so that two writers queue on the database lock instead of
failing half-way with "database is locked". PostgreSQL runs READ COMMITTED and
serializes writers of one instance with row locks.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from engine.config import get_settings

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()

WRITE_OPTION = "flowdesk_write"


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's begin event below decide how each transaction starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        write = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def get_engine(url: str | None = None) -> Engine:
    """Return the (cached) SQLAlchemy engine for `url`, default the configured database."""
    url = url or get_settings().database_url
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            if url.startswith("sqlite"):
                path = url.split("///", 1)[-1]
                if path and path != ":memory:":
                    Path(path).parent.mkdir(parents=True, exist_ok=True)
                engine = create_engine(url, connect_args={"timeout": 30})
                _configure_sqlite(engine)
            else:
                engine = create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
            _engines[url] = engine
        return engine


def dispose_engines() -> None:
    """Close every pooled connection (tests, forks)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def is_sqlite(session: Session) -> bool:
    """Tell whether the session talks to SQLite."""
    bind = session.get_bind()
    return bind.dialect.name == "sqlite"


def _session(write: bool, url: str | None) -> Session:
    engine = get_engine(url)
    bind = engine.execution_options(**{WRITE_OPTION: True}) if write else engine
    return sessionmaker(bind=bind, expire_on_commit=False, autoflush=False)()


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run `callback` once the session's transaction commits; drop it on rollback."""
    session.info.setdefault("after_commit", []).append(callback)


@contextlib.contextmanager
def unit_of_work(*, write: bool = True, url: str | None = None) -> Iterator[Session]:
    """Open a session for one operation: commit at the end, roll back on any error."""
    session = _session(write, url)
    try:
        yield session
        if write:
            session.commit()
        # A read-only session just closes: its objects stay readable after the block.
    except BaseException:
        session.rollback()
        session.info.pop("after_commit", None)
        raise
    finally:
        session.close()
    for callback in session.info.pop("after_commit", []):
        callback()
