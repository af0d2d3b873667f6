"""A step's own rows written by prebuilt statements: its instance and its task rows.

Every step of a case writes the same few rows — the instance's UPDATE (its workflow
state, variables and history head), the UPDATE of the task it completed, the INSERT of
the task it opened. The ORM's flush spent more Python on those three rows than the
database spent running them (its unit of work, per-flush statement building and
parameter processing: about a third of a completion). Here each row goes as one
statement whose text and parameter converters are made once per table, dialect and set
of columns, and is sent to the driver as it is (`exec_driver_sql`: the engine's
statement listeners and error wrapping still apply). The objects then stay in the
session as loaded, with nothing left to flush, as after the ORM's own flush.

The ORM keeps everything else: a session that holds other changes than the step's
rows (an operation that also adds a comment, a hook that sets a case fact) is flushed
by it as before, in its own order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Table, inspect
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import InstanceState, Mapper, Session

from engine.errors import ConcurrentUpdate
from engine.models import Instance, Task

_Converters = tuple[tuple[str, Callable[[Any], Any] | None], ...]


class _Prebuilt:
    """One statement's text and its columns' converters (made once)."""

    def __init__(self, sql: str, converters: _Converters) -> None:
        self.sql = sql
        self.converters = converters

    def params(self, values: dict[str, Any]) -> dict[str, Any]:
        """The driver's parameters for one row's values."""
        out: dict[str, Any] = {}
        for name, convert in self.converters:
            value = values[name]
            out[name] = value if convert is None or value is None else convert(value)
        return out


_statements: dict[tuple[str, str, str, tuple[str, ...]], _Prebuilt] = {}


def _mark(dialect: Dialect, name: str) -> str:
    return f"%({name})s" if dialect.paramstyle == "pyformat" else f":{name}"


def _converters(table: Table, dialect: Dialect, columns: Iterable[str]) -> _Converters:
    return tuple(
        (c, table.c[c].type.dialect_impl(dialect).bind_processor(dialect)) for c in columns
    )


def _insert(table: Table, dialect: Dialect, columns: tuple[str, ...], count: int) -> _Prebuilt:
    """INSERT of `count` rows in one statement (as the ORM batches a flush's new rows):
    the i-th row's parameters are named `<column>_<i>`."""
    key = (dialect.name, f"insert:{count}", table.name, columns)
    found = _statements.get(key)
    if found is None:
        rows = ", ".join(
            "(" + ", ".join(_mark(dialect, f"{c}_{i}") for c in columns) + ")" for i in range(count)
        )
        sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES {rows}"
        converters = _converters(table, dialect, columns)
        found = _statements[key] = _Prebuilt(
            sql,
            tuple((f"{c}_{i}", convert) for i in range(count) for c, convert in converters),
        )
    return found


def _update(
    table: Table, dialect: Dialect, columns: tuple[str, ...], version: str | None
) -> _Prebuilt:
    """UPDATE of `columns` by the primary key `id` (and, with a version column, only
    while the row still has the version the object was loaded with)."""
    key = (dialect.name, f"update:{version}", table.name, columns)
    found = _statements.get(key)
    if found is None:
        sets = ", ".join(f"{c} = {_mark(dialect, c)}" for c in columns)
        where = f"id = {_mark(dialect, 'b_id')}"
        converters = _converters(table, dialect, columns) + (("b_id", None),)
        if version is not None:
            sets += f", {version} = {_mark(dialect, 'b_new_version')}"
            where += f" AND {version} = {_mark(dialect, 'b_version')}"
            converters += (("b_new_version", None), ("b_version", None))
        sql = f"UPDATE {table.name} SET {sets} WHERE {where}"
        found = _statements[key] = _Prebuilt(sql, converters)
    return found


class _Mapped:
    """What the writer needs of a mapped class, read once: its table, its columns by
    attribute, the defaults of the columns a new row may leave out, its version column."""

    def __init__(self, cls: type) -> None:
        mapper: Mapper[Any] = inspect(cls)
        table = mapper.local_table
        assert isinstance(table, Table)
        self.table = table
        self.columns: dict[str, str] = {}  # attribute -> column
        self.defaults: dict[str, Any] = {}
        self.required: set[str] = set()  # no value, no default: the ORM's flush decides
        for prop in mapper.column_attrs:
            (column,) = prop.columns
            self.columns[prop.key] = column.key
            default = column.default
            if default is not None and default.is_scalar:
                self.defaults[prop.key] = default.arg  # type: ignore[attr-defined]
            elif default is not None or column.server_default is not None:
                self.required.add(prop.key)
            elif not column.nullable and not column.primary_key:
                self.required.add(prop.key)
        version = mapper.version_id_col
        self.version_key: str | None = None
        self.version_column: str | None = None
        if version is not None:
            self.version_column = version.key
            self.version_key = mapper.get_property_by_column(version).key


_MAPPED = {Instance: _Mapped(Instance), Task: _Mapped(Task)}


def write_step_rows(session: Session, rows: Iterable[Instance | Task]) -> None:
    """Write the new and changed rows among `rows` (the step's instance and task rows),
    then let the ORM flush whatever else the session holds; all of it by the ORM when
    a row is one this writer leaves to it.

    A changed instance whose version moved since it was loaded (a concurrent writer)
    raises ConcurrentUpdate, as the ORM's flush does, with nothing written."""
    dialect = session.get_bind().dialect
    plans: list[tuple[Any, _Mapped, str, dict[str, Any]]] = []
    mine: set[int] = set()
    for obj in rows:
        mapped = _MAPPED[type(obj)]
        state: InstanceState[Any] = inspect(obj)
        mine.add(id(obj))
        if state.pending:
            values = _new_values(obj, mapped)
            if values is None:
                session.flush()
                return
            plans.append((obj, mapped, "insert", values))
        elif state.persistent and state.modified:
            changed = _changed_values(obj, state, mapped)
            if changed is None:
                session.flush()
                return
            plans.append((obj, mapped, "update" if changed else "", changed))
    others = (
        any(id(o) not in mine for o in session.new)
        or any(id(o) not in mine for o in session.dirty)
        or bool(session.deleted)
    )
    if others:
        session.flush()  # the ORM orders the rows of other tables with these
        return
    conn = session.connection()
    # The ORM's order: the instance before its tasks; a table's changed rows, then its
    # new ones (in one statement).
    for cls in (Instance, Task):
        new: list[dict[str, Any]] = []
        for obj, mapped, kind, values in plans:
            if type(obj) is not cls:
                continue
            if kind == "update":
                _run_update(conn, dialect, obj, mapped, values)
            elif kind == "insert":
                new.append({mapped.columns[k]: v for k, v in values.items()})
        if new:
            table = _MAPPED[cls].table
            stmt = _insert(table, dialect, tuple(new[0]), len(new))
            params = {f"{c}_{i}": v for i, row in enumerate(new) for c, v in row.items()}
            conn.exec_driver_sql(stmt.sql, stmt.params(params))
    _settle(session, [plan[0] for plan in plans])


def _run_update(
    conn: Any, dialect: Dialect, obj: Any, mapped: _Mapped, values: dict[str, Any]
) -> None:
    """One changed row's UPDATE, its version moved on with it."""
    table = mapped.table
    params = {mapped.columns[k]: v for k, v in values.items()}
    version = mapped.version_column
    stmt = _update(table, dialect, tuple(params), version)
    params["b_id"] = obj.id
    if version is not None:
        assert mapped.version_key is not None
        current = getattr(obj, mapped.version_key)
        params["b_version"], params["b_new_version"] = current, current + 1
    result = conn.exec_driver_sql(stmt.sql, stmt.params(params))
    if result.rowcount != 1:
        raise ConcurrentUpdate(key="error_concurrent_update")
    if version is not None:
        setattr(obj, mapped.version_key, params["b_new_version"])  # type: ignore[arg-type]


def _new_values(obj: Any, mapped: _Mapped) -> dict[str, Any] | None:
    """Every column's value of a new row, its scalar defaults set on the object (so
    that nothing of it is left to load); None when a column has no value the writer
    can give."""
    values: dict[str, Any] = {}
    given = obj.__dict__
    for key in mapped.columns:
        if key in given:
            values[key] = given[key]
        elif key == mapped.version_key:
            values[key] = 1  # the ORM's first version of a row
            setattr(obj, key, 1)
        elif key in mapped.defaults:
            values[key] = mapped.defaults[key]
            setattr(obj, key, values[key])
        elif key in mapped.required:
            return None
        else:
            values[key] = None
            setattr(obj, key, None)
    return values


def _changed_values(obj: Any, state: Any, mapped: _Mapped) -> dict[str, Any] | None:
    """The columns of a loaded row whose values changed (None: leave it to the ORM)."""
    changed: dict[str, Any] = {}
    given = obj.__dict__
    for key, original in state.committed_state.items():
        if key not in mapped.columns or key == mapped.version_key:
            return None
        value = given.get(key)
        if value != original:
            changed[key] = value
    return changed


def _settle(session: Session, objects: list[Any]) -> None:
    """Keep the written objects in the session as rows loaded as they now are (no
    history, nothing to flush, the transaction's bookkeeping for a rollback kept), the
    same objects for everyone who holds them: what the ORM's flush ends with, by its
    own function (SQLAlchemy is pinned in pyproject.toml; tests/engine/test_step_writes.py
    holds the behaviour)."""
    session._register_persistent({inspect(obj) for obj in objects})
