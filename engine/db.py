"""Database engine, sessions and the unit of work.

SQLite (embedded) runs in WAL mode; write transactions start with
`BEGIN IMMEDIATE` so that two writers queue on the database lock instead of
failing half-way with "database is locked". PostgreSQL runs READ COMMITTED and
serializes writers of one instance with row locks.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import select
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, DateTime, Engine, Table, bindparam, create_engine, event, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from engine import clock, wal
from engine.config import get_settings

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()
# Per engine, made once (each costs ~0.2 ms a request when made anew: an option engine
# copies its event dispatch, a session on a new bind sets its own up): the write
# engine's and the read engine's sessionmakers, and the single-statement engine.
_makers: dict[tuple[str, bool], sessionmaker[Session]] = {}
_single: dict[str, Engine] = {}

WRITE_OPTION = "flowdesk_write"
# A connection of single reads: SQLite gets no BEGIN (see `single_statement_engine`).
NO_TRANSACTION_OPTION = "flowdesk_no_transaction"
# Pooled PostgreSQL connections are replaced after this age (firewalls, idle timeouts).
POOL_RECYCLE_SECONDS = 1800


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
        wal.configure_connection(cursor)  # who copies the log back (engine/wal.py)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        options = conn.get_execution_options()
        if options.get(NO_TRANSACTION_OPTION, False):
            return  # sqlite3 runs the statement in its own implicit read transaction
        conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get(WRITE_OPTION, False) else "BEGIN")


def _has_input(dbapi_connection: Any) -> bool:
    """Tell, without a round trip, whether an idle PostgreSQL connection has something to
    read: it should have nothing, but a backend the server ended (pg_terminate_backend,
    a restart, an idle timeout) sent its FATAL message and closed the socket."""
    pgconn = getattr(dbapi_connection, "pgconn", None)
    if pgconn is None:
        return False
    try:
        fd = pgconn.socket
    except Exception:  # noqa: BLE001 - a closed libpq connection has no socket
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


def _configure_postgresql(engine: Engine) -> None:
    """No ping per checkout (it was one statement and one round trip per request): a
    pooled connection with input waiting (see `_has_input`) is pinged, and replaced when
    the ping fails; one that breaks in use invalidates the pool (SQLAlchemy's disconnect
    handling); `pool_recycle` bounds a connection's age."""

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if not _has_input(dbapi_connection):
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # noqa: BLE001 - any failure: replace the connection
            raise DisconnectionError("the server closed this pooled connection") from exc


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
                engine = create_engine(
                    url, connect_args={"timeout": 30}, json_serializer=_json_text
                )
                _configure_sqlite(engine)
            else:
                engine = create_engine(
                    url,
                    pool_size=10,
                    max_overflow=20,
                    pool_pre_ping=False,
                    pool_recycle=POOL_RECYCLE_SECONDS,
                    json_serializer=_json_text,
                )
                _configure_postgresql(engine)
            _engines[url] = engine
        return engine


def single_statement_engine(url: str | None = None) -> Engine:
    """Return the engine for a read of one statement, which needs no transaction around
    it (a statement is atomic by itself): PostgreSQL in autocommit (no BEGIN and no
    ROLLBACK round trips), SQLite without the BEGIN flowdesk sends otherwise. Reads only.
    """
    url = url or get_settings().database_url
    found = _single.get(url)
    if found is None:
        engine = get_engine(url)
        if engine.dialect.name == "postgresql":
            found = engine.execution_options(isolation_level="AUTOCOMMIT")
        else:
            found = engine.execution_options(**{NO_TRANSACTION_OPTION: True})
        _single[url] = found
    return found


