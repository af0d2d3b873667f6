"""The working calendar: real 2026 dates around every statutory holiday and 调休
weekend, a 2027 date with no official schedule, loaded schedules, and the
invariants of working-time arithmetic (hypothesis)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import calendar as cal
from engine.calendar import ChinaDays, LoadedYear, build_calendar

SH = ZoneInfo("Asia/Shanghai")
FLOWDESK = str(Path(sys.executable).with_name("flowdesk"))


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


STANDARD = build_calendar(cal.STANDARD, ChinaDays(), SH)
ALWAYS = build_calendar(cal.ROUND_THE_CLOCK, ChinaDays(), SH)

# (from, working hours, expected) on the official 2026 schedule (国务院办公厅 2026 安排).
CASES = [
    # ordinary days: lunch break, evening, weekend
    ("2026-11-23T09:00", 3, "2026-11-23T12:00"),
    ("2026-11-23T11:30", 1, "2026-11-23T13:30"),
    ("2026-11-23T17:00", 2, "2026-11-24T10:00"),
    ("2026-11-27T17:00", 2, "2026-11-30T10:00"),  # Friday evening -> Monday
    ("2026-11-28T10:00", 1, "2026-11-30T10:00"),  # created Saturday: clock starts Monday 09:00
    ("2026-11-23T20:00", 0, "2026-11-24T09:00"),  # zero hours: the next working minute
    ("2026-11-23T12:30", 0.5, "2026-11-23T13:30"),
    # New Year: Jan 1-3 off, Sunday Jan 4 worked
    ("2025-12-31T17:00", 2, "2026-01-04T10:00"),
    # Spring Festival: Feb 15-23 off, Saturdays Feb 14 and Feb 28 worked
    ("2026-02-13T16:00", 4, "2026-02-14T11:00"),
    ("2026-02-14T17:00", 2, "2026-02-24T10:00"),
    ("2026-02-27T17:00", 2, "2026-02-28T10:00"),
    # Qingming: Apr 4-6 off
    ("2026-04-03T17:00", 2, "2026-04-07T10:00"),
    # Labour Day: May 1-5 off, Saturday May 9 worked
    ("2026-04-30T17:00", 3, "2026-05-06T11:00"),
    ("2026-05-08T17:00", 2, "2026-05-09T10:00"),
    # Dragon Boat: Jun 19-21 off
    ("2026-06-18T17:30", 1, "2026-06-22T09:30"),
    # Mid-Autumn: Sep 25-27 off
    ("2026-09-24T18:00", 1, "2026-09-28T10:00"),
    # National Day: Oct 1-7 off, Sunday Sep 20 and Saturday Oct 10 worked
    ("2026-09-19T10:00", 1, "2026-09-20T10:00"),
    ("2026-09-30T17:00", 2, "2026-10-08T10:00"),
    ("2026-10-09T17:00", 2, "2026-10-10T10:00"),
    # 2027 has no official schedule in the libraries: computed Spring Festival days
    # (Feb 5 and Feb 8-10 are weekdays off), no crash.
    ("2027-02-04T17:00", 8, "2027-02-11T17:00"),
]


@pytest.mark.parametrize(("start", "hours", "expected"), CASES)
def test_working_hours_around_holidays(start: str, hours: float, expected: str) -> None:
    assert STANDARD.add(local(start), hours) == local(expected)


@pytest.mark.parametrize(("start", "hours", "expected"), CASES)
def test_between_inverts_add(start: str, hours: float, expected: str) -> None:
    assert STANDARD.between(local(start), local(expected)) == timedelta(hours=hours)


def test_round_the_clock_counts_every_hour() -> None:
    friday_night = local("2026-09-30T22:00")
    assert ALWAYS.add(friday_night, 4) == local("2026-10-01T02:00")
    assert ALWAYS.between(friday_night, local("2026-10-02T22:00")) == timedelta(hours=48)


def test_sales_office_works_weekends_but_not_holidays() -> None:
    sales = build_calendar(cal.SALES_OFFICE, ChinaDays(), SH)
    assert sales.add(local("2026-11-27T17:00"), 2) == local("2026-11-28T10:00")  # Saturday
    assert sales.add(local("2026-09-30T17:00"), 2) == local("2026-10-08T10:00")  # holiday


def test_configured_time_zone_moves_working_hours() -> None:
    utc_cal = build_calendar(cal.STANDARD, ChinaDays(), ZoneInfo("UTC"))
    start = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert utc_cal.add(start, 3) == datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_year_sources() -> None:
    days = ChinaDays()
    assert days.schedule(2026).source == cal.SOURCE_BUILT_IN
    assert days.schedule(2027).source == cal.SOURCE_COMPUTED
    assert days.schedule(2027).working_weekend_days == []
    assert (date(2026, 2, 14), "Spring Festival") in days.schedule(2026).working_weekend_days
    loaded = ChinaDays(
        loaded={2027: LoadedYear(2027, {date(2027, 2, 11): "春节"}, {date(2027, 2, 20): "春节"})}
    )
    assert loaded.schedule(2027).source == cal.SOURCE_LOADED
    assert not loaded.is_working_day(date(2027, 2, 11))
    assert loaded.is_working_day(date(2027, 2, 20))  # a Saturday worked
    assert loaded.is_working_day(date(2027, 2, 8))  # the computed holiday no longer applies


def test_schedule_file_is_checked() -> None:
    good = cal.parse_schedule_file(
        {"year": 2027, "holidays": {"2027-02-08": "春节"}, "workdays": ["2027-02-20"]}
    )
    assert good.workdays == {date(2027, 2, 20): ""}
    for bad, message in [
        ({"year": 2027, "holidays": ["2027-13-01"]}, "not a date"),
        ({"year": 2027, "holidays": ["2026-01-01"]}, "not in 2027"),
        ({"year": 2027, "holidays": ["2027-01-01"], "workdays": ["2027-01-04"]}, "Saturday"),
        ({"year": 2027}, "no holidays"),
        ({"year": "x", "holidays": []}, "year"),
        ({"year": 2027, "holidays": [], "extra": 1}, "unknown keys"),
    ]:
        with pytest.raises(cal.CalendarError, match=message):
            cal.parse_schedule_file(bad)


# ---------------------------------------------------------------- invariants

instants = st.datetimes(
    min_value=datetime(2025, 12, 1), max_value=datetime(2027, 11, 30), timezones=st.just(SH)
).map(lambda d: d.replace(second=0, microsecond=0))
durations = st.integers(min_value=0, max_value=200 * 60).map(lambda m: timedelta(minutes=m))


@settings(max_examples=300, deadline=None)
@given(instants, durations)
def test_between_measures_what_add_added(start: datetime, amount: timedelta) -> None:
    due = STANDARD.add(start, amount)
    assert due >= start
    assert STANDARD.between(start, due) == amount


@settings(max_examples=200, deadline=None)
@given(instants, durations, durations)
def test_add_composes_and_is_monotonic(start: datetime, a: timedelta, b: timedelta) -> None:
    assert STANDARD.add(STANDARD.add(start, a), b) == STANDARD.add(start, a + b)
    assert STANDARD.add(start, min(a, b)) <= STANDARD.add(start, max(a, b))


@settings(max_examples=200, deadline=None)
@given(instants, instants, instants)
def test_between_is_additive(a: datetime, b: datetime, c: datetime) -> None:
    a, b, c = sorted((a, b, c))
    assert STANDARD.between(a, b) + STANDARD.between(b, c) == STANDARD.between(a, c)
    assert STANDARD.between(c, a) == timedelta(0)


@settings(max_examples=200, deadline=None)
@given(instants, durations.filter(lambda d: d > timedelta(0)))
def test_due_times_fall_in_working_time(start: datetime, amount: timedelta) -> None:
    due = STANDARD.add(start, amount).astimezone(SH)
    assert STANDARD.is_working_day(due.date())
    minutes = due.hour * 60 + due.minute
    assert 9 * 60 < minutes <= 12 * 60 or 13 * 60 < minutes <= 18 * 60


# ---------------------------------------------------------------- the commands


def _flowdesk(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWDESK_")}
    env["FLOWDESK_DATABASE_URL"] = f"sqlite:///{tmp_path / 'cal.db'}"
    return subprocess.run([FLOWDESK, *args], env=env, capture_output=True, text=True, timeout=120)


def test_calendar_commands(tmp_path: Path) -> None:
    due = _flowdesk(
        tmp_path, "calendar", "due", "--from", "2026-09-30T17:00:00+08:00", "--hours", "2"
    )
    assert due.returncode == 0, due.stderr
    assert due.stdout.strip() == "2026-10-08T10:00:00+08:00"
    # An instant in UTC gives the same instant back in the configured zone.
    due_utc = _flowdesk(
        tmp_path, "calendar", "due", "--from", "2026-09-30T09:00:00Z", "--hours", "2"
    )
    assert due_utc.stdout.strip() == "2026-10-08T10:00:00+08:00"

    shown = _flowdesk(tmp_path, "calendar", "show", "2026")
    assert shown.returncode == 0
    assert "official schedule loaded" in shown.stdout
    assert "2026-10-07 Wed" in shown.stdout and "2026-02-14 Sat" in shown.stdout
    computed = _flowdesk(tmp_path, "calendar", "show", "2027", "--json")
    info = json.loads(computed.stdout)
    assert info["source"] == "computed" and info["official"] is False
    assert info["working_weekend_days"] == []

    assert _flowdesk(tmp_path, "db", "upgrade").returncode == 0
    schedule = tmp_path / "2027.json"
    schedule.write_text(
        json.dumps(
            {
                "year": 2027,
                "holidays": {
                    d: "春节"
                    for d in ["2027-02-05", "2027-02-08", "2027-02-09", "2027-02-10", "2027-02-11"]
                },
                "workdays": {"2027-02-20": "春节"},
            }
        ),
        encoding="utf-8",
    )
    loaded = _flowdesk(tmp_path, "calendar", "load", str(schedule))
    assert loaded.returncode == 0, loaded.stderr
    info = json.loads(_flowdesk(tmp_path, "calendar", "show", "2027", "--json").stdout)
    assert info["source"] == "loaded"
    assert info["working_weekend_days"] == [{"date": "2027-02-20", "name": "春节"}]
    after = _flowdesk(
        tmp_path, "calendar", "due", "--from", "2027-02-04T17:00:00+08:00", "--hours", "8"
    )
    assert after.stdout.strip() == "2027-02-12T17:00:00+08:00"

    bad = tmp_path / "bad.json"
    bad.write_text('{"year": 2027, "holidays": ["2027-02-30"]}', encoding="utf-8")
    refused = _flowdesk(tmp_path, "calendar", "load", str(bad))
    assert refused.returncode == 1 and "2027-02-30" in refused.stderr
