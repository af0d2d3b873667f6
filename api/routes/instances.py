"""Instances: start, read, history, cancel."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.answers import json_answer
from api.deps import CurrentActor, Language
from api.schemas.errors import StepErrorResponse, error_responses
from api.schemas.instances import (
    CancelInstance,
    EventRead,
    InstanceHistory,
    InstanceRead,
    StartInstance,
)
from engine import queries, runtime
from engine.db import unit_of_work
from engine.privacy import case_masker
from engine.steps import case_steps

router = APIRouter(tags=["instances"], responses=error_responses(401))


@router.post(
    "/processes/{key}/instances",
    status_code=201,
    response_model=InstanceRead,
    responses=error_responses(403, 404, 409, 422, invalid=StepErrorResponse),
)
def start_instance(key: str, body: StartInstance, actor: CurrentActor, lang: Language) -> Response:
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
    # A case just started has no completed user task yet.
    return json_answer(
        InstanceRead.from_instance(case.instance, open_tasks=case.open_tasks, steps=[]),
        status_code=201,
    )


@router.get("/instances/{instance_id}", responses=error_responses(403, 404, 422))
def get_instance(instance_id: str, actor: CurrentActor) -> InstanceRead:
    """Return an instance the caller may see."""
    with unit_of_work(write=False) as session:
        instance = queries.get_instance(session, instance_id=instance_id, actor=actor)
        return InstanceRead.from_instance(
            instance,
            open_tasks=queries.open_tasks_of(session, instance.id),
            steps=case_steps(session, instance.id),
            masker=case_masker(session, actor=actor, instance_id=instance.id),
        )


@router.get("/instances/{instance_id}/history", responses=error_responses(403, 404, 422))
def get_history(instance_id: str, actor: CurrentActor) -> InstanceHistory:
    """Return the instance's history, oldest first."""
    with unit_of_work(write=False) as session:
        queries.get_instance(session, instance_id=instance_id, actor=actor)
        masker = case_masker(session, actor=actor, instance_id=instance_id)
        return InstanceHistory(
            events=[
                EventRead.from_event(e, masker)
                for e in queries.instance_history(session, instance_id)
            ]
        )


@router.post(
    "/instances/{instance_id}/cancel",
    responses=error_responses(403, 404, 409, 422, invalid=StepErrorResponse),
)
def cancel_instance(instance_id: str, body: CancelInstance, actor: CurrentActor) -> InstanceRead:
    """Cancel a running instance (supervisors and admins)."""
    with unit_of_work() as session:
        case = runtime.cancel_instance(
            session, instance_id=instance_id, reason=body.reason, actor=actor
        )
        return InstanceRead.from_instance(
            case.instance,
            open_tasks=case.open_tasks,
            steps=case_steps(session, instance_id),
            masker=case_masker(session, actor=actor, instance_id=instance_id),
        )
