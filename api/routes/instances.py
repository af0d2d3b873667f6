"""Instances: start, read, history, cancel."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import CurrentActor, Language
from api.schemas import CancelInstance, StartInstance, event_read, instance_read
from engine import queries, runtime
from engine.db import unit_of_work

router = APIRouter(tags=["instances"])


@router.post("/processes/{key}/instances", status_code=201)
def start_instance(
    key: str, body: StartInstance, actor: CurrentActor, lang: Language
) -> JSONResponse:
    """Start an instance of the newest version of a process."""
    with unit_of_work() as session:
        case = runtime.start_instance(
            session,
            process_key=key,
            variables=body.variables,
            business_key=body.business_key,
            actor=actor,
            language=lang,
        )
    return JSONResponse(instance_read(case.instance, open_tasks=case.open_tasks), status_code=201)


@router.get("/instances/{instance_id}")
def get_instance(instance_id: str, actor: CurrentActor) -> dict:
    """Return an instance the caller may see."""
    with unit_of_work(write=False) as session:
        instance = queries.get_instance(session, instance_id=instance_id, actor=actor)
        return instance_read(instance, open_tasks=queries.open_tasks_of(session, instance.id))


@router.get("/instances/{instance_id}/history")
def get_history(instance_id: str, actor: CurrentActor) -> dict:
    """Return the instance's history, oldest first."""
    with unit_of_work(write=False) as session:
        queries.get_instance(session, instance_id=instance_id, actor=actor)
        return {"events": [event_read(e) for e in queries.instance_history(session, instance_id)]}


@router.post("/instances/{instance_id}/cancel")
def cancel_instance(instance_id: str, body: CancelInstance, actor: CurrentActor) -> dict:
    """Cancel a running instance (supervisors and admins)."""
    with unit_of_work() as session:
        case = runtime.cancel_instance(
            session, instance_id=instance_id, reason=body.reason, actor=actor
        )
        return instance_read(case.instance, open_tasks=case.open_tasks)
