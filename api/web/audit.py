"""The auditor's pages: history search with exports, a case's timeline, verification.

All of them are GET pages (auditors change nothing); an export is recorded
as a history event like the API's.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi.responses import HTMLResponse, Response

from api.routes.audit import export_response, scheduled_check, verification
from api.web import reports as report_pages
from api.web.kit import (
    AuditorPage,
    Page,
    case_number,
    page_router,
    process_name,
    recipient_group_text,
    render,
)
from engine import calendar, queries, texts
from engine.bounds import QUERY_INT_MAX, ROW_ID_MAX, instant_in_range
from engine.definitions import latest_versions, version_variables
from engine.history.export import start_export
from engine.history.search import MAX_PAGE, EventFilters, search_events
from engine.history.timeline import case_timeline
from engine.models import Instance
from forms.display import label_of, value_text

router = page_router()

PAGE_SIZE = 50
EVENT_TYPES = texts.event_type_names()
FILTER_FIELDS = (
    "process_key",
    "instance_id",
    "business_key",
    "customer_id",
    "customer",
    "actor",
    "department",
    "type",
    "element_id",
    "since",
    "until",
    "order",
)


def _local_instant(text: str) -> datetime | None:
    """A time typed in the page (the user's zone unless it names one); None if it is none."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    if not instant_in_range(value):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=calendar.timezone())


def _whole(text: str, highest: int) -> bool:
    """Tell whether `text` is a whole number from 1 to `highest` (ASCII digits only)."""
    return text.isascii() and text.isdigit() and 1 <= int(text) <= highest


def _filters(page: Page) -> tuple[EventFilters | None, dict[str, str], str]:
    """Read the page's filter form (blank fields are unset): the filters, the fields
    given, and what is wrong with them in the page's language ('' when nothing)."""
    query = page.request.query_params
    raw = {name: query.get(name, "").strip() for name in FILTER_FIELDS}
    raw["type"] = ",".join(v.strip() for v in query.getlist("type") if v.strip())
    given = {k: v for k, v in raw.items() if v}
    if raw["customer_id"] and not _whole(raw["customer_id"], ROW_ID_MAX):
        return (
            None,
            given,
            page.t("bad_filter_number", name="customer_id", value=repr(raw["customer_id"])),
        )
    if raw["order"] not in ("", "asc", "desc"):
        return None, given, page.t("bad_filter_order", value=repr(raw["order"]))
    instants: dict[str, datetime | None] = {}
    for name in ("since", "until"):
        instants[name] = _local_instant(raw[name]) if raw[name] else None
        if raw[name] and instants[name] is None:
            return None, given, page.t("bad_filter_instant", name=name, value=repr(raw[name]))
    filters = EventFilters(
        process_key=raw["process_key"] or None,
        instance_id=raw["instance_id"] or None,
        business_key=raw["business_key"] or None,
        customer_id=int(raw["customer_id"]) if raw["customer_id"] else None,
        customer=raw["customer"] or None,
        actor=raw["actor"] or None,
        department=raw["department"] or None,
        types=tuple(t for t in raw["type"].split(",") if t),
        element_id=raw["element_id"] or None,
        since=instants["since"],
        until=instants["until"],
        newest_first=raw["order"] != "asc",  # the page shows the newest first by default
    )
    return filters, given, ""


def _summary(event: Any, page: Page) -> str:
    """One line of what an event's data says, in words (the export keeps the data)."""
    data = event.data or {}
    parts = []
    if data.get("assignee"):
        assignee = page.people.get(data["assignee"], data["assignee"])
        parts.append(page.t("summary_assignee", assignee=assignee))
    if data.get("text"):
        parts.append(page.t("summary_text", text=data["text"]))
    if data.get("reason"):
        parts.append(page.t("summary_reason", reason=_reason_text(page, data["reason"])))
    if data.get("level"):
        parts.append(page.t("summary_level", level=data["level"]))
    if data.get("recipient_group"):
        parts.append(recipient_group_text(page, data["recipient_group"]))
    if data.get("error"):
        parts.append(page.t("summary_error", error=data["error"]))
    if data.get("recipients"):
        names = [page.people.get(r, r) for r in data["recipients"]]
        parts.append(f"{page.t('recipients')}: {', '.join(names)}")
    if data.get("changes"):
        parts.append(page.t("n_changes", n=len(data["changes"])))
    if event.type == "report_exported":
        parts.append(report_pages.export_summary(page, data))
    if event.type == "history_exported":
        parts.append(page.t("summary_exported", filters=_filters_text(page, data.get("filters"))))
    return " · ".join(str(p) for p in parts)[:300]


# The export event's filters (EventFilters.describe()) by the search form's labels.
FILTER_LABELS = {
    "process_key": "filter_process",
    "instance_id": "filter_case",
    "business_key": "filter_business_key",
    "customer_id": "filter_customer",
    "customer": "filter_customer",
    "actor": "filter_actor",
    "department": "filter_department",
    "types": "filter_type",
    "element_id": "filter_element",
    "since": "filter_since",
    "until": "filter_until",
}


def _filters_text(page: Page, filters: Any) -> str:
    """An export's filters in words: 流程=投诉处理 · 部门=工程部 (— when none)."""
    if not isinstance(filters, dict):
        return "—"
    parts = []
    for name, value in filters.items():
        if name not in FILTER_LABELS:
            continue  # the order and the page size say nothing of what was exported
        if name == "process_key":
            value = process_name(page, value)
        elif name == "department":
            value = page.department_name(value)
        elif name == "types":
            value = "、".join(page.t(f"ev_{t}") for t in value)
        parts.append(f"{page.t(FILTER_LABELS[name])}={value}")
    return "，".join(parts) or "—"


def _reason_text(page: Page, reason: Any) -> str:
    """A reason code in words when the catalogue names it (a pause's reason)."""
    for key in (f"pause_reason_{reason}", f"reason_{reason}"):
        if isinstance(reason, str) and texts.has_text(key):
            return page.t(key)
    return str(reason)


def _element_text(page: Page, event: Any, instance: Instance | None) -> str:
    """The element an event happened at by its name (a deployment: the process's)."""
    if not event.element_id:
        return ""
    if instance is None:
        if event.type == "definition_deployed":
            return process_name(page, event.element_id)
        return str((event.data or {}).get("name") or event.element_id)
    default = (event.data or {}).get("name") or event.element_id
    return page.element_name(instance.version_id, event.element_id, default)


@router.get("/audit", response_class=HTMLResponse)
def audit_search(page: AuditorPage) -> Response:
    filters, raw, problem = _filters(page)
    if filters is None:
        return _search_page(page, [], None, {}, error=problem, status_code=400)
    after = page.request.query_params.get("after", "")
    size = page.request.query_params.get("limit", "")
    limit = min(int(size), MAX_PAGE) if _whole(size, QUERY_INT_MAX) else PAGE_SIZE
    result = search_events(
        page.session,
        actor=page.actor,
        filters=filters,
        after=int(after) if _whole(after, QUERY_INT_MAX) else None,
        limit=limit,
    )
    if limit != PAGE_SIZE:
        raw["limit"] = str(limit)
    processes = [d.key for d, _ in latest_versions(page.session, kind="bpmn")]
    return _search_page(page, result.events, result.next_cursor, raw, processes=processes)


def _search_page(
    page: Page,
    events: list[Any],
    next_cursor: int | None,
    raw: dict[str, str],
    *,
    processes: list[str] | None = None,
    error: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    tz = calendar.timezone()
    cases = queries.instances_by_id(page.session, {e.instance_id for e in events if e.instance_id})
    rows = []
    for e in events:
        case = cases.get(e.instance_id) if e.instance_id else None
        rows.append(
            {
                "seq": e.seq,
                "at": texts.local_time(e.at, tz, page.language),
                "actor": page.people.get(e.actor, e.actor),
                "type": e.type,
                "type_label": page.t(f"ev_{e.type}"),
                "process": process_name(page, e.process_key),
                "instance_id": e.instance_id,
                "case": case_number(page, case.business_key if case else None, e.instance_id)
                if e.instance_id
                else "",
                "element": _element_text(page, e, case),
                "element_id": e.element_id,
                "department": page.department_name(e.department) if e.department else "",
                "summary": _summary(e, page),
            }
        )
    return render(
        page,
        "audit.html",
        status_code=status_code,
        rows=rows,
        raw=raw,
        types=EVENT_TYPES,
        chosen_types=set(raw.get("type", "").split(",")),
        departments=list(page.departments.items()),
        processes=[(key, process_name(page, key)) for key in processes or []],
        next_url=f"/audit?{urlencode({**raw, 'after': next_cursor})}" if next_cursor else None,
        export_query=urlencode(raw),
        error=page.t("bad_filter", problem=error) if error else None,
    )


@router.get("/audit/export")
def audit_export(page: AuditorPage) -> Response:
    fmt = page.request.query_params.get("format", "csv")
    filters, _, problem = _filters(page)
    if filters is not None and fmt not in ("csv", "jsonl"):
        problem = page.t("bad_filter_format", value=repr(fmt))
    if filters is None or problem:
        return render(page, "error.html", status_code=400, title=page.t("audit"), message=problem)
    return export_response(start_export(page.actor, filters, fmt), fmt)


def _change_text(page: Page, spec: dict[str, Any], value: Any, absent: bool = False) -> str:
    """A variable's value in a change, in words; ∅ when it did not exist (before) or was
    removed, — when it was empty."""
    if absent:
        return "∅"
    return value_text(spec, value, page.language, page.names) or "—"


@router.get("/audit/cases/{instance_id}", response_class=HTMLResponse)
def audit_case(page: AuditorPage, instance_id: str) -> Response:
    body = case_timeline(page.session, actor=page.actor, instance_id=instance_id)
    tz = calendar.timezone()
    lang = page.language
    case = queries.instances_by_id(page.session, {instance_id}).get(instance_id)
    specs = version_variables(page.session, case.version_id) if case else {}
    entries = []
    for e in body["events"]:
        seconds = e.get("working_seconds")
        entries.append(
            {
                **e,
                "at_local": texts.local_time(datetime.fromisoformat(e["at"]), tz, lang),
                "who": page.people.get(e["actor"], e["actor"]),
                "actor_department_name": page.department_name(e["actor_department"])
                if e.get("actor_department")
                else "",
                "department_name": page.department_name(e["department"])
                if e.get("department")
                else "",
                "type_label": page.t(f"ev_{e['type']}"),
                "element": (e["element_name"] or {}).get(lang) or e.get("task_name") or "",
                "took": texts.working_duration(timedelta(seconds=seconds), lang)
                if seconds is not None
                else "",
                "reason_text": _reason_text(page, e["data"]["reason"])
                if e["data"].get("reason")
                else "",
                "recipient_names": [page.people.get(r, r) for r in e.get("recipients") or []],
                "recipient_group_text": recipient_group_text(page, e.get("recipient_group")),
                "change_rows": [_change_row(page, specs, c) for c in e["changes"]],
            }
        )
    instance = body["instance"]
    definition = instance["definition"]
    deployed_at = definition.get("deployed_at")
    return render(
        page,
        "audit_case.html",
        instance=instance,
        number=case_number(page, instance.get("business_key"), instance.get("id") or instance_id),
        process=process_name(page, definition.get("key")),
        definition=definition,
        deployed_local=texts.local_time(datetime.fromisoformat(deployed_at), tz, lang)
        if deployed_at
        else "",
        entries=entries,
        matches=body["matches_case"],
        export_query=urlencode({"instance_id": instance_id, "order": "asc"}),
    )


def _change_row(
    page: Page, specs: dict[str, dict[str, Any]], change: dict[str, Any]
) -> tuple[str, str, str]:
    """One variable's change as (label, before, after) in words."""
    spec = specs.get(change["name"], {"name": change["name"]})
    return (
        label_of(spec, page.language),
        _change_text(page, spec, change.get("before"), bool(change.get("added"))),
        _change_text(page, spec, change.get("after"), bool(change.get("removed"))),
    )


@router.get("/audit/verify", response_class=HTMLResponse)
def audit_verify(page: AuditorPage) -> Response:
    result = verification(page.session)
    check = scheduled_check(page.session)
    tz = calendar.timezone()
    bad = result.get("first_bad_event")
    if check and check.get("checked_at"):
        check["at_local"] = texts.local_time(
            datetime.fromisoformat(check["checked_at"]), tz, page.language
        )
    return render(
        page,
        "audit_verify.html",
        result=result,
        bad=bad,
        bad_at=texts.local_time(datetime.fromisoformat(bad["at"]), tz, page.language)
        if bad
        else "",
        check=check,
    )
