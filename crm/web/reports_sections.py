"""The vertical's sections of the report pages (api/web/reports.py): the lead funnel
per project and consultant with its lost reasons, the lost leads as a call list,
complaints by category, project and channel with the reopen rate, and satisfaction
recorded by staff beside the customers' own answers (crm/satisfaction.py).

Codes read as people read them: stages by the catalogue, categories, channels and lost
reasons by the option names of the processes' forms, departments and consultants by
name.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, literal, select

from api.web.kit import Page, value_text_of
from api.web.reports import (
    Filters,
    Section,
    Table,
    bar_chart,
    percent,
    register_projects,
    register_section,
)
from crm.funnel import FUNNEL_STAGES, funnel_report
from crm.models import Complaint, Customer, Lead, LeadStage
from crm.records import COMPLAINT_PROCESS, LEAD_PROCESS
from crm.satisfaction import satisfaction_report
from engine import calendar, clock, definitions
from engine.models.base import UTCDateTime
from engine.privacy import mask_phone, phones_whole_in
from engine.report_sql import count_if, grouped, seconds_between

WON_STAGES = ("won", "owner")


def _option_names(page: Page, process_key: str, name: str) -> Callable[[str | None], str]:
    """Return how a code of one of a process's form fields reads (the newest version's
    option names); no code reads as 未填写."""
    version_id = definitions.get_version(page.session, process_key).id
    cache: dict[str, str] = {}

    def label(code: str | None) -> str:
        if not code:
            return page.t("reports_not_given")
        if code not in cache:
            cache[code] = value_text_of(page, version_id, name, code)
        return cache[code]

    return label


def _local_date(value: datetime | None) -> str:
    return clock.to_utc(value).astimezone(calendar.timezone()).date().isoformat() if value else ""


def _shows(filters: Filters, process_key: str) -> bool:
    return filters.process in ("", process_key)


def _projects(page: Page) -> list[str]:
    leads = page.session.execute(select(Lead.project).distinct()).scalars()
    complaints = page.session.execute(select(Complaint.project).distinct()).scalars()
    return [p for p in (*leads, *complaints) if p]


register_projects(_projects)


# ---------------------------------------------------------------- the lead funnel


def _lead_conditions(filters: Filters) -> list[Any]:
    conditions: list[Any] = [Lead.outcome != "cancelled", *_period(Lead.created_at, filters)]
    if filters.project:
        conditions.append(Lead.project == filters.project)
    return conditions


def _period(column: Any, filters: Filters) -> list[Any]:
    """The rows whose `column` falls in the filters' period."""
    start, end = filters.start(), filters.end()
    return [
        *([column >= clock.to_utc(start)] if start is not None else []),
        *([column < clock.to_utc(end)] if end is not None else []),
    ]


def _days_in_stage(page: Page, filters: Filters) -> dict[str, float]:
    """Return the mean days the leads spent in each stage they entered: until the next
    stage, or until now for the stage a running lead is in (a closed lead's last stage
    counts no time). Stages in time, and in the order written at one instant."""
    following = func.lead(LeadStage.at).over(
        partition_by=LeadStage.lead_id, order_by=(LeadStage.at, LeadStage.id)
    )
    running = case((Lead.outcome == "open", literal(clock.now(), UTCDateTime())))
    entries = (
        select(
            LeadStage.stage.label("stage"),
            LeadStage.at.label("at"),
            func.coalesce(following, running).label("until"),
        )
        .join(Lead, Lead.id == LeadStage.lead_id)
        .where(*_lead_conditions(filters))
        .subquery("entries")
    )
    spent = seconds_between(page.session, entries.c.at, entries.c.until)
    rows = page.session.execute(
        select(entries.c.stage, func.count(), func.sum(spent))
        .where(entries.c.until.is_not(None))
        .group_by(entries.c.stage)
    )
    return {stage: round(float(total) / n / 86400, 1) for stage, n, total in rows if n}


