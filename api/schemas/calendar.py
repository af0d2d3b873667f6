"""The working calendar: a year's schedule and department calendars."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class ScheduleDay(BaseModel):
    """A day that breaks the Monday-to-Friday rule, and why."""

    date: date
    name: str


class YearSchedule(BaseModel):
    """A year's non-working weekdays and working weekend days, and where they come from."""

    year: int
    source: str = Field(description="loaded, built_in or computed")
    official: bool
    description: str
    nonworking_weekdays: list[ScheduleDay]
    working_weekend_days: list[ScheduleDay]


class CalendarChoice(BaseModel):
    """Body of PUT /departments/{code}/calendar."""

    calendar: str | None = None


class DepartmentCalendar(BaseModel):
    """The calendar a department's tasks now run on."""

    department: str
    calendar: str
