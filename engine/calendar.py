"""Working calendars: which instants count as working time, and arithmetic on them.

Which dates are working days in mainland China comes from, in this order:

1. an official schedule an admin loaded (`flowdesk calendar load FILE`, table
   `calendar_day`) — for years published after our libraries were released;
2. `chinese_calendar`, which carries the State Council's published schedules,
   statutory holidays and adjusted working weekend days (调休), for the years
   it knows (it raises for any other year);
3. otherwise a computed fallback: the statutory holidays of `holidays`
   (which computes the lunar dates for any year) on weekdays, and no 调休
   working weekends, since those are only known once published. Using it logs
   a warning; the background round also notifies admins.

Named calendars (`CALENDARS`): `standard` (CONTRACT.md: 09:00–12:00 and
13:00–18:00, China working days), `round_the_clock` (every instant counts) and
`sales_office` (the same hours every day of the week except statutory
holidays). Times are stored in UTC; working hours are read in the configured
time zone.
"""

from __future__ import annotations

import logging
import threading
import time as _time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar
import holidays as holidays_lib

from engine import texts
from engine.config import get_settings

log = logging.getLogger("flowdesk.calendar")

STANDARD = "standard"
ROUND_THE_CLOCK = "round_the_clock"
SALES_OFFICE = "sales_office"
CALENDAR_NAMES = (STANDARD, ROUND_THE_CLOCK, SALES_OFFICE)

WORKING_PERIODS = ((time(9, 0), time(12, 0)), (time(13, 0), time(18, 0)))
HOURS_PER_WORKING_DAY = 8
# How far arithmetic looks ahead before deciding a calendar has no working time at all.
_MAX_DAYS = 3 * 366

SOURCE_LOADED = "loaded"
SOURCE_BUILT_IN = "built_in"
SOURCE_COMPUTED = "computed"


class CalendarError(ValueError):
    """A calendar question that has no answer (no working time ahead, bad input).

    Raised with a catalogue key (engine/texts.py), its message is the key's English text
    and `text_in` says the same in the reader's language (the admin page's upload)."""

    def __init__(self, message: str = "", *, key: str | None = None, **params: Any) -> None:
        super().__init__(message or (texts.english(key, **params) if key else ""))
        self.key = key
        self.params = params

    def text_in(self, language: str) -> str:
        """Return the problem in `language` (the English message without a key)."""
        return texts.text(self.key, language, **self.params) if self.key else str(self)


# ---------------------------------------------------------------- which days work


@dataclass(frozen=True)
class LoadedYear:
    """An official schedule loaded by an admin: holidays and adjusted working days."""

    year: int
    holidays: dict[date, str]
    workdays: dict[date, str]
    loaded_at: datetime | None = None
    loaded_by: str | None = None


@lru_cache(maxsize=1)
def _built_in_years() -> frozenset[int]:
    return frozenset(d.year for d in chinese_calendar.holidays)


@lru_cache(maxsize=64)
def _computed_holidays(year: int) -> dict[date, str]:
    return {d: str(name) for d, name in holidays_lib.China(years=year).items()}


_warned_years: set[int] = set()