def dispose_engines() -> None:
    """Close every pooled connection (tests, forks)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _makers.clear()
        _single.clear()


def is_sqlite(session: Session) -> bool:
    """Tell whether the session talks to SQLite."""
    bind = session.get_bind()
    return bind.dialect.name == "sqlite"


def lock_name(session: Session, name: str) -> None:
    """Hold a lock on `name` until the transaction ends: one writer at a time per name.

    PostgreSQL takes a transaction-level advisory lock on a stable 64-bit hash of the
    name (the same in every process); SQLite write transactions already hold the
    database lock (BEGIN IMMEDIATE).
    """
    if is_sqlite(session):
        return
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest()
    session.execute(
        text("SELECT pg_advisory_xact_lock(:key)"),
        {"key": int.from_bytes(digest, "big", signed=True)},
    )


def _session(write: bool, url: str | None) -> Session:
    url = url or get_settings().database_url
    maker = _makers.get((url, write))
    if maker is None:
        engine = get_engine(url)
        bind = engine.execution_options(**{WRITE_OPTION: True}) if write else engine
        maker = _makers[(url, write)] = sessionmaker(
            bind=bind, expire_on_commit=False, autoflush=False
        )
    return maker()


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


# ---------------------------------------------------------------- bulk writes
#
# Background rounds write thousands of rows per batch. On PostgreSQL each bulk
# write is one statement over `json_to_recordset` (one parameter, one round
# trip); on SQLite it is an executemany, which costs no round trips there.


@dataclass(frozen=True)
class JsonText:
    """A JSON column's value given as its JSON text, written as it is (not serialized
    again): the history serializes an event's data once, to hash it and to store it."""

    text: str


