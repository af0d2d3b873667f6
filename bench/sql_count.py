"""Counting the statements a server sends: by kind and by table, from PostgreSQL's own
log (`log_statement = 'all'` set on the bench database only, so other databases of the
server are not slowed) and from a SQLAlchemy engine event inside the server process
(`bench.counted_app`).

The log is authoritative on PostgreSQL: it also sees what SQLAlchemy sends past its
events (the pool's ping, psycopg's implicit BEGIN). SQLite has no server log; there the
engine event counts the cursor executes (SQLite's BEGIN is one, flowdesk sends it
itself) and the connection's commit/rollback events count COMMIT/ROLLBACK.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

KINDS = ("SELECT", "INSERT", "UPDATE", "DELETE", "BEGIN", "COMMIT", "ROLLBACK", "other")

_FROM = re.compile(r"\b(?:FROM|JOIN)\s+\"?([A-Za-z_][\w.]*)\"?", re.IGNORECASE)
_INTO = re.compile(r"\bINTO\s+\"?([A-Za-z_][\w.]*)\"?", re.IGNORECASE)
_UPDATE = re.compile(r"^\s*UPDATE\s+\"?([A-Za-z_][\w.]*)\"?", re.IGNORECASE)
_DELETE = re.compile(r"\bFROM\s+\"?([A-Za-z_][\w.]*)\"?", re.IGNORECASE)
_FUNCTION = re.compile(r"^\s*SELECT\s+([A-Za-z_][\w.]*)\s*\(", re.IGNORECASE)


def classify(statement: str) -> tuple[str, str]:
    """Return (kind, table) of one SQL statement; table '' where it does not apply."""
    s = statement.strip().rstrip(";").strip()
    head = s.split(None, 1)[0].upper() if s else ""
    if head in ("BEGIN", "START"):
        return "BEGIN", ""
    if head in ("COMMIT", "END"):
        return "COMMIT", ""
    if head in ("ROLLBACK", "ABORT"):
        return "ROLLBACK", ""
    if head == "SELECT" or (
        head == "WITH" and not re.search(r"\b(INSERT|UPDATE|DELETE)\b", s, re.I)
    ):
        tables = []
        for name in _FROM.findall(s):
            name = name.lower()
            if name not in tables and not name.startswith(("json_", "jsonb_", "unnest")):
                tables.append(name)
        if not tables:
            function = _FUNCTION.match(s)
            tables = [function.group(1).lower() + "()" if function else "(no table)"]
        return "SELECT", "+".join(tables)
    if head == "INSERT":
        into = _INTO.search(s)
        return "INSERT", into.group(1).lower() if into else ""
    if head == "UPDATE":
        target = _UPDATE.match(s)
        return "UPDATE", target.group(1).lower() if target else ""
    if head == "DELETE":
        target = _DELETE.search(s)
        return "DELETE", target.group(1).lower() if target else ""
    return "other", head.lower() or "(empty)"


class Tally:
    """Statements by kind and by (kind, table)."""

    def __init__(self) -> None:
        self.kinds: Counter[str] = Counter()
        self.tables: Counter[tuple[str, str]] = Counter()
        self.statements: list[str] = []

    def add(self, statement: str) -> None:
        if len(self.statements) < 200:
            self.statements.append(" ".join(statement.split())[:160])
        kind, table = classify(statement)
        self.add_kind(kind, table)

    def add_kind(self, kind: str, table: str = "") -> None:
        self.kinds[kind] += 1
        if table:
            self.tables[(kind, table)] += 1

    def total(self) -> int:
        return sum(self.kinds.values())

    def as_dict(self) -> dict[str, object]:
        return {
            "kinds": dict(self.kinds),
            "tables": {f"{k} {t}": n for (k, t), n in self.tables.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Tally:
        tally = cls()
        tally.kinds.update(data.get("kinds", {}))  # type: ignore[arg-type]
        for key, n in data.get("tables", {}).items():  # type: ignore[attr-defined]
            kind, table = key.split(" ", 1)
            tally.tables[(kind, table)] += n
        return tally


def print_per_completion(label: str, tally: Tally, completions: int) -> dict[str, float]:
    """Print per-completion averages by kind, then per table for SELECT/INSERT/UPDATE."""
    per = {k: tally.kinds.get(k, 0) / completions for k in KINDS}
    total = tally.total() / completions
    besides = total - per["BEGIN"] - per["COMMIT"] - per["ROLLBACK"]
    kinds = ", ".join(f"{k} {per[k]:.2f}" for k in KINDS if per[k] or k in ("BEGIN", "COMMIT"))
    print(f"  statements per completion ({label}, {completions} completions):")
    if os.environ.get("FLOWDESK_BENCH_SHOW_SQL") and tally.statements:
        for statement in tally.statements[: int(os.environ["FLOWDESK_BENCH_SHOW_SQL"])]:
            print("      | " + statement)
    print(f"    total {total:.2f} ({besides:.2f} besides BEGIN/COMMIT/ROLLBACK): {kinds}")
    for kind in ("SELECT", "INSERT", "UPDATE", "DELETE", "other"):
        rows = sorted(
            ((t, n) for (k, t), n in tally.tables.items() if k == kind), key=lambda r: -r[1]
        )
        if rows:
            print(
                f"    {kind:<6} by table: "
                + ", ".join(f"{t} {n / completions:.2f}" for t, n in rows)
            )
    return {"total": total, "besides_transaction": besides, **per}


# ---------------------------------------------------------------- PostgreSQL's log

_ENTRY = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
_STATEMENT = re.compile(r"\bLOG:\s+(?:statement|execute [^:]*):\s?(.*)$")


class PgStatementLog:
    """Switch `log_statement = 'all'` on for one database and read back what it logged.

    The setting is the database's own (`ALTER DATABASE … SET`), so only new sessions of
    that database log; `restore()` resets it. The log file is found by logging a marker
    and looking for it where PostgreSQL writes: `pg_current_logfile()` (logging
    collector), `data_directory/log_directory`, or the packaged stderr log
    (/var/log/postgresql).
    """

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self.database = self.url.database or "postgres"
        self.admin = create_engine(self.url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        self.path: Path | None = None
        self.enabled = False

    def enable(self) -> bool:
        """Turn logging on for the bench database; False when its log cannot be read."""
        with self.admin.connect() as conn:
            conn.execute(text(f"ALTER DATABASE \"{self.database}\" SET log_statement = 'all'"))
        self.enabled = True
        self.path = self._find_log()
        if self.path is None:
            print("  PostgreSQL's log file not found or not readable: log counts skipped")
        return self.path is not None

    def restore(self) -> None:
        if self.enabled:
            with self.admin.connect() as conn:
                conn.execute(text(f'ALTER DATABASE "{self.database}" RESET log_statement'))
            self.enabled = False
        self.admin.dispose()

    def _candidates(self) -> list[Path]:
        with self.admin.connect() as conn:
            current = conn.execute(text("SELECT pg_current_logfile()")).scalar()
            data_dir = conn.execute(text("SHOW data_directory")).scalar()
            log_dir = conn.execute(text("SHOW log_directory")).scalar()
        found: list[Path] = []
        if current:
            found.append(Path(current) if Path(current).is_absolute() else Path(data_dir) / current)
        folder = Path(log_dir) if Path(log_dir).is_absolute() else Path(data_dir) / log_dir
        for base in (folder, Path("/var/log/postgresql")):
            if base.is_dir():
                found.extend(sorted(base.glob("*.log"), key=lambda p: -p.stat().st_mtime))
        return found

    def _find_log(self) -> Path | None:
        marker = f"flowdesk_bench_marker_{uuid.uuid4().hex}"
        engine = create_engine(self.url)
        with engine.connect() as conn:
            conn.execute(text(f"SELECT '{marker}'"))
        engine.dispose()
        time.sleep(0.3)
        for path in self._candidates():
            try:
                with path.open("rb") as f:
                    f.seek(max(0, path.stat().st_size - 2_000_000))
                    if marker.encode() in f.read():
                        return path
            except OSError:
                continue
        return None

    def offset(self) -> int:
        assert self.path is not None
        return self.path.stat().st_size

    def read(self, start: int) -> Tally:
        """Tally the statements the bench database's sessions logged since `start`."""
        assert self.path is not None
        time.sleep(0.5)  # backends log before they execute; let the last lines land
        with self.path.open("rb") as f:
            f.seek(start)
            data = f.read().decode("utf-8", errors="replace")
        tally = Tally()
        tag = f"@{self.database} "
        current: list[str] | None = None
        for line in data.splitlines():
            if _ENTRY.match(line):
                if current is not None:
                    tally.add("\n".join(current))
                current = None
                if tag not in line:
                    continue
                match = _STATEMENT.search(line)
                if match:
                    current = [match.group(1)]
            elif current is not None and line.startswith(("\t", " ")):
                current.append(line)
        if current is not None:
            tally.add("\n".join(current))
        return tally


def autocommit(conn: Any) -> bool:
    """Whether the connection's transaction events send nothing: from the options, not
    get_isolation_level() (that one asks the server, a SHOW). Either option means the
    driver sends no BEGIN/COMMIT/ROLLBACK (engine/db.py `single_statement_engine`)."""
    options = conn.get_execution_options()
    return options.get("isolation_level") == "AUTOCOMMIT" or bool(
        options.get("flowdesk_no_transaction")
    )