@dataclass(frozen=True)
class YearSchedule:
    """One year's exceptions to the Monday–Friday week and where they come from."""

    year: int
    source: str  # loaded | built_in | computed
    holidays: dict[date, str]  # statutory holidays and the days off around them
    workdays: dict[date, str]  # weekend days worked instead (调休)

    @property
    def nonworking_weekdays(self) -> list[tuple[date, str]]:
        return sorted((d, n) for d, n in self.holidays.items() if d.weekday() < 5)

    @property
    def working_weekend_days(self) -> list[tuple[date, str]]:
        return sorted((d, n) for d, n in self.workdays.items() if d.weekday() >= 5)

    def as_dict(self) -> dict[str, Any]:
        """The year as `calendar show --json` and `GET /calendar/{year}` give it."""
        return {
            "year": self.year,
            "source": self.source,
            "official": self.source != SOURCE_COMPUTED,
            "description": self.describe_source(),
            "nonworking_weekdays": [
                {"date": d.isoformat(), "name": n} for d, n in self.nonworking_weekdays
            ],
            "working_weekend_days": [
                {"date": d.isoformat(), "name": n} for d, n in self.working_weekend_days
            ],
        }

    def describe_source(self) -> str:
        if self.source == SOURCE_LOADED:
            return "official schedule loaded by an admin"
        if self.source == SOURCE_BUILT_IN:
            version = chinese_calendar.__version__
            return f"official schedule loaded (built in: chinese-calendar {version})"
        return (
            "no official schedule yet: computed from the lunar calendar "
            f"(holidays {holidays_lib.__version__}), without adjusted working weekends (调休); "
            "load the official dates with `flowdesk calendar load FILE` once published"
        )


@dataclass
class ChinaDays:
    """Mainland China's working days, from loaded, built-in or computed schedules."""

    loaded: dict[int, LoadedYear] = field(default_factory=dict)
    _years: dict[int, YearSchedule] = field(default_factory=dict, repr=False)

    def schedule(self, year: int) -> YearSchedule:
        found = self._years.get(year)
        if found is None:
            found = self._years[year] = self._build(year)
        return found

    def _build(self, year: int) -> YearSchedule:
        loaded = self.loaded.get(year)
        if loaded is not None:
            return YearSchedule(year, SOURCE_LOADED, dict(loaded.holidays), dict(loaded.workdays))
        if year in _built_in_years():
            holidays = {
                d: _holiday_label(h) for d, h in chinese_calendar.holidays.items() if d.year == year
            }
            workdays = {
                d: _holiday_label(h) for d, h in chinese_calendar.workdays.items() if d.year == year
            }
            return YearSchedule(year, SOURCE_BUILT_IN, holidays, workdays)
        if year not in _warned_years:
            _warned_years.add(year)
            log.warning(
                "no official working-day schedule for %s: using computed statutory holidays "
                "without adjusted working weekends; load it with `flowdesk calendar load`",
                year,
            )
        return YearSchedule(year, SOURCE_COMPUTED, _computed_holidays(year), {})

    def is_holiday(self, day: date) -> bool:
        return day in self.schedule(day.year).holidays

    def is_working_day(self, day: date) -> bool:
        schedule = self.schedule(day.year)
        if day in schedule.workdays:
            return True
        if day in schedule.holidays:
            return False
        return day.weekday() < 5


def _holiday_label(value: Any) -> str:
    # chinese_calendar maps dates to Holiday enum members (value: "english,中文,days").
    raw = getattr(value, "value", value)
    return str(raw).split(",")[0] if isinstance(raw, str) else str(raw)


# Loaded schedules are read from the database and cached for a minute per process.
_cache_lock = threading.Lock()
_cache: dict[str, tuple[float, ChinaDays]] = {}
CACHE_SECONDS = 60.0


def china_days(session: Any = None) -> ChinaDays:
    """Return the working days of the configured database (loaded years cached a minute)."""
    url = get_settings().database_url
    now = _time.monotonic()
    with _cache_lock:
        hit = _cache.get(url)
        if hit is not None and hit[0] > now:
            return hit[1]
    days = ChinaDays(loaded=_read_loaded_years(session))
    with _cache_lock:
        _cache[url] = (now + CACHE_SECONDS, days)
    return days


def clear_cache() -> None:
    """Forget cached schedules (after a load, and between tests)."""
    with _cache_lock:
        _cache.clear()


