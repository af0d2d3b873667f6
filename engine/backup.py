"""`flowdesk backup` and `flowdesk restore`: a consistent copy of the whole database
taken while the server runs, and putting one back.

SQLite copies with its online backup API (one step under one read transaction, so
writers carry on in WAL mode and the copy is one instant); the copy is itself a
SQLite database. PostgreSQL is dumped by `pg_dump --format=custom` of the server's
own major version, on a snapshot exported from a transaction that also reads the
history's head, so the head written beside the backup is exactly the dump's.
Each file says its kind by its format's own magic (`SQLite format 3`, `PGDMP`).
Beside every backup, `FILE.witness.json` holds its head (engine/witness.py).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from engine import clock
from engine.config import get_settings
from engine.errors import FlowdeskError
from engine.witness import (
    NEWEST_CHECKPOINT_SQL,
    NEWEST_EVENT_SQL,
    WitnessedHead,
    append_head,
    head_of,
    read_witness,
)

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
_MAGIC = {SQLITE: b"SQLite format 3\x00", POSTGRESQL: b"PGDMP"}
_KIND_NAMES = {SQLITE: "a SQLite backup", POSTGRESQL: "a PostgreSQL backup (pg_dump)"}
# Tables the migrations fill themselves: rows there do not make a database non-empty.
_SEEDED_TABLES = {"alembic_version", "department", "history_head", "history_chain", "audit_check"}


class BackupError(FlowdeskError):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    kind: str
    head: WitnessedHead
    tool: str | None = None


@dataclass(frozen=True)
class RestoreResult:
    kind: str
    head: WitnessedHead
    tool: str | None = None
    # The newest head the configured witness file saw, when the restored history ends before it.
    witnessed_ahead: WitnessedHead | None = None


def sidecar_path(path: Path) -> Path:
    """Return where the head of the backup at `path` is written."""
    return path.with_name(path.name + ".witness.json")


def backup_kind(path: Path) -> str:
    """Return the kind of backup file at `path` from its first bytes."""
    try:
        with path.open("rb") as handle:
            start = handle.read(16)
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc.strerror}") from None
    for kind, magic in _MAGIC.items():
        if start.startswith(magic):
            return kind
    raise BackupError(
        f"{path} is not a flowdesk backup (neither a SQLite file nor a pg_dump archive)"
    )


def _kind_of(url: URL) -> str:
    backend = url.get_backend_name()
    if backend not in (SQLITE, POSTGRESQL):
        raise BackupError(f"backups support SQLite and PostgreSQL, not {backend}")
    return backend


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(url.database)


# ---------------------------------------------------------------- PostgreSQL tools


def _tool_major(tool: str) -> int | None:
    try:
        out = subprocess.run(
            [tool, "--version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except OSError:
        return None
    match = re.search(r"\(PostgreSQL\) (\d+)", out)
    return int(match.group(1)) if match else None


def find_pg_tool(name: str, major: int) -> str:
    """Return the path of `pg_dump` or `pg_restore` of PostgreSQL `major`.

    Looked for in FLOWDESK_PG_BIN, the usual per-version folders (Debian/Ubuntu,
    RHEL, Homebrew) and PATH; only a tool of the server's own major version is used.
    """
    folders = [os.environ.get("FLOWDESK_PG_BIN", "")] + [
        f"/usr/lib/postgresql/{major}/bin",
        f"/usr/pgsql-{major}/bin",
        f"/opt/homebrew/opt/postgresql@{major}/bin",
        f"/usr/local/opt/postgresql@{major}/bin",
    ]
    candidates = [str(Path(f) / name) for f in folders if f]
    on_path = shutil.which(name)
    if on_path:
        candidates.append(on_path)
    seen: list[str] = []
    for candidate in candidates:
        if not (os.path.isfile(candidate) and os.access(candidate, os.X_OK)):
            continue
        found = _tool_major(candidate)
        if found == major:
            return candidate
        seen.append(f"{candidate} is PostgreSQL {found}")
    found_text = f" ({'; '.join(seen)})" if seen else ""
    raise BackupError(
        f"no {name} of PostgreSQL {major} (the server's version) found{found_text}: install "
        f"the PostgreSQL {major} client programs or set FLOWDESK_PG_BIN to their folder"
    )


def _libpq_args(url: URL) -> tuple[str, dict[str, str]]:
    """Return a libpq connection URI without the password, and the environment giving it."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    conninfo = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return conninfo, env


