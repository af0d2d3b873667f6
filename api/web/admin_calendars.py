"""The admins' calendars and departments page (`/admin/calendars`): a year's days off and
weekend days worked with where they come from, the upload of the State Council's
schedule (the JSON file of the README), each department's calendar and display names.

Each form is one engine call (engine/calendar_admin.py, engine/department_admin.py);
a refused one shows the page again with the message, and nothing is written."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

import chinese_calendar
from fastapi import Depends
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from api.web.kit import (
    Page,
    PostedForm,
    Refusal,
    SignedInPage,
    form_shown_again_by,
    page_router,
    render,
)
from engine import access, calendar, clock, texts
from engine.calendar_admin import assign_calendar, load_schedule
from engine.department_admin import list_departments, rename_department
from engine.errors import FieldProblem, InvalidData

router = page_router()

PATH = "/admin/calendars"
# An official schedule is a few dozen dates: a bigger file is not one.
MAX_FILE_BYTES = 64 * 1024
# What a redirect after a saved form may announce (`?done=`).
DONE_NOTICES = ("admin_department_renamed_ok", "admin_department_calendar_ok")


def holiday_name(name: str, language: str) -> str:
    """Return a holiday's name in the page's language: the built-in and computed schedules
    name them in English ("Labor Day (observed)", "Mid-Autumn Festival; National Day");
    a loaded file's names as given."""
    if "; " in name:
        separator = "、" if language == "zh-CN" else "; "
        return separator.join(holiday_name(part, language) for part in name.split("; "))
    base, observed = name, False
    if base.endswith(" (observed)"):
        base, observed = base.removesuffix(" (observed)"), True
    key = "holiday_" + re.sub(r"[^a-z0-9]+", "_", base.casefold()).strip("_")
    shown = texts.text(key, language) if texts.has_text(key) else base
    return texts.text("holiday_observed", language, name=shown) if observed else shown


def _days(page: Page, days: list[tuple[date, str]]) -> list[dict[str, str]]:
    return [
        {
            "date": day.isoformat(),
            "weekday": page.t(f"weekday_{day.weekday()}"),
            "name": holiday_name(name, page.language),
        }
        for day, name in days
    ]


def _source_text(page: Page, year: int, source: str) -> str:
    if source == calendar.SOURCE_LOADED:
        loaded = calendar.china_days(page.session).loaded[year]  # as the schedule read it
        who = page.people.get(loaded.loaded_by or "", loaded.loaded_by or "")
        at = texts.local_time(loaded.loaded_at, calendar.timezone(), page.language)
        return page.t("admin_calendar_source_loaded", who=who, at=at)
    if source == calendar.SOURCE_BUILT_IN:
        return page.t("admin_calendar_source_built_in", version=chinese_calendar.__version__)
    return page.t("admin_calendar_source_computed")


def _shown_year(raw: Any) -> int:
    this_year = clock.now().astimezone(calendar.timezone()).year
    try:
        year = int(str(raw))
    except ValueError:
        return this_year
    return year if 2000 <= year <= 2100 else this_year


def _calendars_page(
    page: Page,
    *,
    year: Any = None,
    refusal: Refusal | None = None,
    done: str = "",
    loaded: bool = False,
) -> Response:
    access.require_admin(page.actor)
    shown = _shown_year(year)
    days = calendar.china_days(page.session)
    schedule = days.schedule(shown)
    this_year = clock.now().astimezone(calendar.timezone()).year
    departments = [
        {
            "code": row.code,
            "name": page.department_name(row.code),
            "name_zh": row.name_zh,
            "name_en": row.name_en,
            "calendar": row.calendar or calendar.STANDARD,
        }
        for row in list_departments(page.session)
    ]
    refused_code = refusal.values.get("department") if refusal else None
    return render(
        page,
        "admin_calendars.html",
        status_code=refusal.status_code if refusal else 200,
        year=shown,
        years=sorted({*range(this_year - 1, this_year + 3), *days.loaded, shown}),
        source=schedule.source,
        source_text=_source_text(page, shown, schedule.source),
        nonworking=_days(page, schedule.nonworking_weekdays),
        working_weekends=_days(page, schedule.working_weekend_days),
        departments=departments,
        calendars=[(name, page.t(f"calendar_name_{name}")) for name in calendar.CALENDAR_NAMES],
        refusal=refusal,
        refused_code=refused_code,
        done=page.t("admin_calendar_loaded_ok", year=shown)
        if loaded and schedule.source == calendar.SOURCE_LOADED
        else (page.t(done) if done in DONE_NOTICES else ""),
    )


