"""A task's page, and what can be done there: claim, give back, reassign, comment and
complete it (each one engine call in the request's one transaction)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.web.kit import (
    Page,
    PostedForm,
    Refusal,
    SignedInPage,
    WriterPage,
    form_shown_again_by,
    local_path,
    page_router,
    render,
    task_form,
    user_choices,
)
from api.web.task_rows import breached_hours, sla_actions, task_row
from engine import access, identity, queries, runtime
from engine.models import Task

router = page_router()


def _readable_task(task_id: str, page: SignedInPage) -> Task:
    """The task of the path, when the user may see it (404, 403 otherwise)."""
    return queries.get_task(page.session, task_id=task_id, actor=page.actor)


ReadableTask = Annotated[Task, Depends(_readable_task)]


def _task_page(page: Page, task: Task, refusal: Refusal | None = None) -> HTMLResponse:
    """The task page: the case's facts, the form, the actions the user may take."""
    instance = queries.instance_of_task(page.session, task)
    facts = queries.case_facts_of(page.session, {task.instance_id}).get(task.instance_id)
    form = task_form(page, task)
    return render(
        page,
        "task.html",
        status_code=refusal.status_code if refusal else 200,
        view=task_row(page, task, instance, facts),
        task=task,
        instance=instance,
        form=form,
        errors=refusal.errors if refusal else {},
        values=refusal.values if refusal else {},
        notice=refusal.notice if refusal else "",
        comments=queries.task_comments(page.session, task.id),
        staff=[
            user.username
            for user in identity.active_users(
                page.session, department=task.department, roles=access.WORKER_ROLES
            )
        ],
        choices=user_choices(page, form),
        breached_hours=breached_hours(task),
        can_work=access.can_work_task(page.actor, task),
        can_complete=access.can_complete(page.actor, task),
        can_unclaim=access.can_unclaim(page.actor, task),
        can_assign=access.can_assign(page.actor, task),
        sla=sla_actions(page, task),
    )


def _task_page_again(page: Page, refusal: Refusal) -> Response:
    task_id = page.request.path_params["task_id"]
    task = queries.get_task(page.session, task_id=task_id, actor=page.actor)
    return _task_page(page, task, refusal)


TaskForm = Annotated[PostedForm, Depends(form_shown_again_by(_task_page_again))]


@router.get("/tasks/{task_id}", response_class=HTMLResponse)
def task_page(page: SignedInPage, task: ReadableTask) -> Response:
    return _task_page(page, task)


def _back(form: PostedForm, task_id: str) -> str:
    return local_path(form.get("back"), f"/tasks/{task_id}")


@router.post("/tasks/{task_id}/claim")
def claim(task_id: str, page: WriterPage, form: TaskForm) -> RedirectResponse:
    task = runtime.claim_task(page.session, task_id=task_id, actor=page.actor)
    back = _back(form, task_id)
    separator = "&" if "?" in back else "?"
    return RedirectResponse(f"{back}{separator}{urlencode({'claimed': task.name})}", 303)


@router.post("/tasks/{task_id}/unclaim")
def unclaim(task_id: str, page: WriterPage, form: TaskForm) -> RedirectResponse:
    runtime.unclaim_task(page.session, task_id=task_id, actor=page.actor)
    return RedirectResponse(_back(form, task_id), status_code=303)


@router.post("/tasks/{task_id}/assign")
def assign(task_id: str, page: WriterPage, form: TaskForm) -> RedirectResponse:
    runtime.assign_task(
        page.session, task_id=task_id, username=form.get("username"), actor=page.actor
    )
    return RedirectResponse(_back(form, task_id), status_code=303)


@router.post("/tasks/{task_id}/comments")
def comment(task_id: str, page: WriterPage, form: TaskForm) -> RedirectResponse:
    runtime.add_comment(page.session, task_id=task_id, text=form.get("text"), actor=page.actor)
    return RedirectResponse(_back(form, task_id), status_code=303)


@router.post("/tasks/{task_id}/complete")
def complete(page: WriterPage, form: TaskForm, task: ReadableTask) -> RedirectResponse:
    """Complete the task with the form's fields; the inbox then says which task was done."""
    done, case = runtime.complete_task(
        page.session,
        task_id=task.id,
        variables=form.values_for(task_form(page, task)),
        actor=page.actor,
        language=page.language,
    )
    name = page.element_name(case.instance.version_id, done.element_id, done.name)
    return RedirectResponse(f"/inbox?{urlencode({'done': name})}", status_code=303)
