"""The notifications page: the user's newest notifications, read or not, each naming
its case by its case number and departments by their names."""

from __future__ import annotations

from typing import Any

from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.web.kit import SignedInPage, WriterPage, case_number, page_router, render
from engine import calendar, notifications, queries, texts

router = page_router()

SHOWN = 100

# Where a notification that names no task takes its reader: the page that resolves it.
PAGE_OF_KIND = {"calendar_computed": "/admin/calendars?year={year}"}


def _link(kind: str, data: dict[str, Any]) -> str:
    target = PAGE_OF_KIND.get(kind)
    return target.format(year=int(data.get("year") or 0)) if target else ""


@router.get("/notifications", response_class=HTMLResponse)
def notification_page(page: SignedInPage) -> Response:
    rows, total, _ = notifications.list_notifications(page.session, actor=page.actor, limit=SHOWN)
    cases = queries.instances_by_id(
        page.session, {note.instance_id for note, _ in rows if note.instance_id}
    )
    items = []
    for note, read_at in rows:
        case = cases.get(note.instance_id) if note.instance_id else None
        text = notifications.render(
            note.kind, note.data or {}, page.language, departments=page.departments
        )
        number = case_number(page, case.business_key, case.id) if case else ""
        items.append(
            {
                "text": text,
                "at": texts.local_time(note.created_at, calendar.timezone(), page.language),
                "read": read_at is not None,
                "task_id": note.task_id,
                "link": _link(note.kind, note.data or {}),
                "instance_id": note.instance_id,
                "case": "" if number in text else number,  # a text naming it says it once
            }
        )
    return render(page, "notifications.html", items=items, total=total)


@router.post("/notifications/read-all")
def read_all(page: WriterPage) -> RedirectResponse:
    notifications.mark_read(page.session, actor=page.actor)
    return RedirectResponse("/notifications", status_code=303)
