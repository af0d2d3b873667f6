"""The departments for admins: list them, and rename them in both languages."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentActor
from api.schemas.admin_departments import DepartmentList, DepartmentRead, DepartmentRename
from api.schemas.errors import error_responses
from engine import access, calendar
from engine.db import unit_of_work
from engine.department_admin import list_departments, rename_department
from engine.models import Department

router = APIRouter(tags=["administration"], responses=error_responses(401, 403))


def _read(row: Department) -> DepartmentRead:
    return DepartmentRead(
        code=row.code,
        name_zh=row.name_zh,
        name_en=row.name_en,
        calendar=row.calendar or calendar.STANDARD,
    )


@router.get("/admin/departments")
def departments(actor: CurrentActor) -> DepartmentList:
    """Return every department with its names and calendar (admins)."""
    access.require_admin(actor)
    with unit_of_work(write=False) as session:
        return DepartmentList(items=[_read(row) for row in list_departments(session)])


@router.patch("/admin/departments/{code}", responses=error_responses(404, 422))
def rename(code: str, body: DepartmentRename, actor: CurrentActor) -> DepartmentRead:
    """Rename a department (admins): `name_zh`, `name_en`; event `department_renamed`."""
    access.require_admin(actor)
    with unit_of_work() as session:
        return _read(
            rename_department(
                session, code=code, name_zh=body.name_zh, name_en=body.name_en, actor=actor
            )
        )
