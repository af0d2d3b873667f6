"""Tasks: the inbox list, one task, claim / unclaim / assign / complete / comments."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Response

from api.answers import json_answer
from api.deps import CurrentActor, Language
from api.schemas.errors import StepErrorResponse, error_responses
from api.schemas.forms import FormRead
from api.schemas.instances import InstanceRead, TaskCompletion
from api.schemas.steps import StepRead
from api.schemas.tasks import (
    AssignTask,
    CommentCreate,
    CommentCreated,
    CommentInTask,
    CommentPage,
    CommentRead,
    CompleteTask,
    TaskDetail,
    TaskPage,
    TaskRead,
)
from engine import identity, queries, runtime
from engine.bounds import QUERY_INT_MAX
from engine.db import unit_of_work
from engine.definitions import version_form
from engine.models import Instance
from engine.privacy import case_masker
from engine.steps import case_steps, masked_steps, steps_of

router = APIRouter(tags=["tasks"], responses=error_responses(401))


@router.get("/tasks", responses=error_responses(403, 422))
def list_tasks(
    actor: CurrentActor,
    scope: Literal["mine", "department", "escalated", "all"] = "mine",
    state: Literal["open", "completed", "cancelled", "any"] = "open",
    overdue: bool = False,
    process_key: str | None = None,
    element_id: str | None = None,
    instance_id: str | None = None,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=QUERY_INT_MAX),
) -> TaskPage:
    """Return the caller's tasks in a scope, overdue first then by due time."""
    filters = queries.TaskFilters(
        scope=scope,
        state=None if state == "any" else state,
        overdue=overdue,
        process_key=process_key,
        element_id=element_id,
        instance_id=instance_id,
        limit=limit,
        offset=offset,
    )
    with unit_of_work(write=False) as session:
        rows, total = queries.task_page(
            session, actor=actor, filters=filters, count_limit=queries.COUNT_LIMIT
        )
        return TaskPage(
            items=[TaskRead.from_task(t) for t in rows], total=total.n, total_exact=total.exact
        )


# The form is a designer's definition: its fields carry only the rules they have.
@router.get(
    "/tasks/{task_id}", responses=error_responses(403, 404, 422), response_model_exclude_unset=True
)
def get_task(task_id: str, actor: CurrentActor) -> TaskDetail:
    """Return a task with its form and the case variables."""
    with unit_of_work(write=False) as session:
        task = queries.get_task(session, task_id=task_id, actor=actor)
        instance = session.get(Instance, task.instance_id)
        form = version_form(session, instance.version_id, task.element_id) if instance else None
        masker = case_masker(session, actor=actor, instance_id=task.instance_id)
        return TaskDetail.from_task(
            task,
            form=FormRead.model_validate(form) if form is not None else None,
            variables=masker.variables(instance.variables or {}) if instance else {},
            business_key=instance.business_key if instance else None,
            comments=[
                CommentInTask.from_comment(c, masker)
                for c in queries.task_comments(session, task.id)
            ],
            steps=StepRead.from_steps(masked_steps(case_steps(session, task.instance_id), masker)),
        )


@router.post("/tasks/{task_id}/claim", responses=error_responses(403, 404, 409, 422))
def claim_task(task_id: str, actor: CurrentActor) -> TaskRead:
    """Claim a task of the caller's department."""
    with unit_of_work() as session:
        return TaskRead.from_task(runtime.claim_task(session, task_id=task_id, actor=actor))


@router.post("/tasks/{task_id}/unclaim", responses=error_responses(403, 404, 409, 422))
def unclaim_task(task_id: str, actor: CurrentActor) -> TaskRead:
    """Give a claimed task back to the department queue."""
    with unit_of_work() as session:
        return TaskRead.from_task(runtime.unclaim_task(session, task_id=task_id, actor=actor))


@router.post("/tasks/{task_id}/assign", responses=error_responses(403, 404, 409, 422))
def assign_task(task_id: str, body: AssignTask, actor: CurrentActor) -> TaskRead:
    """Assign a task to a member of its department."""
    with unit_of_work() as session:
        return TaskRead.from_task(
            runtime.assign_task(session, task_id=task_id, username=body.username, actor=actor)
        )


@router.post(
    "/tasks/{task_id}/complete",
    response_model=TaskCompletion,
    responses=error_responses(403, 404, 409, 422, invalid=StepErrorResponse),
)
def complete_task(
    task_id: str, body: CompleteTask, actor: CurrentActor, lang: Language
) -> Response:
    """Complete a task with its form data and run the process on."""
    with unit_of_work() as session:
        task, case = runtime.complete_task(
            session, task_id=task_id, variables=body.variables, actor=actor, language=lang
        )
        # The same state as the answer's case, from the rows the step loaded.
        steps = steps_of(case.tasks, session=session, instance_id=task.instance_id)
    # Rendered after the commit: the history lock is held no longer than the write.
    shown = TaskRead.from_task(task)
    return json_answer(
        TaskCompletion(
            **dict(shown),
            task=shown,
            instance=InstanceRead.from_instance(
                case.instance, open_tasks=case.open_tasks, steps=steps
            ),
        )
    )


@router.post(
    "/tasks/{task_id}/comments", status_code=201, responses=error_responses(403, 404, 409, 422)
)
def add_comment(task_id: str, body: CommentCreate, actor: CurrentActor) -> CommentCreated:
    """Comment on a task."""
    with unit_of_work() as session:
        comment = runtime.add_comment(session, task_id=task_id, text=body.text, actor=actor)
        return CommentCreated(
            id=comment.id,
            task_id=comment.task_id,
            author=comment.author,
            text=comment.text,
            created_at=comment.created_at,
        )


@router.get("/tasks/{task_id}/comments", responses=error_responses(403, 404, 422))
def list_comments(task_id: str, actor: CurrentActor) -> CommentPage:
    """Return a task's comments, oldest first."""
    with unit_of_work(write=False) as session:
        task = queries.get_task(session, task_id=task_id, actor=actor)
        masker = case_masker(session, actor=actor, instance_id=task.instance_id)
        names = identity.display_names(session)
        items = [
            CommentRead(
                id=c.id,
                author=c.author,
                author_name=names.get(c.author, c.author),
                text=masker.value(c.text),
                created_at=c.created_at,
            )
            for c in queries.task_comments(session, task_id)
        ]
        return CommentPage(items=items, total=len(items))
