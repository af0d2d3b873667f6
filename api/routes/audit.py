"""Auditors: history search and chain verification."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query

from api.deps import CurrentActor
from api.schemas import event_read
from engine import access, audit, queries
from engine.db import unit_of_work

router = APIRouter(tags=["audit"])


@router.get("/audit/events")
def search_events(
    actor: CurrentActor,
    instance_id: str | None = None,
    actor_name: str | None = Query(None, alias="actor"),
    type: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    after: int | None = Query(None, description="cursor: the last seq of the previous page"),
    order: str = Query("asc", pattern="^(asc|desc)$"),
    limit: int = Query(100, ge=1, le=1000),
) -> dict:
    """Return one page of history events matching the filters."""
    filters = queries.EventFilters(
        instance_id=instance_id,
        actor=actor_name,
        type=type,
        since=since,
        until=until,
        after_seq=after,
        limit=limit,
        newest_first=order == "desc",
    )
    with unit_of_work(write=False) as session:
        events = queries.search_events(session, actor=actor, filters=filters)
        items = [event_read(e) for e in events]
        next_cursor = items[-1]["seq"] if len(items) == limit else None
        return {"items": items, "next": next_cursor}


@router.get("/audit/verify")
def verify(actor: CurrentActor) -> dict:
    """Check the whole hash chain and name the first bad event, if any."""
    access.require_auditor(actor)
    with unit_of_work(write=False) as session:
        return audit.verify_chain(session).as_dict()
