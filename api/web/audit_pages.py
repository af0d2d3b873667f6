"""The auditor's pages: history search with exports, a case's timeline, verification.

All of them are GET pages (auditors change nothing); an export is recorded
as a history event like the API's.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.routes.audit import export_response, scheduled_check, verification
from api.web import i18n
from api.web.pages import Page, _error_page, _page
from engine import access, calendar, history
from engine.db import unit_of_work
from engine.definitions import latest_versions
from engine.departments import DEPARTMENTS
from engine.errors import FlowdeskError

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
EVENT_TYPES = tuple(k.removeprefix("ev_") for k in i18n.MESSAGES if k.startswith("ev_"))
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


class BadFilter(ValueError):
    pass


def _local_instant(text: str, name: str) -> datetime:
    """A time typed in the page (the user's zone unless it names one)."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise BadFilter(f"{name}: not a date and time ({text!r})") from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=calendar.timezone())
    return value


def _filters(request: Request) -> tuple[history.EventFilters, dict[str, str]]:
    """Read the page's filter form; blank fields are unset."""
    query = request.query_params
    raw = {name: query.get(name, "").strip() for name in FILTER_FIELDS}
    raw["type"] = ",".join(v.strip() for v in query.getlist("type") if v.strip())
    customer: int | None = None
    if raw["customer_id"]:
        if not raw["customer_id"].isdigit():
            raise BadFilter(f"customer_id: not a number ({raw['customer_id']!r})")
        customer = int(raw["customer_id"])
    if raw["order"] not in ("", "asc", "desc"):
        raise BadFilter(f"order: asc or desc, not {raw['order']!r}")
    filters = history.EventFilters(
        process_key=raw["process_key"] or None,
        instance_id=raw["instance_id"] or None,
        business_key=raw["business_key"] or None,
        customer_id=customer,
        customer=raw["customer"] or None,
        actor=raw["actor"] or None,
        department=raw["department"] or None,
        types=tuple(t for t in raw["type"].split(",") if t),
        element_id=raw["element_id"] or None,
        since=_local_instant(raw["since"], "since") if raw["since"] else None,
        until=_local_instant(raw["until"], "until") if raw["until"] else None,
        newest_first=raw["order"] != "asc",  # the page shows the newest first by default
    )
    return filters, {k: v for k, v in raw.items() if v}


def _summary(event: Any, page: Page) -> str:
    """One line of what an event's data says."""
    data = event.data or {}
    parts = []
    for key in ("name", "assignee", "text", "reason", "level", "recipient_group", "error"):
        if data.get(key) not in (None, ""):
            parts.append(f"{key}={data[key]}")
    if data.get("recipients"):
        parts.append(f"{page.t('recipients')}: {', '.join(data['recipients'])}")
    if data.get("changes"):
        parts.append(page.t("n_changes", n=len(data["changes"])))
    if event.type == "history_exported":
        parts.append(json.dumps(data.get("filters", {}), ensure_ascii=False))
    return " · ".join(str(p) for p in parts)[:300]


@router.get("/audit", response_class=HTMLResponse)
def audit_search(request: Request) -> Response:
    page = _page(request)
    if isinstance(page, RedirectResponse):
        return page
    try:
        access.require_auditor(page.actor)
        try:
            filters, raw = _filters(request)
            after = request.query_params.get("after", "")
            cursor = int(after) if after.isdigit() else None
            size = request.query_params.get("limit", "")
            limit = min(int(size), history.MAX_PAGE) if size.isdigit() and int(size) else PAGE_SIZE
        except BadFilter as exc:
            return _search_page(page, [], None, {}, error=str(exc), status_code=400)
        with unit_of_work(write=False) as s:
            result = history.search_events(
                s, actor=page.actor, filters=filters, after=cursor, limit=limit
            )
            processes = [d.key for d, _ in latest_versions(s, kind="bpmn")]
        if limit != PAGE_SIZE:
            raw["limit"] = str(limit)
        return _search_page(page, result.events, result.next_cursor, raw, processes=processes)
    except FlowdeskError as exc:
        return _error_page(page, exc)


def _search_page(
    page: Page,
    events: list[Any],
    next_cursor: int | None,
    raw: dict[str, str],
    *,
    processes: list[str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    tz = calendar.timezone()
    rows = [
        {
            "seq": e.seq,
            "at": i18n.local_time(e.at, tz, page.language),
            "actor": e.actor,
            "type": e.type,
            "type_label": page.t(f"ev_{e.type}"),
            "process_key": e.process_key,
            "instance_id": e.instance_id,
            "element_id": e.element_id,
            "department": e.department,
            "summary": _summary(e, page),
        }
        for e in events
    ]
    query = urlencode(raw)
    return page.render(
        "audit.html",
        status_code=status_code,
        rows=rows,
        raw=raw,
        types=EVENT_TYPES,
        chosen_types=set(raw.get("type", "").split(",")),
        departments=[
            (d.code, d.name_zh if page.language == "zh-CN" else d.name_en) for d in DEPARTMENTS
        ],
        processes=processes or [],
        next_url=f"/audit?{urlencode({**raw, 'after': next_cursor})}" if next_cursor else None,
        export_query=query,
        error=i18n.t("bad_filter", page.language, problem=error) if error else None,
    )


@router.get("/audit/export")
def audit_export(request: Request) -> Response:
    page = _page(request)
    if isinstance(page, RedirectResponse):
        return page
    fmt = request.query_params.get("format", "csv")
    try:
        filters, _ = _filters(request)
        if fmt not in ("csv", "jsonl"):
            raise BadFilter(f"format: csv or jsonl, not {fmt!r}")
    except BadFilter as exc:
        return page.render("error.html", status_code=400, title=page.t("audit"), message=str(exc))
    try:
        export = history.start_export(page.actor, filters, fmt)
    except FlowdeskError as exc:
        return _error_page(page, exc)
    return export_response(export, fmt)


def _change_text(value: Any, absent: bool = False) -> str:
    """A variable's value in a change; ∅ when it did not exist (before) or was removed."""
    if absent:
        return "∅"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


@router.get("/audit/cases/{instance_id}", response_class=HTMLResponse)
def audit_case(request: Request, instance_id: str) -> Response:
    page = _page(request)
    if isinstance(page, RedirectResponse):
        return page
    try:
        with unit_of_work(write=False) as s:
            body = history.timeline(s, actor=page.actor, instance_id=instance_id)
            people = page.people(s)
    except FlowdeskError as exc:
        return _error_page(page, exc)
    tz = calendar.timezone()
    lang = page.language
    entries = []
    for e in body["events"]:
        seconds = e.get("working_seconds")
        entries.append(
            {
                **e,
                "at_local": i18n.local_time(datetime.fromisoformat(e["at"]), tz, lang),
                "who": people.get(e["actor"], e["actor"]),
                "type_label": page.t(f"ev_{e['type']}"),
                "element": (e["element_name"] or {}).get(lang) or e.get("task_name") or "",
                "took": i18n.working_duration(timedelta(seconds=seconds), lang)
                if seconds is not None
                else "",
                "change_rows": [
                    (
                        c["name"],
                        _change_text(c.get("before"), bool(c.get("added"))),
                        _change_text(c.get("after"), bool(c.get("removed"))),
                    )
                    for c in e["changes"]
                ],
            }
        )
    instance = body["instance"]
    definition = instance["definition"]
    deployed_at = definition.get("deployed_at")
    return page.render(
        "audit_case.html",
        instance=instance,
        definition=definition,
        deployed_local=i18n.local_time(datetime.fromisoformat(deployed_at), tz, lang)
        if deployed_at
        else "",
        entries=entries,
        matches=body["matches_case"],
        export_query=urlencode({"instance_id": instance_id, "order": "asc"}),
    )


@router.get("/audit/verify", response_class=HTMLResponse)
def audit_verify(request: Request) -> Response:
    page = _page(request)
    if isinstance(page, RedirectResponse):
        return page
    try:
        access.require_auditor(page.actor)
    except FlowdeskError as exc:
        return _error_page(page, exc)
    with unit_of_work(write=False) as s:
        result = verification(s)
        check = scheduled_check(s)
    tz = calendar.timezone()
    bad = result.get("first_bad_event")
    if check and check.get("checked_at"):
        check["at_local"] = i18n.local_time(
            datetime.fromisoformat(check["checked_at"]), tz, page.language
        )
    return page.render(
        "audit_verify.html",
        result=result,
        bad=bad,
        bad_at=i18n.local_time(datetime.fromisoformat(bad["at"]), tz, page.language) if bad else "",
        check=check,
    )