def _run_tool(argv: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        tool = Path(argv[0]).name
        raise BackupError(f"{tool} failed (exit {done.returncode}): {done.stderr.strip()}")


def _server_major(conn: Connection) -> int:
    number = conn.exec_driver_sql("SHOW server_version_num").scalar_one()
    return int(number) // 10000


# ---------------------------------------------------------------- backup


def _head_of(query: Any) -> WitnessedHead:
    """The history head through `query(sql)` (a function returning the first row or None)."""
    try:
        query("SELECT last_seq FROM history_head WHERE id = 1")
        event = query(NEWEST_EVENT_SQL)
    except (sqlite3.DatabaseError, SQLAlchemyError):
        raise BackupError(
            "the database has no history head: is it a migrated flowdesk database?"
        ) from None
    try:
        checkpoint = query(NEWEST_CHECKPOINT_SQL)
    except (sqlite3.DatabaseError, SQLAlchemyError):
        checkpoint = None  # a database from before revision 0012
    return replace(head_of(event, checkpoint), at=clock.now().isoformat(timespec="seconds"))


def _backup_sqlite(url: URL, target: Path) -> WitnessedHead:
    source = _sqlite_path(url)
    if not source.is_file():
        raise BackupError(f"there is no database at {source}")
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)  # pages=-1: every page in one step, one consistent read
        dst.execute("PRAGMA journal_mode=DELETE")  # the copy is one self-contained file
        return _head_of(lambda sql: dst.execute(sql).fetchone())
    finally:
        dst.close()
        src.close()


def _backup_postgresql(url: URL, target: Path) -> tuple[WitnessedHead, str]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                tool = find_pg_tool("pg_dump", _server_major(conn))
                snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
                head = _head_of(lambda sql: conn.exec_driver_sql(sql).first())
                conninfo, env = _libpq_args(url)
                # The exported snapshot lives while this transaction is open.
                _run_tool(
                    [
                        tool,
                        "--format=custom",
                        f"--snapshot={snapshot}",
                        "--no-password",
                        f"--file={target}",
                        f"--dbname={conninfo}",
                    ],
                    env,
                )
        return head, tool
    finally:
        engine.dispose()


