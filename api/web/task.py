"""A task's page, and what can be done there: claim, give back, reassign, comment, save
a draft and complete it (each in the request's one transaction).

The form and the comment box are one HTML form (the comment box joins it with the
`form` attribute), so adding a comment posts what was typed in the form too: it is
kept as the task's draft (engine/drafts.py), and the page shows it again after the
redirect, after a reload and on the next visit, until the task is completed."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.web.case_record import case_record
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
from engine import access, calendar, drafts, identity, queries, runtime, texts
from engine.models import Task, TaskComment
from engine.privacy import PHONES_MASKED, Masker, case_masker

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
    draft = drafts.task_draft(page.session, task)
    masker = case_masker(page.session, actor=page.actor, instance_id=task.instance_id)
    if refusal is not None:  # what was just posted, the comment box included
        values = refusal.values
    elif draft is not None:
        values = {**draft.values, COMMENT_BOX: draft.comment}
    else:
        values = {}
    return render(
        page,
        "task.html",
        status_code=refusal.status_code if refusal else 200,
        view=task_row(page, task, instance, facts),
        # Phones as the task's summary shows the customer's (engine/privacy.py's rule).
        record=case_record(page, instance, mask_phones=masker is PHONES_MASKED)
        if instance
        else None,
        task=task,
        instance=instance,
        form=form,
        errors=refusal.errors if refusal else {},
        values=values,
        notice=refusal.notice if refusal else "",
        draft=_draft_line(page, draft),
        said=page.request.query_params.get("said", ""),
        description=masker.value((instance.variables or {}).get("description") or "")
        if instance
        else "",
        comments=[
            _comment_line(page, c, masker) for c in queries.task_comments(page.session, task.id)
        ],
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
        # the comment box belongs to the task's form (a comment posts what was typed)
        with_form=task.state == "open" and access.can_complete(page.actor, task),
        can_unclaim=access.can_unclaim(page.actor, task),
        can_assign=access.can_assign(page.actor, task),
        sla=sla_actions(page, task),
    )


# The comment box's field; `text` is what the separate comment form of those who
# comment without working the task (and the form of older pages) posts.
COMMENT_BOX = "comment_text"
# Posted by the task's form: its fields come with the post (a comment keeps them).
WITH_FORM = "with_form"


def _comment_line(page: Page, comment: TaskComment, masker: Masker) -> dict[str, str]:
    """A comment as people read it: who (their name), when (local time), what (a phone
    number in it as the reader may see it)."""
    return {
        "who": page.people.get(comment.author, comment.author),
        "at": texts.local_time(comment.created_at, calendar.timezone(), page.language),
        "text": masker.value(comment.text),
    }


def _draft_line(page: Page, draft: drafts.Draft | None) -> str:
    if draft is None:
        return ""
    at = texts.local_time(draft.saved_at, calendar.timezone(), page.language)
    return page.t("draft_of", who=page.people.get(draft.saved_by, draft.saved_by), at=at)


def _typed_values(page: Page, task: Task, form: PostedForm) -> dict[str, Any]:
    """The task form's fields as typed (unvalidated), for its draft."""
    fields = (task_form(page, task) or {}).get("fields", [])
    typed: dict[str, Any] = {}
    for field in fields:
        name = field["name"]
        if name not in form.fields:
            continue  # an unticked box, an unchosen radio: nothing typed
        value = form.get(name)
        if field.get("type") == "multi_enum" and not isinstance(value, list):
            value = [value]
        typed[name] = value
    return typed


def _comment_text(form: PostedForm) -> Any:
    return form.get(COMMENT_BOX) if COMMENT_BOX in form.fields else form.get("text")


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
    """Add a comment; what was typed in the task's form with it is kept as its draft."""
    comment = runtime.add_comment(
        page.session, task_id=task_id, text=_comment_text(form), actor=page.actor
    )
    if form.get(WITH_FORM):
        task = queries.get_task(page.session, task_id=comment.task_id, actor=page.actor)
        if task.state == "open" and access.can_work_task(page.actor, task):
            drafts.save_draft(
                page.session,
                task_id=task.id,
                values=_typed_values(page, task, form),
                actor=page.actor,
            )
    back = _back(form, task_id)
    if back == f"/tasks/{task_id}":  # the page says it, and opens at the comments
        back += "?said=comment#comments"
    return RedirectResponse(back, status_code=303)


@router.post("/tasks/{task_id}/draft")
def save_draft(page: WriterPage, form: TaskForm, task: ReadableTask) -> RedirectResponse:
    """Keep what was typed in the form (and an unsent comment) as the task's draft."""
    drafts.save_draft(
        page.session,
        task_id=task.id,
        values=_typed_values(page, task, form),
        comment=_comment_text(form) or "",
        actor=page.actor,
    )
    return RedirectResponse(f"/tasks/{task.id}?said=draft", status_code=303)


@router.post("/tasks/{task_id}/complete")
def complete(page: WriterPage, form: TaskForm, task: ReadableTask) -> RedirectResponse:
    """Complete the task with the form's fields (and a comment typed with them); the inbox
    then says which task was done."""
    if str(_comment_text(form) or "").strip():
        runtime.add_comment(
            page.session, task_id=task.id, text=_comment_text(form), actor=page.actor
        )
    done, case = runtime.complete_task(
        page.session,
        task_id=task.id,
        variables=form.values_for(task_form(page, task)),
        actor=page.actor,
        language=page.language,
    )
    name = page.element_name(case.instance.version_id, done.element_id, done.name)
    return RedirectResponse(f"/inbox?{urlencode({'done': name})}", status_code=303)
