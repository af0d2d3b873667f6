"""The working calendar: read a year's schedule; admins load official dates and assign
calendars to departments."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body

from api.deps import CurrentActor
from api.schemas.calendar import CalendarChoice, DepartmentCalendar, YearSchedule
from api.schemas.errors import error_responses
from engine import calendar
from engine.calendar_admin import assign_calendar, load_schedule
from engine.db import unit_of_work
from engine.errors import FieldProblem, InvalidData, NotPermitted

router = APIRouter(tags=["calendar"], responses=error_responses(401))


def _require_admin(actor: Any) -> None:
    if not actor.has("admin"):
        raise NotPermitted("only admins change the working calendar")


@router.get("/calendar/{year}", responses=error_responses(422))
def show_year(year: int, actor: CurrentActor) -> YearSchedule:
    """Return a year's non-working weekdays, working weekend days and where they come from."""
    if not 2000 <= year <= 2100:
        raise InvalidData([FieldProblem("year", "between 2000 and 2100")])
    return YearSchedule.model_validate(calendar.china_days().schedule(year).as_dict())


@router.put("/calendar/{year}", responses=error_responses(403, 422))
def load_year(year: int, actor: CurrentActor, payload: dict = Body(...)) -> YearSchedule:
    """Load a year's official schedule: {"holidays": {...}, "workdays": {...}} (admins)."""
    _require_admin(actor)
    try:
        schedule = calendar.parse_schedule_file({"year": year, **payload})
    except calendar.CalendarError as exc:
        raise InvalidData([FieldProblem("schedule", str(exc))]) from exc
    with unit_of_work() as session:
        load_schedule(session, schedule=schedule, actor=actor, source="api")
    return show_year(year, actor)


@router.put("/departments/{code}/calendar", responses=error_responses(403, 404, 422))
def set_department_calendar(
    code: str, choice: CalendarChoice, actor: CurrentActor
) -> DepartmentCalendar:
    """Give a department its own calendar (admins); null or "standard" resets it."""
    _require_admin(actor)
    with unit_of_work() as session:
        assign_calendar(session, department=code, name=choice.calendar, actor=actor)
    return DepartmentCalendar(department=code, calendar=choice.calendar or calendar.STANDARD)
