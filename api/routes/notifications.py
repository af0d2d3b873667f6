"""The signed-in user's notifications: SLA warnings, breaches, escalations."""

from __future__ import annotations

from fastapi import APIRouter, Query

from api.deps import CurrentActor, Language
from api.schemas.errors import error_responses
from api.schemas.notifications import MarkedRead, NotificationPage, NotificationRead
from engine import notifications
from engine.bounds import QUERY_INT_MAX
from engine.db import unit_of_work
from engine.departments import department_names

router = APIRouter(tags=["notifications"], responses=error_responses(401))


@router.get("/notifications", responses=error_responses(422))
def list_notifications(
    actor: CurrentActor,
    language: Language,
    unread: bool = False,
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0, le=QUERY_INT_MAX),
) -> NotificationPage:
    """Return my notifications, newest first, with the unread count."""
    with unit_of_work(write=False) as session:
        rows, total, unread_count = notifications.list_notifications(
            session, actor=actor, unread_only=unread, limit=limit, offset=offset
        )
        departments = department_names(session, language)
        return NotificationPage(
            items=[
                NotificationRead(
                    id=n.id,
                    kind=n.kind,
                    text=notifications.render(
                        n.kind, n.data or {}, language, departments=departments
                    ),
                    task_id=n.task_id,
                    instance_id=n.instance_id,
                    data=n.data,
                    created_at=n.created_at,
                    read_at=read_at,
                    to_department=n.department,
                )
                for n, read_at in rows
            ],
            total=total,
            unread=unread_count,
        )


@router.post("/notifications/{notification_id}/read", responses=error_responses(403, 404, 422))
def read_one(notification_id: int, actor: CurrentActor) -> MarkedRead:
    """Mark one of my notifications as read."""
    with unit_of_work() as session:
        return MarkedRead(
            marked=notifications.mark_read(session, actor=actor, notification_id=notification_id)
        )


@router.post("/notifications/read-all", responses=error_responses(403))
def read_all(actor: CurrentActor) -> MarkedRead:
    """Mark all my notifications as read."""
    with unit_of_work() as session:
        return MarkedRead(marked=notifications.mark_read(session, actor=actor))
