"""The notifications page: the user's newest notifications, read or not."""

from __future__ import annotations

from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.web.kit import SignedInPage, WriterPage, page_router, render
from engine import calendar, notifications, texts

router = page_router()

SHOWN = 100


@router.get("/notifications", response_class=HTMLResponse)
def notification_page(page: SignedInPage) -> Response:
    rows, total, _ = notifications.list_notifications(page.session, actor=page.actor, limit=SHOWN)
    items = [
        {
            "text": notifications.render(note.kind, note.data or {}, page.language),
            "at": texts.local_time(note.created_at, calendar.timezone(), page.language),
            "read": read_at is not None,
            "task_id": note.task_id,
            "instance_id": note.instance_id,
        }
        for note, read_at in rows
    ]
    return render(page, "notifications.html", items=items, total=total)


@router.post("/notifications/read-all")
def read_all(page: WriterPage) -> RedirectResponse:
    notifications.mark_read(page.session, actor=page.actor)
    return RedirectResponse("/notifications", status_code=303)