@router.get(PATH, response_class=HTMLResponse)
def calendars_page(
    page: SignedInPage, year: str | None = None, loaded: str | None = None, done: str = ""
) -> Response:
    if loaded is not None:  # back from an upload: that year, and what was done
        return _calendars_page(page, year=loaded, loaded=True)
    return _calendars_page(page, year=year, done=done)


def _show_again(page: Page, refusal: Refusal) -> Response:
    return _calendars_page(page, year=refusal.values.get("year"), refusal=refusal)


CalendarsForm = Annotated[PostedForm, Depends(form_shown_again_by(_show_again))]


def _back(year: Any, **query: str) -> RedirectResponse:
    return RedirectResponse(f"{PATH}?{urlencode({'year': _shown_year(year), **query})}", 303)


def _uploaded_schedule(upload: Any) -> calendar.LoadedYear:
    """Read the uploaded file as a year's schedule; InvalidData (field `file`) otherwise."""

    def refused(key: str, **params: Any) -> InvalidData:
        return InvalidData([FieldProblem("file", key=key, params=params)])

    if not isinstance(upload, UploadFile) or not upload.filename:
        raise refused("calendar_file_missing")
    raw = upload.file.read(MAX_FILE_BYTES + 1)
    if not raw:
        raise refused("calendar_file_missing")
    if len(raw) > MAX_FILE_BYTES:
        raise refused("calendar_file_too_large", kb=MAX_FILE_BYTES // 1024)
    try:
        payload = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise refused("calendar_file_not_utf8") from None
    except json.JSONDecodeError as exc:
        raise refused("calendar_file_not_json", line=exc.lineno, column=exc.colno) from None
    try:
        return calendar.parse_schedule_file(payload)
    except calendar.CalendarError as exc:
        raise refused(exc.key or "calendar_file_not_object", **exc.params) from None


@router.post(f"{PATH}/upload")
def upload_schedule(page: SignedInPage, form: CalendarsForm) -> RedirectResponse:
    """Load the uploaded official schedule of a year (admins); event `calendar_loaded`."""
    access.require_admin(page.actor)
    upload = form.get("file")
    schedule = _uploaded_schedule(upload)
    load_schedule(page.session, schedule=schedule, actor=page.actor, source=upload.filename[:300])
    return _back(schedule.year, loaded=str(schedule.year))


@router.post(f"{PATH}/departments/{{code}}")
def set_department_calendar(code: str, page: SignedInPage, form: CalendarsForm) -> Response:
    """Give a department its calendar (admins); event `department_calendar_changed`."""
    access.require_admin(page.actor)
    assign_calendar(
        page.session, department=code, name=str(form.get("calendar") or ""), actor=page.actor
    )
    return _back(form.get("year"), done="admin_department_calendar_ok")


@router.post("/admin/departments/{code}")
def rename(code: str, page: SignedInPage, form: CalendarsForm) -> Response:
    """Rename a department in both languages (admins); event `department_renamed`."""
    access.require_admin(page.actor)
    rename_department(
        page.session,
        code=code,
        name_zh=str(form.get("name_zh") or ""),
        name_en=str(form.get("name_en") or ""),
        actor=page.actor,
    )
    return _back(form.get("year"), done="admin_department_renamed_ok")
