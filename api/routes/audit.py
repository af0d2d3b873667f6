"""Auditors: history search, case timelines, streamed exports, chain verification."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from sqlalchemy import select

from api.deps import CurrentActor
from api.input_guard import Instant
from api.schemas.audit import (
    CaseTimeline,
    ChainVerification,
    EventPage,
    NoScheduledCheck,
    ScheduledCheck,
)
from api.schemas.errors import error_responses
from api.schemas.instances import EventRead
from engine import access, audit, clock
from engine.bounds import QUERY_INT_MAX, ROW_ID_MAX
from engine.calendar import timezone
from engine.db import unit_of_work
from engine.history import search, timeline
from engine.history.export import Export, start_export
from engine.models import AuditCheck, HistoryEvent

router = APIRouter(tags=["audit"], responses=error_responses(401))


def event_filters(
    instance_id: str | None = Query(None, description="one case"),
    process_key: str | None = Query(None, description="events of this process"),
    business_key: str | None = Query(None, description="the cases with this business key"),
    customer_id: int | None = Query(
        None, ge=1, le=ROW_ID_MAX, description="the cases of this customer"
    ),
    customer: str | None = Query(
        None, description="the cases of customers whose name or phone contains this"
    ),
    process: str | None = Query(None, description="the same as process_key"),
    actor: str | None = Query(None, description="who acted (a username, or 'system')"),
    department: str | None = Query(None, description="the department the event concerns"),
    type: list[str] = Query(  # noqa: A002 - the contract's parameter name
        [], description="event types; repeat or separate with commas"
    ),
    element_id: str | None = Query(None, description="a BPMN element"),
    since: Instant | None = Query(None, description="events at or after this instant"),
    until: Instant | None = Query(None, description="events before this instant"),
    order: str = Query("asc", pattern="^(asc|desc)$", description="asc oldest first, desc newest"),
) -> search.EventFilters:
    """Read the search filters shared by the event list and the exports."""
    types = tuple(t.strip() for value in type for t in value.split(",") if t.strip())
    return search.EventFilters(
        process_key=process_key or process or None,
        instance_id=instance_id or None,
        business_key=business_key or None,
        customer_id=customer_id,
        customer=customer or None,
        actor=actor or None,
        department=department or None,
        types=types,
        element_id=element_id or None,
        since=since,
        until=until,
        newest_first=order == "desc",
    )


Filters = Annotated[search.EventFilters, Depends(event_filters)]


@router.get("/audit/events", responses=error_responses(403, 422))
def search_events(
    actor: CurrentActor,
    filters: Filters,
    after: int | None = Query(
        None, ge=0, le=QUERY_INT_MAX, description="cursor: `next` of the previous page"
    ),
    limit: int = Query(100, ge=1, le=search.MAX_PAGE),
) -> EventPage:
    """Return one page of history events matching the filters (keyset by `seq`)."""
    with unit_of_work(write=False) as session:
        page = search.search_events(session, actor=actor, filters=filters, after=after, limit=limit)
        return EventPage(
            items=[EventRead.model_validate(search.event_record(e)) for e in page.events],
            next=page.next_cursor,
        )


@router.get(
    "/audit/export",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/x-ndjson": {"schema": {"type": "string"}},
            },
            "description": "the events as a file download (CSV with a BOM, or JSON Lines)",
        },
        **error_responses(403, 422),
    },
)
def export_events(
    actor: CurrentActor,
    filters: Filters,
    format: str = Query("csv", pattern="^(csv|jsonl)$"),  # noqa: A002
) -> StreamingResponse:
    """Stream the filtered events as CSV (UTF-8 with BOM) or JSON Lines.

    The export is recorded as a `history_exported` event first.
    """
    return export_response(start_export(actor, filters, format), format)


def export_response(export: Export, fmt: str) -> StreamingResponse:
    """Stream a started export as a file download (the API's and the page's)."""
    stamp = clock.now().astimezone(timezone()).strftime("%Y%m%d-%H%M%S")
    return StreamingResponse(
        export.chunks,
        media_type="text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson",
        headers={
            "Content-Disposition": f'attachment; filename="flowdesk-history-{stamp}.{fmt}"',
            "X-Flowdesk-Export-Event": str(export.seq),
            "X-Flowdesk-Through-Seq": str(export.through_seq),
            "X-Flowdesk-Masked": "true" if export.masked else "false",
        },
    )


# Only SLA events carry `recipients`, `recipient_group` and `level`: exclude_unset keeps
# them off the others.
@router.get(
    "/audit/instances/{instance_id}/timeline",
    responses=error_responses(403, 404, 422),
    response_model_exclude_unset=True,
)
def case_timeline(actor: CurrentActor, instance_id: str) -> CaseTimeline:
    """Return a case's life from its history, with the variable changes of each step."""
    with unit_of_work(write=False) as session:
        return CaseTimeline.model_validate(
            timeline.case_timeline(session, actor=actor, instance_id=instance_id)
        )


def verification(session: Any) -> dict[str, Any]:
    """Run the full check; a broken chain also shows its first bad event."""
    result = audit.verify_chain(session).as_dict()
    if not result["ok"]:
        bad = session.get(HistoryEvent, result["first_bad_seq"])
        result["first_bad_event"] = search.event_record(bad) if bad is not None else None
    return result


def scheduled_check(session: Any) -> dict[str, Any] | None:
    """Return how far the scheduled incremental check got, and what it found."""
    check = session.execute(select(AuditCheck).where(AuditCheck.id == 1)).scalar_one_or_none()
    if check is None:
        return None
    return {
        "checked_at": clock.to_utc(check.checked_at).isoformat() if check.checked_at else None,
        "verified_through": check.verified_seq,
        "ok": check.ok,
        "first_bad_seq": check.first_bad_seq,
        "problem": check.problem,
    }


# The first bad event's fields are there only when the chain is broken.
@router.get("/audit/verify", responses=error_responses(403), response_model_exclude_unset=True)
def verify(actor: CurrentActor) -> ChainVerification:
    """Check the whole hash chain and name the first bad event, if any."""
    access.require_auditor(actor)
    with unit_of_work(write=False) as session:
        return ChainVerification.model_validate(verification(session))


@router.get("/audit/verify/scheduled", responses=error_responses(403))
def verify_scheduled(actor: CurrentActor) -> ScheduledCheck | NoScheduledCheck:
    """Return the last result of the scheduled incremental check (run by every round)."""
    access.require_auditor(actor)
    with unit_of_work(write=False) as session:
        check = scheduled_check(session)
    return ScheduledCheck.model_validate(check) if check else NoScheduledCheck()
