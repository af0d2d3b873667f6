"""The report pages (`/reports`: supervisors, executives and admins; everyone else 403).

One server-rendered page of sections, each a set of tables (the accessible truth) with
a chart drawn from the same numbers by Apache ECharts (the bundle built from
api/static/src/reports.js reads each chart's `data-chart`). The GET form's filters
(period, project, department, process) narrow every section that knows them.

Each section downloads as CSV (its tables one after another, cells guarded against
formulas as the audit export does) and as Excel (one worksheet per table):
`/reports/{section}.csv`, `/reports/{section}.xlsx`, with the page's filters.

The platform's own section is SLA by department; the vertical adds its sections with
`register_section` (crm/web/reports_sections.py), so this module names none of them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends
from fastapi.responses import HTMLResponse, Response
from openpyxl import Workbook

from api.web.kit import Page, SignedInPage, page_router, process_name, render
from engine import access, calendar, definitions, reports
from engine.audit import PendingEvent, append_events
from engine.db import unit_of_work
from engine.errors import FieldProblem, InvalidData, NotPermitted
from engine.history.export import csv_cell

router = page_router()

BUNDLE = Path(__file__).resolve().parents[1] / "static" / "dist" / "reports.js"


@dataclass(frozen=True)
class Filters:
    """The page's GET form: `since`/`until` are local dates (until inclusive)."""

    since: date | None = None
    until: date | None = None
    project: str = ""
    department: str = ""
    process: str = ""
    lost_reason: str = ""

    def start(self) -> datetime | None:
        """The period's first instant (local midnight of `since`)."""
        return _midnight(self.since) if self.since else None

    def end(self) -> datetime | None:
        """The instant after the period (local midnight after `until`)."""
        return _midnight(self.until + timedelta(days=1)) if self.until else None

    def chosen(self) -> dict[str, str]:
        """The filters given, by name (the export event's record of them)."""
        pairs = [
            ("since", self.since.isoformat() if self.since else ""),
            ("until", self.until.isoformat() if self.until else ""),
            ("project", self.project),
            ("department", self.department),
            ("process", self.process),
            ("lost_reason", self.lost_reason),
        ]
        return {k: v for k, v in pairs if v}

    def query(self) -> str:
        """The filters as a query string (for the export links)."""
        return urlencode(self.chosen())


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=calendar.timezone())


@dataclass
class Table:
    """One table of a section: its title, column headings and rows of cells (numbers
    stay numbers, for the spreadsheet); `chart` the ECharts description of it, if any."""

    title: str
    columns: list[str]
    rows: list[list[Any]]
    chart: dict[str, Any] | None = None
    links: list[str | None] = field(default_factory=list)  # per row: a drill-down link


@dataclass
class Section:
    key: str
    title: str
    tables: list[Table]
    note: str = ""


SectionMaker = Callable[[Page, Filters], Section | None]
_SECTIONS: dict[str, SectionMaker] = {}
# Where a vertical's processes and projects come from: callables giving (value, label).
_PROJECT_SOURCES: list[Callable[[Page], list[str]]] = []


_TITLES: dict[str, str] = {}  # section key → its title's text key


def register_section(key: str, maker: SectionMaker, title: str) -> None:
    """Add a section to the page (after the platform's), with its title's text key;
    registering again replaces it."""
    _SECTIONS[key] = maker
    _TITLES[key] = title


def export_summary(page: Page, data: dict[str, Any]) -> str:
    """A `report_exported` event in words: 销售漏斗 · Excel · 项目=… (the audit page)."""
    key = str(data.get("section", ""))
    title = page.t(_TITLES[key]) if key in _TITLES else key
    fmt = {"xlsx": "Excel", "csv": "CSV"}.get(str(data.get("format")), "")
    given = data.get("filters")
    chosen: dict[str, Any] = given if isinstance(given, dict) else {}
    shown = []
    for name, value in chosen.items():
        if name == "department":
            value = page.department_name(str(value))
        elif name == "process":
            value = process_name(page, str(value))
        label = page.t(FILTER_LABELS[name]) if name in FILTER_LABELS else name
        shown.append(f"{label}={value}")
    text = page.t("reports_exported", section=title, format=fmt)
    return text + (page.t("reports_exported_filters", filters=" · ".join(shown)) if shown else "")