def _read_loaded_years(session: Any) -> dict[int, LoadedYear]:
    from sqlalchemy import select

    from engine.models import CalendarDay, CalendarYear

    def read(s: Any) -> dict[int, LoadedYear]:
        years = {y.year: y for y in s.execute(select(CalendarYear)).scalars()}
        if not years:
            return {}
        result = {
            year: LoadedYear(year, {}, {}, row.loaded_at, row.loaded_by)
            for year, row in years.items()
        }
        for day in s.execute(select(CalendarDay)).scalars():
            target = result.get(day.day.year)
            if target is None:
                continue
            (target.holidays if day.kind == "holiday" else target.workdays)[day.day] = day.name
        return result

    if session is not None:
        return read(session)
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from engine.db import unit_of_work

    try:
        with unit_of_work(write=False) as own:
            return read(own)
    except (OperationalError, ProgrammingError):
        # No (migrated) database, e.g. `flowdesk calendar due` on a bare machine.
        log.info("no database to read loaded calendar years from; using built-in schedules")
        return {}


# ---------------------------------------------------------------- working time


class WorkingCalendar:
    """Working time: the given periods of each working day, in one time zone."""

    def __init__(
        self,
        name: str,
        *,
        tz: ZoneInfo,
        is_working_day: Callable[[date], bool],
        periods: tuple[tuple[time, time], ...] = WORKING_PERIODS,
    ) -> None:
        self.name = name
        self.tz = tz
        self.is_working_day = is_working_day
        self.periods = periods

    def intervals_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """Return the working intervals of a local date, as UTC instants."""
        if not self.is_working_day(day):
            return []
        return [
            (
                datetime.combine(day, start, self.tz).astimezone(UTC),
                datetime.combine(day, end, self.tz).astimezone(UTC),
            )
            for start, end in self.periods
        ]

    def _intervals_from(self, instant: datetime) -> Iterator[tuple[datetime, datetime]]:
        day = instant.astimezone(self.tz).date() - timedelta(days=1)
        for _ in range(_MAX_DAYS):
            yield from self.intervals_on(day)
            day += timedelta(days=1)
        raise CalendarError(f"calendar {self.name} has no working time within {_MAX_DAYS} days")

    def add(self, start: datetime, amount: timedelta | float) -> datetime:
        """Return the first instant at which `amount` of working time has passed since `start`.

        The clock starts at the next working instant, so adding zero to an
        instant outside working hours gives the start of the next working period.
        """
        remaining = amount if isinstance(amount, timedelta) else timedelta(hours=float(amount))
        if remaining < timedelta(0):
            raise CalendarError("cannot add a negative working time")
        start = _aware(start)
        for begin, end in self._intervals_from(start):
            if end <= start:
                continue
            begin = max(begin, start)
            span = end - begin
            if remaining <= span:
                return begin + remaining
            remaining -= span
        raise CalendarError("unreachable")  # _intervals_from raises first

    def next_working_instant(self, instant: datetime) -> datetime:
        """Return `instant` if it is working time, else the start of the next working period."""
        return self.add(instant, timedelta(0))

    def between(self, a: datetime, b: datetime) -> timedelta:
        """Return the working time in [a, b) (zero when b is not after a)."""
        a, b = _aware(a), _aware(b)
        if b <= a:
            return timedelta(0)
        total = timedelta(0)
        day = a.astimezone(self.tz).date() - timedelta(days=1)
        last = b.astimezone(self.tz).date() + timedelta(days=1)
        while day <= last:
            for begin, end in self.intervals_on(day):
                lo, hi = max(begin, a), min(end, b)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total

    def end_of_working_day(self, day: date) -> datetime:
        """Return the end of the last working period on `day`, or of the next working day."""
        for _ in range(_MAX_DAYS):
            intervals = self.intervals_on(day)
            if intervals:
                return intervals[-1][1]
            day += timedelta(days=1)
        raise CalendarError(f"calendar {self.name} has no working day ahead")