def funnel_section(page: Page, filters: Filters) -> Section | None:
    """Stages reached and the conversion between them, per consultant, lost reasons."""
    if not _shows(filters, LEAD_PROCESS):
        return None
    report = funnel_report(
        page.session,
        actor=page.actor,
        project=filters.project or None,
        since=filters.start(),
        until=filters.end(),
    )
    stage_names = [page.t(f"stage_{s}") for s in FUNNEL_STAGES]
    rates = {c["to"]: c["rate"] for c in report["conversion"]}
    days = _days_in_stage(page, filters)
    stage_rows = [
        [
            name,
            report["reached"][stage],
            report["stages"][stage],
            round(100 * rates[stage], 1) if rates.get(stage) is not None else None,
            days.get(stage),
        ]
        for stage, name in zip(FUNNEL_STAGES, stage_names, strict=True)
    ]
    stages = Table(
        page.t("reports_funnel_stages"),
        [
            page.t("stage"),
            page.t("reports_reached"),
            page.t("reports_now_at"),
            page.t("reports_conversion_pct"),
            page.t("reports_days_in_stage"),
        ],
        stage_rows,
        bar_chart(
            stage_names,
            {page.t("reports_reached"): [r[1] for r in stage_rows]},
            horizontal=True,
        ),
    )
    reason = _option_names(page, LEAD_PROCESS, "lost_reason")
    lost_total = sum(report["lost_reasons"].values())
    reasons = [(code, n) for code, n in report["lost_reasons"].items() if n]
    reason_rows = [[reason(code), n, percent(n, lost_total)] for code, n in reasons]
    query = filters.query()
    lost = Table(
        page.t("reports_lost_reasons"),
        [page.t("lost_reason"), page.t("reports_leads"), page.t("reports_share_pct")],
        reason_rows,
        bar_chart([r[0] for r in reason_rows], {page.t("reports_leads"): [n for _, n in reasons]}),
        links=[
            f"/reports?{query}{'&' if query else ''}lost_reason={code}#section-lost_leads"
            for code, _ in reasons
        ],
    )
    per_consultant: dict[str, Counter[str]] = defaultdict(Counter)
    for (consultant,), counts in grouped(
        page.session,
        [Lead.consultant],
        {
            "leads": func.count(),
            "won": count_if(Lead.stage.in_(WON_STAGES)),
            "lost": count_if(Lead.stage == "lost"),
        },
        _lead_conditions(filters),
    ).items():
        per_consultant[consultant or ""].update({k: int(v) for k, v in counts.items()})
    names = sorted(per_consultant, key=lambda u: (not u, u))
    people = [page.people.get(u, u) if u else page.t("reports_no_consultant") for u in names]
    consultant_rows = [
        [
            person,
            per_consultant[u]["leads"],
            per_consultant[u]["won"],
            per_consultant[u]["lost"],
            percent(per_consultant[u]["won"], per_consultant[u]["leads"]),
        ]
        for u, person in zip(names, people, strict=True)
    ]
    consultants = Table(
        page.t("reports_per_consultant"),
        [
            page.t("consultant"),
            page.t("reports_leads"),
            page.t("stage_won"),
            page.t("stage_lost"),
            page.t("reports_win_pct"),
        ],
        consultant_rows,
        bar_chart(
            people,
            {
                page.t("stage_won"): [r[2] for r in consultant_rows],
                page.t("stage_lost"): [r[3] for r in consultant_rows],
            },
        ),
    )
    return Section(
        "funnel",
        page.t("reports_funnel"),
        [stages, consultants, lost],
        note=page.t("reports_funnel_note", total=report["total"]),
    )


def lost_leads_section(page: Page, filters: Filters) -> Section | None:
    """The lost leads (of one reason when the drill-down chose one): a call list for the
    next project — customer, phone, project, consultant, reason, when lost."""
    if not _shows(filters, LEAD_PROCESS):
        return None
    reason = _option_names(page, LEAD_PROCESS, "lost_reason")
    conditions = [*_lead_conditions(filters), Lead.stage == "lost"]
    if filters.lost_reason:
        conditions.append(Lead.lost_reason == filters.lost_reason)
    found = page.session.execute(
        select(
            Lead.instance_id,
            Customer.name,
            Customer.phone,
            Lead.project,
            Lead.consultant,
            Lead.lost_reason,
            Lead.closed_at,
        )
        .join(Customer, Customer.id == Lead.customer_id)
        .where(*conditions)
        .order_by(Lead.closed_at.desc(), Lead.id)
    ).all()
    whole = phones_whole_in(page.session, actor=page.actor, instance_ids=[r[0] for r in found])
    rows = [
        [
            name,
            phone if instance_id in whole else mask_phone(phone),
            project,
            page.people.get(consultant or "", consultant or ""),
            reason(lost_reason),
            _local_date(closed),
        ]
        for instance_id, name, phone, project, consultant, lost_reason, closed in found
    ]
    title = page.t("reports_lost_leads")
    if filters.lost_reason:
        title = page.t("reports_lost_leads_of", reason=reason(filters.lost_reason))
    table = Table(
        title,
        [
            page.t("reports_customer"),
            page.t("reports_phone"),
            page.t("reports_project"),
            page.t("consultant"),
            page.t("lost_reason"),
            page.t("reports_lost_on"),
        ],
        rows,
    )
    return Section("lost_leads", page.t("reports_call_list"), [table])


# ---------------------------------------------------------------- complaints