FILTER_LABELS = {
    "since": "reports_since",
    "until": "reports_until",
    "project": "reports_project",
    "department": "reports_department",
    "process": "reports_process",
    "lost_reason": "lost_reason",
}


def register_projects(source: Callable[[Page], list[str]]) -> None:
    """Add where the project filter's choices come from (the vertical's records)."""
    if source not in _PROJECT_SOURCES:
        _PROJECT_SOURCES.append(source)


def bar_chart(
    categories: list[str], series: dict[str, list[Any]], *, horizontal: bool = False
) -> dict[str, Any]:
    """An ECharts bar chart of the page's script: one bar per category and series."""
    return {
        "type": "bar",
        "horizontal": horizontal,
        "categories": categories,
        "series": [{"name": name, "data": data} for name, data in series.items()],
    }


def percent(part: int, whole: int) -> float | None:
    """Return part/whole as a percentage with one decimal (None when whole is 0)."""
    return round(100 * part / whole, 1) if whole else None


def _reports_page(page: SignedInPage) -> Page:
    if not access.can_read_report_pages(page.actor):
        raise NotPermitted(key="error_reports_page_readers")
    return page


ReportsPage = Annotated[Page, Depends(_reports_page)]


def _date(name: str, value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidData([FieldProblem(name, key="reports_bad_date")]) from None


def _filters(
    since: str = "",
    until: str = "",
    project: str = "",
    department: str = "",
    process: str = "",
    lost_reason: str = "",
) -> Filters:
    filters = Filters(
        since=_date("since", since),
        until=_date("until", until),
        project=project.strip(),
        department=department.strip(),
        process=process.strip(),
        lost_reason=lost_reason.strip(),
    )
    if filters.since and filters.until and filters.until < filters.since:
        raise InvalidData([FieldProblem("until", key="report_page_until_before_since")])
    return filters


ReportFilters = Annotated[Filters, Depends(_filters)]


def sla_section(page: Page, filters: Filters) -> Section:
    """SLA by department: tasks done, on-time %, breaches, escalations, open, median and
    paused working hours (engine/reports.py), over the tasks created in the period."""
    report, slow = reports.sla_overview(  # one read of the period's tasks for both
        page.session,
        actor=page.actor,
        since=filters.start(),
        until=filters.end(),
        process_key=filters.process or None,
        department=filters.department or None,
    )
    items = [
        i
        for i in report["items"]
        if not filters.department or i["department"] == filters.department
    ]
    names = [page.department_name(i["department"]) for i in items]
    rows = [
        [
            name,
            i["tasks_done"],
            i["on_time_pct"],
            i["breached"],
            i["escalated"],
            i["open"],
            i["median_working_hours"],
            i["paused_hours"],
        ]
        for name, i in zip(names, items, strict=True)
    ]
    columns = [
        "reports_department",
        "reports_tasks_done",
        "reports_on_time_pct",
        "reports_breached",
        "reports_escalated",
        "reports_open",
        "reports_median_hours",
        "reports_paused_hours",
    ]
    chart = bar_chart(
        names,
        {
            page.t("reports_on_time_pct"): [i["on_time_pct"] for i in items],
            page.t("reports_breached"): [i["breached"] for i in items],
            page.t("reports_escalated"): [i["escalated"] for i in items],
        },
    )
    table = Table(page.t("reports_sla_table"), [page.t(c) for c in columns], rows, chart)
    steps = slow["steps"]
    step_names = [s["name"] for s in steps]
    step_rows = [
        [
            name,
            process_name(page, s["process_key"]),
            page.department_name(s["department"]),
            s["tasks"],
            s["breached"],
            s["escalated"],
            s["open"],
            s["median_working_hours"],
        ]
        for name, s in zip(step_names, steps, strict=True)
    ]
    bottlenecks = Table(
        page.t("reports_bottlenecks"),
        [
            page.t(c)
            for c in (
                "reports_step",
                "reports_process",
                "reports_department",
                "reports_tasks",
                "reports_breached",
                "reports_escalated",
                "reports_open",
                "reports_median_hours",
            )
        ],
        step_rows,
        bar_chart(
            [f"{r[0]}（{r[2]}）" for r in step_rows],
            {
                page.t("reports_breached"): [s["breached"] for s in steps],
                page.t("reports_median_hours"): [s["median_working_hours"] for s in steps],
            },
            horizontal=True,
        ),
    )
    by_level = slow["escalation_levels"]
    top = max((max(levels) for levels in by_level.values()), default=0)
    level_heads = [page.t("reports_level", n=n) for n in range(1, top + 1)]
    level_names = [page.department_name(d) for d in by_level]
    level_rows = [
        [name, *(levels.get(n, 0) for n in range(1, top + 1))]
        for name, levels in zip(level_names, by_level.values(), strict=True)
    ]
    escalations = Table(
        page.t("reports_escalation_levels"),
        [page.t("reports_department"), *level_heads],
        level_rows,
        bar_chart(
            level_names,
            {head: [r[n] for r in level_rows] for n, head in enumerate(level_heads, start=1)},
        ),
    )
    return Section(
        "sla",
        page.t("reports_sla"),
        [table, bottlenecks, escalations],
        note=page.t("reports_sla_note_no_project" if filters.project else "reports_sla_note"),
    )


register_section("sla", sla_section, "reports_sla")


def _sections(page: Page, filters: Filters) -> list[Section]:
    made = (maker(page, filters) for maker in _SECTIONS.values())
    return [s for s in made if s is not None]


def _one_section(page: Page, filters: Filters, key: str) -> Section:
    maker = _SECTIONS.get(key)
    section = maker(page, filters) if maker else None
    if section is None:
        raise InvalidData([FieldProblem("section", key="reports_unknown_section")])
    return section


def _cell_text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


@router.get("/reports", response_class=HTMLResponse)
def reports_home(page: ReportsPage, filters: ReportFilters) -> Response:
    sections = _sections(page, filters)
    projects = sorted({p for source in _PROJECT_SOURCES for p in source(page) if p})
    processes = [
        {"value": d.key, "label": process_name(page, d.key)}
        for d, _ in definitions.latest_versions(page.session, kind="bpmn")
    ]
    return render(
        page,
        "reports.html",
        sections=sections,
        filters=filters,
        query=filters.query(),
        projects=projects,
        processes=processes,
        departments=page.departments,
        cell=_cell_text,
        built=BUNDLE.is_file(),
    )


def csv_bytes(section: Section) -> bytes:
    """A section as CSV: each table's title, headings and rows, a blank line between."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for n, table in enumerate(section.tables):
        if n:
            writer.writerow([])
        writer.writerow([csv_cell(table.title)])
        writer.writerow([csv_cell(c) for c in table.columns])
        for row in table.rows:
            writer.writerow([csv_cell(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # BOM: Excel reads it as UTF-8


def xlsx_bytes(section: Section) -> bytes:
    """A section as an Excel workbook: one worksheet per table (headings first); text
    cells stay text (never a formula), numbers stay numbers."""
    book = Workbook()
    book.remove(book.active)
    for n, table in enumerate(section.tables, start=1):
        sheet = book.create_sheet(_sheet_title(table.title, n))
        for r, row in enumerate([table.columns, *table.rows], start=1):
            for c, value in enumerate(row, start=1):
                cell = sheet.cell(row=r, column=c)
                cell.value = value
                if isinstance(value, str):
                    cell.data_type = "s"  # "=…" stays the text it is
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet_title(title: str, n: int) -> str:
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in title).strip()
    return f"{n} {cleaned}"[:31]


def _record_export(page: Page, filters: Filters, section_key: str, fmt: str) -> None:
    """Write `report_exported` (the section, the format, the filters) to the history: a
    download leaves the system with its figures, and the call list with phone numbers."""
    with unit_of_work() as session:
        append_events(
            session,
            [
                PendingEvent(
                    type="report_exported",
                    actor=page.actor.username,
                    data={"section": section_key, "format": fmt, "filters": filters.chosen()},
                )
            ],
        )


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/reports/{section_key}.csv")
def report_csv(section_key: str, page: ReportsPage, filters: ReportFilters) -> Response:
    section = _one_section(page, filters, section_key)
    _record_export(page, filters, section_key, "csv")
    return Response(
        csv_bytes(section),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="report-{section_key}.csv"'},
    )


@router.get("/reports/{section_key}.xlsx")
def report_xlsx(section_key: str, page: ReportsPage, filters: ReportFilters) -> Response:
    section = _one_section(page, filters, section_key)
    _record_export(page, filters, section_key, "xlsx")
    return Response(
        xlsx_bytes(section),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="report-{section_key}.xlsx"'},
    )
