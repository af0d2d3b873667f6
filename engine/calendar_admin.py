"""Admin changes to the working calendar: load a year's official schedule, assign calendars."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from engine import calendar, clock
from engine.audit import PendingEvent, append_events
from engine.db import after_commit
from engine.errors import FieldProblem, InvalidData, NotFound
from engine.identity import Actor
from engine.models import CalendarDay, CalendarYear, Department
from engine.sla.planning import forget_department_calendars


def load_schedule(
    session: Session, *, schedule: calendar.LoadedYear, actor: Actor, source: str = ""
) -> None:
    """Replace a year's official schedule (holidays and adjusted working days)."""
    session.execute(delete(CalendarDay).where(CalendarDay.year == schedule.year))
    session.execute(delete(CalendarYear).where(CalendarYear.year == schedule.year))
    session.flush()
    now = clock.now()
    session.add(
        CalendarYear(year=schedule.year, loaded_at=now, loaded_by=actor.username, source=source)
    )
    session.flush()
    for day, name in schedule.holidays.items():
        session.add(CalendarDay(day=day, year=schedule.year, kind="holiday", name=name[:100]))
    for day, name in schedule.workdays.items():
        session.add(CalendarDay(day=day, year=schedule.year, kind="workday", name=name[:100]))
    session.flush()
    append_events(
        session,
        [
            PendingEvent(
                type="calendar_loaded",
                actor=actor.username,
                data={
                    "year": schedule.year,
                    "holidays": sorted(d.isoformat() for d in schedule.holidays),
                    "workdays": sorted(d.isoformat() for d in schedule.workdays),
                    "source": source,
                },
            )
        ],
    )
    calendar.clear_cache()


def assign_calendar(session: Session, *, department: str, name: str | None, actor: Actor) -> None:
    """Give a department its own calendar (None: back to the standard one)."""
    row = session.get(Department, department)
    if row is None:
        raise NotFound(key="error_department_unknown", code=department)
    if name is not None and name not in calendar.CALENDAR_NAMES:
        names = ", ".join(calendar.CALENDAR_NAMES)
        raise InvalidData(
            [FieldProblem("calendar", key="problem_calendar_unknown", params={"names": names})]
        )
    previous = row.calendar
    row.calendar = None if name in (None, calendar.STANDARD) else name
    session.flush()
    after_commit(session, forget_department_calendars)  # new tasks plan on the new one
    append_events(
        session,
        [
            PendingEvent(
                type="department_calendar_changed",
                actor=actor.username,
                data={"department": department, "calendar": name, "previous": previous},
                department=department,
            )
        ],
    )