def complaints_section(page: Page, filters: Filters) -> Section | None:
    """Complaints by category, project and channel: registered, closed, reopened, the
    reopen rate (of the complaints registered in the period)."""
    if not _shows(filters, COMPLAINT_PROCESS):
        return None
    conditions: list[Any] = [
        Complaint.status != "cancelled",
        *_period(Complaint.created_at, filters),
    ]
    if filters.project:
        conditions.append(Complaint.project == filters.project)
    if filters.department:
        conditions.append(Complaint.responsible_department == filters.department)
    counted = grouped(
        page.session,
        [Complaint.category, Complaint.project, Complaint.channel],
        {
            "all": func.count(),
            "closed": count_if(Complaint.status == "closed"),
            "reopened": count_if(Complaint.reopen_count > 0),
        },
        conditions,
    )
    category = _option_names(page, COMPLAINT_PROCESS, "category")
    channel = _option_names(page, COMPLAINT_PROCESS, "channel")
    groups = (
        ("reports_by_category", page.t("category"), 0, category),
        (
            "reports_by_project",
            page.t("reports_project"),
            1,
            lambda p: p or page.t("reports_not_given"),
        ),
        ("reports_by_channel", page.t("reports_channel"), 2, channel),
    )
    columns = [
        page.t("reports_complaints"),
        page.t("reports_closed"),
        page.t("reports_reopened"),
        page.t("reports_reopen_pct"),
    ]
    tables = []
    for title, heading, index, label in groups:
        tally: dict[Any, Counter[str]] = defaultdict(Counter)
        for key, counts in counted.items():
            tally[key[index]].update({k: int(v) for k, v in counts.items()})
        keys = sorted(tally, key=lambda k: (-tally[k]["all"], k or ""))
        names = [label(k) for k in keys]
        table_rows = [
            [
                name,
                tally[k]["all"],
                tally[k]["closed"],
                tally[k]["reopened"],
                percent(tally[k]["reopened"], tally[k]["all"]),
            ]
            for k, name in zip(keys, names, strict=True)
        ]
        chart = bar_chart(
            names,
            {
                columns[0]: [r[1] for r in table_rows],
                columns[2]: [r[3] for r in table_rows],
            },
        )
        tables.append(Table(page.t(title), [heading, *columns], table_rows, chart))
    total = sum(int(c["all"]) for c in counted.values())
    reopened = sum(int(c["reopened"]) for c in counted.values())
    return Section(
        "complaints",
        page.t("reports_complaints_title"),
        tables,
        note=page.t(
            "reports_complaints_note",
            total=total,
            reopened=reopened,
            pct=f"{percent(reopened, total):g}" if total else "—",
        ),
    )


# ---------------------------------------------------------------- satisfaction


def _score(value: float | None) -> float | None:
    return round(value, 2) if value is not None else None


def satisfaction_section(page: Page, filters: Filters) -> Section | None:
    """Satisfaction by project, responsible department and category: the return visits'
    scores staff recorded beside the customers' own survey answers."""
    if not _shows(filters, COMPLAINT_PROCESS):
        return None
    category = _option_names(page, COMPLAINT_PROCESS, "category")
    groups = (
        ("project", "reports_by_project", page.t("reports_project"), None),
        ("department", "reports_by_department", page.t("reports_department"), None),
        ("category", "reports_by_category", page.t("category"), category),
    )
    columns = [
        page.t("reports_returned"),
        page.t("reports_staff_average"),
        page.t("reports_low"),
        page.t("reports_reopened"),
        page.t("reports_customer_answered"),
        page.t("reports_customer_average"),
    ]
    tables = []
    for group_by, title, heading, label in groups:
        report = satisfaction_report(
            page.session,
            actor=page.actor,
            group_by=group_by,
            since=filters.start(),
            until=filters.end(),
            project=filters.project or None,
            department=filters.department or None,
        )
        items = report["items"]

        def name(key: Any, group: str = group_by, option: Any = label) -> str:
            if not key:
                return page.t("reports_not_given")
            if group == "department":
                return page.department_name(key)
            return option(key) if option else str(key)

        names = [name(i["key"]) for i in items]
        rows = [
            [
                n,
                i["returned"],
                _score(i["average"]),
                i["low"],
                i["reopened"],
                i["customer_answered"],
                _score(i["customer_average"]),
            ]
            for n, i in zip(names, items, strict=True)
        ]
        chart = bar_chart(
            names,
            {columns[1]: [r[2] for r in rows], columns[5]: [r[6] for r in rows]},
        )
        tables.append(Table(page.t(title), [heading, *columns], rows, chart))
    return Section(
        "satisfaction",
        page.t("reports_satisfaction"),
        tables,
        note=page.t("reports_satisfaction_note"),
    )


register_section("funnel", funnel_section, "reports_funnel")
register_section("lost_leads", lost_leads_section, "reports_call_list")
register_section("complaints", complaints_section, "reports_complaints_title")
register_section("satisfaction", satisfaction_section, "reports_satisfaction")