class RoundTheClock(WorkingCalendar):
    """Every instant is working time: nights, weekends and holidays included."""

    def __init__(self, *, tz: ZoneInfo) -> None:
        super().__init__(ROUND_THE_CLOCK, tz=tz, is_working_day=lambda _d: True, periods=())

    def intervals_on(self, day: date) -> list[tuple[datetime, datetime]]:
        start = datetime.combine(day, time(0), self.tz)
        end = datetime.combine(day + timedelta(days=1), time(0), self.tz)
        return [(start.astimezone(UTC), end.astimezone(UTC))]

    def add(self, start: datetime, amount: timedelta | float) -> datetime:
        remaining = amount if isinstance(amount, timedelta) else timedelta(hours=float(amount))
        if remaining < timedelta(0):
            raise CalendarError("cannot add a negative working time")
        return _aware(start) + remaining

    def between(self, a: datetime, b: datetime) -> timedelta:
        return max(_aware(b) - _aware(a), timedelta(0))


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise CalendarError("a time without an offset is ambiguous")
    return value.astimezone(UTC)


def timezone() -> ZoneInfo:
    """Return the configured time zone (FLOWDESK_TIMEZONE)."""
    return ZoneInfo(get_settings().timezone)


def build_calendar(name: str, days: ChinaDays, tz: ZoneInfo) -> WorkingCalendar:
    """Return the named calendar over the given China working days."""
    if name == STANDARD:
        return WorkingCalendar(STANDARD, tz=tz, is_working_day=days.is_working_day)
    if name == ROUND_THE_CLOCK:
        return RoundTheClock(tz=tz)
    if name == SALES_OFFICE:
        return WorkingCalendar(SALES_OFFICE, tz=tz, is_working_day=lambda d: not days.is_holiday(d))
    raise CalendarError(f"unknown calendar {name!r}; known: {', '.join(CALENDAR_NAMES)}")


def get_calendar(name: str = STANDARD, session: Any = None) -> WorkingCalendar:
    """Return the named calendar of this installation (configured zone, loaded schedules)."""
    return build_calendar(name, china_days(session), timezone())


# ---------------------------------------------------------------- loading official dates


def parse_schedule_file(payload: Any) -> LoadedYear:
    """Read an official schedule: {"year", "holidays": {date: name}|[...], "workdays": ...}."""
    if not isinstance(payload, dict):
        raise CalendarError(key="calendar_file_not_object")
    unknown = set(payload) - {"year", "holidays", "workdays", "source"}
    if unknown:
        raise CalendarError(key="calendar_file_unknown_keys", keys=", ".join(sorted(unknown)))
    year = payload.get("year")
    if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2100:
        raise CalendarError(key="calendar_file_bad_year")

    def dates(key: str) -> dict[date, str]:
        raw = payload.get(key, [])
        items: list[tuple[Any, Any]]
        if isinstance(raw, dict):
            items = list(raw.items())
        elif isinstance(raw, list):
            items = [
                (entry.get("date"), entry.get("name", ""))
                if isinstance(entry, dict)
                else (entry, "")
                for entry in raw
            ]
        else:
            raise CalendarError(key="calendar_file_bad_dates", field=key)
        result: dict[date, str] = {}
        for value, name in items:
            try:
                day = date.fromisoformat(str(value))
            except ValueError:
                raise CalendarError(
                    key="calendar_file_not_a_date", field=key, value=str(value)[:40]
                ) from None
            if day.year != year:
                raise CalendarError(
                    key="calendar_file_other_year", field=key, day=day.isoformat(), year=year
                )
            result[day] = str(name or "")
        return result

    holidays, workdays = dates("holidays"), dates("workdays")
    both = sorted(set(holidays) & set(workdays))
    if both:
        raise CalendarError(key="calendar_file_both", days=", ".join(map(str, both)))
    weekdays = sorted(d for d in workdays if d.weekday() < 5)
    if weekdays:
        raise CalendarError(
            key="calendar_file_workday_not_weekend", days=", ".join(map(str, weekdays))
        )
    if not holidays:
        raise CalendarError(key="calendar_file_no_holidays", year=year)
    return LoadedYear(year, holidays, workdays)
