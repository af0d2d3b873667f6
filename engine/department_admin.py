"""Admin changes to the departments: their display names in both languages.

The five departments of CONTRACT.md stay (none is added or removed here); BPMN lanes
keep naming them by code and CONTRACT.md's names (engine/departments.py).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.audit import PendingEvent, append_events
from engine.departments import department_codes
from engine.errors import FieldProblem, InvalidData, NotFound
from engine.identity import Actor
from engine.models import Department

# The longest display name the `department` table holds.
NAME_MAX_LENGTH = 100


def list_departments(session: Session) -> list[Department]:
    """Return every department (names, calendar) in CONTRACT.md's order."""
    order = {code: n for n, code in enumerate(department_codes())}
    rows = session.execute(select(Department)).scalars()
    return sorted(rows, key=lambda row: (order.get(row.code, len(order)), row.code))


def _checked_name(field: str, value: str | None, current: str) -> tuple[str, FieldProblem | None]:
    if value is None:
        return current, None
    name = " ".join(value.split())
    if not name:
        return current, FieldProblem(field, key="problem_department_name_empty")
    if len(name) > NAME_MAX_LENGTH:
        return current, FieldProblem(
            field, key="problem_department_name_too_long", params={"n": NAME_MAX_LENGTH}
        )
    return name, None


def rename_department(
    session: Session,
    *,
    code: str,
    name_zh: str | None,
    name_en: str | None,
    actor: Actor,
) -> Department:
    """Give a department new display names (None keeps that language's name); event
    `department_renamed` when a name changed. Two departments never share a name."""
    row = session.get(Department, code)
    if row is None:
        raise NotFound(key="error_department_unknown", code=code)
    zh, zh_problem = _checked_name("name_zh", name_zh, row.name_zh)
    en, en_problem = _checked_name("name_en", name_en, row.name_en)
    problems = [p for p in (zh_problem, en_problem) if p is not None]
    others = [d for d in list_departments(session) if d.code != code]
    for field, name, taken in (
        ("name_zh", zh, {d.name_zh for d in others}),
        ("name_en", en, {d.name_en.casefold() for d in others}),
    ):
        if (name in taken or name.casefold() in taken) and field not in {p.field for p in problems}:
            problems.append(FieldProblem(field, key="problem_department_name_taken"))
    if problems:
        raise InvalidData(problems)
    if (zh, en) == (row.name_zh, row.name_en):
        return row
    previous = {"previous_zh": row.name_zh, "previous_en": row.name_en}
    row.name_zh, row.name_en = zh, en
    session.flush()
    append_events(
        session,
        [
            PendingEvent(
                type="department_renamed",
                actor=actor.username,
                data={"department": code, "name_zh": zh, "name_en": en, **previous},
                department=code,
            )
        ],
    )
    return row