def backup_database(path: Path, *, url: str | None = None) -> BackupResult:
    """Write a consistent copy of the whole database to `path`, and its head beside it.

    The head is also appended to the configured witness file: what a backup saw was
    the history once.
    """
    db_url = make_url(url or get_settings().database_url)
    kind = _kind_of(db_url)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    tool = None
    try:
        if kind == SQLITE:
            head = _backup_sqlite(db_url, partial)
        else:
            head, tool = _backup_postgresql(db_url, partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    sidecar = {"kind": kind, **json.loads(head.as_json())}
    sidecar_path(path).write_text(json.dumps(sidecar, sort_keys=True) + "\n", encoding="utf-8")
    witness = get_settings().witness_file
    if witness is not None:
        append_head(witness, head)
    return BackupResult(path, kind, head, tool)


# ---------------------------------------------------------------- restore


def database_is_empty(url: str) -> bool:
    """Tell whether the database holds nothing beyond what the migrations seed."""
    db_url = make_url(url)
    if _kind_of(db_url) == SQLITE and not _sqlite_path(db_url).exists():
        return True
    engine = create_engine(db_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            for table in inspect(conn).get_table_names():
                if table in _SEEDED_TABLES:
                    continue
                if conn.execute(text(f'SELECT 1 FROM "{table}" LIMIT 1')).first():
                    return False
            if "history_head" in inspect(conn).get_table_names():
                seq = conn.execute(text("SELECT last_seq FROM history_head")).scalar()
                return not seq
            return True
    finally:
        engine.dispose()


def _not_flowdesk(source: Path, why: str) -> BackupError:
    return BackupError(f"{source} is not a backup of a flowdesk database ({why}); nothing restored")


def _restore_sqlite(url: URL, source: Path) -> None:
    target = _sqlite_path(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        # Checked before the target is touched: a wrong file must not replace it.
        src.execute("SELECT last_seq FROM history_head WHERE id = 1").fetchone()
    except sqlite3.DatabaseError as exc:
        src.close()
        raise _not_flowdesk(source, str(exc)) from None
    dst = sqlite3.connect(target, timeout=30)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=WAL")
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"cannot restore {source}: {exc}") from None
    finally:
        dst.close()
        src.close()


def _restore_postgresql(url: URL, source: Path) -> str:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            tool = find_pg_tool("pg_restore", _server_major(conn))
    finally:
        engine.dispose()
    listed = subprocess.run(
        [tool, "--list", str(source)], capture_output=True, text=True, check=False
    )
    if listed.returncode != 0:
        raise _not_flowdesk(source, listed.stderr.strip())
    if not re.search(r"TABLE \S+ history_head ", listed.stdout):
        raise _not_flowdesk(source, "it has no history_head table")
    conninfo, env = _libpq_args(url)
    _run_tool(
        [
            tool,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",  # all or nothing: a failed restore leaves the database
            "--no-password",
            f"--dbname={conninfo}",
            str(source),
        ],
        env,
    )
    return tool


def _restored_head(url: str) -> WitnessedHead:
    engine = create_engine(make_url(url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return _head_of(lambda sql: _first_or_none(conn, sql))
    finally:
        engine.dispose()


def _first_or_none(conn: Connection, sql: str) -> Any:
    """The first row of `sql` in its own savepoint, so a failing query spoils nothing."""
    with conn.begin_nested() if conn.in_transaction() else conn.begin():
        return conn.exec_driver_sql(sql).first()


def restore_database(path: Path, *, url: str | None = None, force: bool = False) -> RestoreResult:
    """Put the backup at `path` back into the configured database.

    Refuses a database that holds data unless `force`; refuses a backup of the other kind.
    """
    target_url = url or get_settings().database_url
    db_url = make_url(target_url)
    kind = _kind_of(db_url)
    found = backup_kind(path)
    if found != kind:
        raise BackupError(
            f"{path} is {_KIND_NAMES[found]} but the configured database is "
            f"{'SQLite' if kind == SQLITE else 'PostgreSQL'}: restore it into a "
            f"{'SQLite' if found == SQLITE else 'PostgreSQL'} database "
            "(set FLOWDESK_DATABASE_URL)"
        )
    if not force and not database_is_empty(target_url):
        raise BackupError(
            f"the database {db_url.render_as_string(hide_password=True)} is not empty: "
            "restoring would replace everything in it; add --force to do so"
        )
    tool = None
    if kind == SQLITE:
        _restore_sqlite(db_url, path)
    else:
        tool = _restore_postgresql(db_url, path)
    head = _restored_head(target_url)
    return RestoreResult(kind, head, tool, _witnessed_ahead_of(head))


def _witnessed_ahead_of(head: WitnessedHead) -> WitnessedHead | None:
    witness = get_settings().witness_file
    if witness is None or not witness.is_file():
        return None
    try:
        heads = read_witness(witness)
    except FlowdeskError:
        return None
    newest = max(heads, key=lambda h: h.seq, default=None)
    return newest if newest is not None and newest.seq > head.seq else None