def _json_text(value: Any) -> str:
    """JSON columns store Chinese text as itself, not as \\u escapes (exports pass it on)."""
    if isinstance(value, JsonText):
        return value.text
    return json.dumps(value, ensure_ascii=False)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return clock.utc_text(_aware(value))
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _aware(value: datetime) -> datetime:
    """A bulk write's time, refused when naive (as by every other write)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime in a bulk write")
    return value


_ROWS_ENCODER = json.JSONEncoder(default=_json_default, ensure_ascii=False)  # made once


def rows_json(rows: list[dict[str, Any]]) -> str:
    """Return the one JSON parameter a PostgreSQL bulk write sends for `rows` (the text
    of a `JsonText` value goes in as it is)."""
    given = [k for k, v in rows[0].items() if isinstance(v, JsonText)] if rows else []
    if not given:
        return _ROWS_ENCODER.encode(rows)
    # The columns of given text are the same in every row (one statement's rows); a
    # row's own JsonText elsewhere, or a plain value in one of them, is still sent right.
    names = {k: json.dumps(k) for k in given}
    parts = []
    for row in rows:
        plain = {k: v for k, v in row.items() if not isinstance(v, JsonText)}
        spliced = ",".join(
            f"{names.get(k) or json.dumps(k)}:{v.text}"
            for k, v in row.items()
            if isinstance(v, JsonText)
        )
        text = _ROWS_ENCODER.encode(plain)
        if not spliced:
            parts.append(text)
        else:
            parts.append(f"{{{spliced}}}" if text == "{}" else f"{text[:-1]},{spliced}}}")
    return "[" + ",".join(parts) + "]"


def _recordset(table: Table, columns: list[str], session: Session) -> str:
    dialect = session.get_bind().dialect
    spec = ", ".join(f"{name} {table.c[name].type.compile(dialect=dialect)}" for name in columns)
    return f"json_to_recordset(CAST(:rows AS json)) AS v({spec})"


# Bulk statements by (dialect, kind, table, columns, extra), built once: the history's
# insert runs in every step, and making its text with its typed parameters cost about
# as much as running it.
_bulk_statements: dict[tuple[str, str, str, tuple[str, ...], str], Any] = {}


def _bulk_statement(
    session: Session, kind: str, table: Table, columns: list[str], extra: str
) -> Any:
    dialect = session.get_bind().dialect
    key = (dialect.name, kind, table.name, tuple(columns), extra)
    stmt = _bulk_statements.get(key)
    if stmt is not None:
        return stmt
    names = ", ".join(columns)
    if dialect.name == "sqlite":
        if kind == "insert":
            marks = ", ".join(f":{c}" for c in columns)
            sql = f"INSERT INTO {table.name} ({names}) VALUES ({marks}){extra}"
        else:
            sets = ", ".join(f"{c} = :{c}" for c in columns if c != extra)
            sql = f"UPDATE {table.name} SET {sets} WHERE {extra} = :{extra}"
        stmt = text(sql).bindparams(*[bindparam(c, type_=table.c[c].type) for c in columns])
    else:
        source = _recordset(table, columns, session)
        if kind == "insert":
            sql = f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {source}{extra}"
        else:
            sets = ", ".join(f"{c} = v.{c}" for c in columns if c != extra)
            where = f"{table.name}.{extra} = v.{extra}"
            sql = f"UPDATE {table.name} SET {sets} FROM {source} WHERE {where}"
        stmt = text(sql)
    _bulk_statements[key] = stmt
    return stmt


def bulk_insert(
    session: Session, table: Table, rows: list[dict[str, Any]], *, skip_conflicts_on: str = ""
) -> None:
    """Insert rows (all with the same keys); with `skip_conflicts_on`, skip duplicates."""
    if not rows:
        return
    conflict = f" ON CONFLICT ({skip_conflicts_on}) DO NOTHING" if skip_conflicts_on else ""
    if is_sqlite(session):
        session.execute(_bulk_statement(session, "insert", table, list(rows[0]), conflict), rows)
    elif len(rows) >= COPY_FROM_ROWS and not conflict:
        copy_rows(session, table, rows)
    else:
        stmt = _bulk_statement(session, "insert", table, list(rows[0]), conflict)
        session.execute(stmt, {"rows": rows_json(rows)})


# From this many rows a PostgreSQL bulk insert streams them with COPY (a round's
# thousands of events): half the time of one INSERT from a JSON parameter, which the
# server parses and the client encodes. A step's few rows keep the one INSERT: COPY
# takes a round trip more.
COPY_FROM_ROWS = 50


def copy_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows (all with the same keys) with one `COPY ... FROM STDIN` in the
    session's transaction (PostgreSQL). JSON columns go as their text (a `JsonText` as
    it is); a naive datetime is refused, as by every other write."""
    columns = list(rows[0])
    convert: list[tuple[int, Callable[[Any], Any]]] = []
    for i, name in enumerate(columns):
        function = _copy_converter(table.c[name].type)
        if function is not None:
            convert.append((i, function))
    conn = session.connection()
    raw = conn.connection.driver_connection
    assert raw is not None
    sql = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    values_of = itemgetter(*columns)  # by name: a row's keys in another order go right too
    with raw.cursor() as cursor:
        # the engine's statement listeners (tests, benches) see the COPY like any other
        conn.dispatch.before_cursor_execute(conn, cursor, sql, {}, None, False)
        with cursor.copy(sql) as copy:
            for row in rows:
                values = list(values_of(row)) if len(columns) > 1 else [values_of(row)]
                for i, function in convert:
                    values[i] = function(values[i])
                copy.write_row(values)
        conn.dispatch.after_cursor_execute(conn, cursor, sql, {}, None, False)


def _copy_converter(column_type: Any) -> Callable[[Any], Any] | None:
    """How a value of a column of this type is written by COPY (None: as it is)."""
    if isinstance(column_type, JSON):
        return _copy_json
    if isinstance(getattr(column_type, "impl", column_type), DateTime):
        return _copy_datetime
    return None


def _copy_json(value: Any) -> Any:
    return None if value is None else _json_text(value)


def _copy_datetime(value: Any) -> Any:
    return None if value is None else _aware(value)


def bulk_update(session: Session, table: Table, key: str, rows: list[dict[str, Any]]) -> None:
    """Update rows by `key` (every row gives the key and the same other columns)."""
    if not rows:
        return
    stmt = _bulk_statement(session, "update", table, list(rows[0]), key)
    if is_sqlite(session):
        session.execute(stmt, rows)
    else:
        session.execute(stmt, {"rows": rows_json(rows)})
