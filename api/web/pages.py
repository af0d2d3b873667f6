"""The staff pages: sign-in, inbox, task, case, start forms, notifications.

Handlers here only translate between HTML forms and the engine's service
functions (the same ones the JSON API calls); every rule stays in `engine/`.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.web import i18n
from api.web.session import (
    PageSession,
    csrf_ok,
    end_session,
    login_csrf,
    login_csrf_ok,
    read_session,
    start_session,
)
from crm.customers import CustomerFilters, read_customer, search_customers
from engine import access, calendar, clock, notifications, queries, runtime
from engine.db import unit_of_work
from engine.definitions import (
    element_labels,
    get_version,
    latest_versions,
    start_event_id,
    version_form,
    version_forms,
)
from engine.departments import DEPARTMENTS
from engine.errors import (
    ConcurrentUpdate,
    FlowdeskError,
    InvalidData,
    NotAuthenticated,
    NotFound,
    NotPermitted,
    TaskHeldByOther,
    TaskNotOpen,
)
from engine.identity import Actor, actor_for, authenticate
from engine.masking import mask_phone
from engine.models import CaseFact, Instance, ProcessVersion, Task, User
from engine.sla import breached_for, task_calendar
from forms.registry import describe_variables

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).resolve().parents[1] / "templates"))

PAGE_SIZE = 25
TABS = ("mine", "department", "escalated", "all")
START_PAGES = {"complaint_handling": "register_complaint", "lead_follow_up": "register_visitor"}


@dataclass
class Page:
    """Who is looking at a page, in which language."""

    request: Request
    session: PageSession
    user: User
    actor: Actor

    @property
    def language(self) -> str:
        if self.actor.read_only:  # auditors' choice lives in the cookie, not the database
            chosen = self.request.cookies.get("lang")
            if chosen in i18n.LANGUAGES:
                return str(chosen)
        return self.user.language if self.user.language in i18n.LANGUAGES else "zh-CN"

    def t(self, key: str, **params: Any) -> str:
        return i18n.t(key, self.language, **params)

    def element_name(self, session: Session, version_id: int, element_id: str, default: str) -> str:
        """An element's name in the page's language (`name_en` in the BPMN for English)."""
        labels = element_labels(session, version_id).get(element_id)
        return labels[self.language] if labels else default

    def people(self, session: Session) -> dict[str, str]:
        """Display names by username."""
        rows = session.execute(select(User.username, User.display_name)).all()
        return {username: name for username, name in rows}

    def render(self, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        with unit_of_work(write=False) as s:
            _, _, unread = notifications.list_notifications(s, actor=self.actor, limit=1)
        return templates.TemplateResponse(
            self.request,
            name,
            {
                "page": self,
                "t": self.t,
                "lang": self.language,
                "csrf": self.session.csrf,
                "unread": unread,
                "is_supervisor": self.actor.has("supervisor", "executive", "admin"),
                "start_pages": START_PAGES,
                "can_start": not self.actor.read_only,
                "read_only": self.actor.read_only,
                "can_audit": self.actor.has("auditor", "admin"),
                **context,
            },
            status_code=status_code,
        )


def _login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


def _page(request: Request) -> Page | RedirectResponse:
    session = read_session(request)
    if session is None:
        return _login_redirect(request)
    with unit_of_work(write=False) as s:
        user = s.get(User, session.user_id)
        if user is None or not user.is_active:
            return _login_redirect(request)
        actor = actor_for(user)
    return Page(request, session, user, actor)


async def _form(request: Request) -> dict[str, Any]:
    form = await request.form()
    data: dict[str, Any] = {}
    for key in form:
        values = form.getlist(key)
        data[key] = values if len(values) > 1 else values[0]
    return data


def _conflict_text(page: Page, exc: FlowdeskError) -> str:
    """A conflict in the user's language (the engine's own words as detail)."""
    keys: dict[type[FlowdeskError], str] = {
        TaskHeldByOther: "held_by_other",
        TaskNotOpen: "not_open",
        ConcurrentUpdate: "concurrent",
    }
    key = keys.get(type(exc))
    return f"{page.t(key)} ({exc.message})" if key else exc.message


# Forms that only touch the browser's session: allowed to read-only users.
SESSION_FORMS = frozenset({"/logout", "/language"})


async def _posted(request: Request) -> tuple[Page, dict[str, Any]] | Response:
    """A signed-in form post with the session's CSRF token, or the response refusing it.

    Auditors are refused every form that would change data (403).
    """
    page = _page(request)
    if isinstance(page, RedirectResponse):
        return page
    form = await _form(request)
    if not csrf_ok(page.session, form.get("csrf_token")):
        return page.render("error.html", status_code=403, title=page.t("csrf"), message="")
    if request.url.path not in SESSION_FORMS:
        try:
            access.require_writer(page.actor)
        except NotPermitted as exc:
            return _error_page(page, exc)
    return page, form


def _local(target: Any, default: str) -> str:
    """`target` when it is a path of this site, else `default` (no open redirects)."""
    text = str(target or "")
    return text if text.startswith("/") and not text.startswith("//") else default


def _error_page(page: Page, exc: FlowdeskError) -> HTMLResponse:
    status = 403 if isinstance(exc, NotPermitted) else 404 if isinstance(exc, NotFound) else 409
    title = page.t("forbidden") if status == 403 else page.t("not_found") if status == 404 else ""
    return page.render("error.html", status_code=status, title=title, message=exc.message)


# ---------------------------------------------------------------- sign-in


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/inbox") -> Response:
    language = request.cookies.get("lang") or "zh-CN"
    return _rerender(request, "login.html", Response(), language, next=next, error=None)


def _rerender(
    request: Request, name: str, response: Response, language: str, **context: Any
) -> Response:
    token = login_csrf(request, response)
    page = templates.TemplateResponse(
        request,
        name,
        {"t": lambda k, **p: i18n.t(k, language, **p), "lang": language, "csrf": token, **context},
        status_code=response.status_code,
    )
    for key, value in response.headers.items():
        if key.lower() == "set-cookie":
            page.headers.append(key, value)
    return page


@router.post("/login")
async def login(request: Request) -> Response:
    form = await _form(request)
    language = request.cookies.get("lang") or "zh-CN"
    target = _local(form.get("next"), "/inbox")
    if not login_csrf_ok(request, form.get("csrf_token")):
        failed = Response(status_code=403)
        return _rerender(
            request, "login.html", failed, language, next=target, error=i18n.t("csrf", language)
        )
    try:
        with unit_of_work(write=False) as s:
            user = authenticate(
                s, username=str(form.get("username", "")), password=str(form.get("password", ""))
            )
            user_id = user.id
    except NotAuthenticated:
        failed = Response(status_code=401)
        return _rerender(
            request,
            "login.html",
            failed,
            language,
            next=target,
            error=i18n.t("bad_credentials", language),
        )
    response = RedirectResponse(target, status_code=303)
    start_session(request, response, user_id)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    posted = await _posted(request)
    if isinstance(posted, Response):
        return posted
    page, form = posted
    response = RedirectResponse("/login", status_code=303)
    end_session(response)
    return response


@router.post("/language")
async def set_language(request: Request) -> Response:
    """Switch the page language; remembered on the user."""
    posted = await _posted(request)
    if isinstance(posted, Response):
        return posted
    page, form = posted
    language = form.get("language")
    if language in i18n.LANGUAGES and not page.actor.read_only:  # auditors: the cookie only
        with unit_of_work() as s:
            user = s.get(User, page.user.id)
            assert user is not None
            user.language = str(language)
    response = RedirectResponse(_local(form.get("back"), "/inbox"), status_code=303)
    response.set_cookie("lang", str(language), samesite="lax", httponly=True, path="/")
    return response


# ---------------------------------------------------------------- inbox


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/inbox", status_code=303)


def _case_rows(session: Session, instance_ids: set[str]) -> dict[str, Instance]:
    if not instance_ids:
        return {}
    return {
        i.id: i
        for i in session.execute(select(Instance).where(Instance.id.in_(instance_ids))).scalars()
    }


def _task_view(
    task: Task,
    instance: Instance | None,
    page: Page,
    session: Session | None = None,
    people: dict[str, str] | None = None,
    facts: CaseFact | None = None,
) -> dict[str, Any]:
    name = task.name
    if session is not None and instance is not None:
        name = page.element_name(session, instance.version_id, task.element_id, task.name)
    people = people or {}
    now = clock.now()
    left = ""
    if task.due_at is not None and task.state == "open":
        cal = task_calendar(task)
        overdue = cal.between(task.due_at, now) if now > task.due_at else timedelta(0)
        remaining = cal.between(now, task.due_at)
        if task.sla_status == "breached" and overdue == timedelta(0):
            remaining = timedelta(0)  # the round says breached: never show time left
        left = i18n.time_left(remaining, overdue, page.language)
    phone = (facts.phone if facts else None) or ""
    return {
        "task": task,
        "name": name,
        "assignee": people.get(task.assignee, task.assignee) if task.assignee else None,
        "customer_id": facts.customer_ref if facts else None,
        "business_key": (instance.business_key if instance else None) or task.instance_id[:8],
        "customer": (facts.customer_name if facts else None) or "",
        "phone": mask_phone(phone) if phone else "",
        "project_unit": " ".join(v for v in (facts.project, facts.unit) if v) if facts else "",
        "department": _department_name(task.department, page.language),
        "time_left": left,
        "overdue": task.due_at is not None and task.state == "open" and now > task.due_at,
        "due": i18n.local_time(task.due_at, calendar.timezone(), page.language),
    }


_PROJECTS: dict[str, tuple[float, list[str]]] = {}


def _projects(session: Session) -> list[str]:
    """The projects for the inbox filter, read at most once a minute per database."""
    key = str(session.get_bind().engine.url)
    hit = _PROJECTS.get(key)
    if hit is None or hit[0] < time.monotonic():
        hit = (time.monotonic() + 60, queries.known_projects(session))
        _PROJECTS[key] = hit
    return hit[1]


def _user_task_ids(session: Session, version_id: int) -> set[str]:
    from engine.definitions import SPEC_CACHE

    spec, subprocess_specs = SPEC_CACHE.get(session, version_id)
    return {
        str(ts.bpmn_id)
        for process in (spec, *subprocess_specs.values())
        for ts in process.task_specs.values()
        if type(ts).__name__ in ("UserTask", "ManualTask")
    }


Choices = dict[str, list[tuple[str, str]]]


def _user_choices(session: Session, form: dict[str, Any] | None) -> Choices:
    """For each `user` field of a form: the active users it accepts (department, roles)."""
    choices: dict[str, list[tuple[str, str]]] = {}
    for field in (form or {}).get("fields", []):
        if field.get("type") != "user":
            continue
        stmt = select(User).where(User.is_active.is_(True)).order_by(User.username)
        if field.get("department"):
            stmt = stmt.where(User.department_code == field["department"])
        roles = set(field.get("roles") or [])
        choices[field["name"]] = [
            (u.username, u.display_name)
            for u in session.execute(stmt).scalars()
            if not roles or u.role_names & roles
        ]
    return choices


def _department_name(code: str, language: str) -> str:
    department = next((d for d in DEPARTMENTS if d.code == code), None)
    if department is None:
        return code
    return department.name_zh if language == "zh-CN" else department.name_en


@router.get("/inbox", response_class=HTMLResponse)
def inbox(
    request: Request,
    tab: str = "",
    process: str = "",
    element: str = "",
    sla: str = "",
    project: str = "",
    q: str = "",
    page_no: int = 1,
    done: str = "",
) -> Response:
    page = _page(request)
    if isinstance(page, RedirectResponse):
        return page
    tabs = [
        name
        for name in TABS
        if name != "all" or page.actor.has("supervisor", "executive", "auditor", "admin")
    ]
    page_no = max(1, page_no)
    counts: dict[str, int] = {}
    with unit_of_work(write=False) as s:
        for name in tabs:
            try:
                counts[name] = queries.count_tasks(
                    s, actor=page.actor, filters=queries.TaskFilters(scope=name)
                )
            except NotPermitted:
                counts[name] = 0
        if tab not in tabs:
            # Where each role's work is: staff and supervisors their own tasks (their
            # department's queue while they hold none), executives what escalated to
            # them, auditors and admins everything.
            if page.actor.has("staff", "supervisor"):
                tab = "mine" if counts.get("mine") else "department"
            elif page.actor.has("executive"):
                tab = "escalated"
            else:
                tab = "all" if "all" in tabs else "mine"
        filters = queries.TaskFilters(
            scope=tab,
            process_key=process or None,
            element_id=element or None,
            sla_status=sla or None,
            project=project or None,
            search=q.strip() or None,
            limit=PAGE_SIZE,
            offset=(page_no - 1) * PAGE_SIZE,
        )
        try:
            rows, total = queries.list_tasks(s, actor=page.actor, filters=filters)
        except NotPermitted:
            rows, total = [], 0
        cases = _case_rows(s, {t.instance_id for t in rows})
        people = page.people(s)
        facts = queries.case_facts_of(s, cases)
        views = [
            _task_view(t, cases.get(t.instance_id), page, s, people, facts.get(t.instance_id))
            for t in rows
        ]
        projects = _projects(s)
        task_choices: dict[str, str] = {}
        for definition, version in latest_versions(s, kind="bpmn"):
            if process and definition.key != process:
                continue
            for element_id, names in element_labels(s, version.id).items():
                if version_form(s, version.id, element_id) is not None and element_id in {
                    f for f in _user_task_ids(s, version.id)
                }:
                    task_choices[element_id] = names[page.language]
    query = {
        "tab": tab,
        "process": process,
        "element": element,
        "sla": sla,
        "project": project,
        "q": q,
    }
    return page.render(
        "inbox.html",
        tab=tab,
        tabs=tabs,
        counts=counts,
        rows=views,
        total=total,
        page_no=page_no,
        pages=max(1, -(-total // PAGE_SIZE)),
        filters=query,
        query_for=lambda **changes: urlencode({**query, **changes}),
        projects=projects,
        task_choices=sorted(task_choices.items(), key=lambda kv: kv[1]),
        done=done,
        back=str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
    )


# ---------------------------------------------------------------- task actions


async def _task_action(request: Request, task_id: str, action: str) -> Response:
    posted = await _posted(request)
    if isinstance(posted, Response):
        return posted
    page, form = posted
    back = _local(form.get("back"), f"/tasks/{task_id}")
    try:
        with unit_of_work() as s:
            if action == "claim":
                task = runtime.claim_task(s, task_id=task_id, actor=page.actor)
            elif action == "unclaim":
                task = runtime.unclaim_task(s, task_id=task_id, actor=page.actor)
            elif action == "assign":
                task = runtime.assign_task(
                    s, task_id=task_id, username=form.get("username"), actor=page.actor
                )
            else:
                runtime.add_comment(s, task_id=task_id, text=form.get("text"), actor=page.actor)
                task = None
            name = task.name if task else ""
    except InvalidData as exc:
        return _task_page(
            page, task_id, errors={p.field: p.message for p in exc.problems}, status_code=422
        )
    except (NotPermitted, NotFound) as exc:
        return _error_page(page, exc)
    except FlowdeskError as exc:
        return _task_page(page, task_id, notice=_conflict_text(page, exc), status_code=409)
    separator = "&" if "?" in back else "?"
    if action == "claim":
        back += f"{separator}{urlencode({'claimed': name})}"
    return RedirectResponse(back, status_code=303)


@router.post("/tasks/{task_id}/claim")
async def claim(request: Request, task_id: str) -> Response:
    return await _task_action(request, task_id, "claim")


@router.post("/tasks/{task_id}/unclaim")
async def unclaim(request: Request, task_id: str) -> Response:
    return await _task_action(request, task_id, "unclaim")


@router.post("/tasks/{task_id}/assign")
async def assign(request: Request, task_id: str) -> Response:
    return await _task_action(request, task_id, "assign")


@router.post("/tasks/{task_id}/comments")
async def comment(request: Request, task_id: str) -> Response:
    return await _task_action(request, task_id, "comment")


# ---------------------------------------------------------------- task page


def _coerce(fields: list[dict[str, Any]], raw: dict[str, Any]) -> dict[str, Any]:
    """Turn HTML form strings into the values the form's validation expects."""
    data: dict[str, Any] = {}
    for field in fields:
        name, kind = field["name"], field["type"]
        value = raw.get(name)
        if kind == "multi_enum":
            data[name] = [v for v in (value if isinstance(value, list) else [value]) if v] or None
            continue
        if isinstance(value, list):
            value = value[-1]
        if value is None or (isinstance(value, str) and value.strip() == ""):
            data[name] = None if kind != "boolean" else (False if name in raw else None)
            continue
        if kind == "boolean":
            data[name] = value in ("true", "on", "1", "yes")
        elif kind == "integer":
            try:
                data[name] = int(value)
            except ValueError:
                data[name] = value
        elif kind == "number":
            try:
                data[name] = float(value)
            except ValueError:
                data[name] = value
        else:
            data[name] = value
    return data


def _task_page(
    page: Page,
    task_id: str,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    notice: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    try:
        with unit_of_work(write=False) as s:
            task = queries.get_task(s, task_id=task_id, actor=page.actor)
            instance = s.get(Instance, task.instance_id)
            comments = queries.task_comments(s, task_id)
            staff = [
                u.username
                for u in s.execute(
                    select(User).where(User.department_code == task.department, User.is_active)
                ).scalars()
                if u.role_names & {"staff", "supervisor"}
            ]
            people = page.people(s)
            facts = queries.case_facts_of(s, {task.instance_id}).get(task.instance_id)
            view = _task_view(task, instance, page, s, people, facts)
            form = version_form(s, instance.version_id, task.element_id) if instance else None
            choices = _user_choices(s, form)
    except FlowdeskError as exc:
        return _error_page(page, exc)
    over = breached_for(task, clock.now())
    return page.render(
        "task.html",
        status_code=status_code,
        view=view,
        task=task,
        instance=instance,
        form=form,
        errors=errors or {},
        values=values or {},
        notice=notice,
        comments=comments,
        staff=staff,
        choices=choices,
        breached_hours=round(over.total_seconds() / 3600, 1) if over is not None else None,
        can_work=page.actor.has("staff", "supervisor")
        and (task.assignee == page.actor.username or task.department == page.actor.department),
        can_assign=page.actor.has("executive", "admin")
        or (page.actor.has("supervisor") and page.actor.department == task.department),
    )


@router.get("/tasks/{task_id}", response_class=HTMLResponse)
def task_page(request: Request, task_id: str) -> Response:
    page = _page(request)
    if isinstance(page, RedirectResponse):
        return page
    return _task_page(page, task_id)


@router.post("/tasks/{task_id}/complete")
async def complete(request: Request, task_id: str) -> Response:
    posted = await _posted(request)
    if isinstance(posted, Response):
        return posted
    page, raw = posted
    with unit_of_work(write=False) as s:
        task = s.get(Task, task_id)
        instance = s.get(Instance, task.instance_id) if task is not None else None
        form = version_form(s, instance.version_id, task.element_id) if task and instance else None
    if task is None:
        return _error_page(page, NotFound("task does not exist"))
    fields = form["fields"] if form else []
    data = _coerce(fields, raw) if form else {}
    try:
        with unit_of_work() as s:
            done, state = runtime.complete_task(
                s, task_id=task_id, variables=data, actor=page.actor, language=page.language
            )
            name = page.element_name(s, state.instance.version_id, done.element_id, done.name)
    except InvalidData as exc:
        return _task_page(
            page,
            task_id,
            errors={p.field: p.message for p in exc.problems},
            values=raw,
            notice=page.t("fix_errors"),
            status_code=422,
        )
    except (NotPermitted, NotFound) as exc:
        return _error_page(page, exc)
    except FlowdeskError as exc:
        return _task_page(page, task_id, notice=_conflict_text(page, exc), status_code=409)
    return RedirectResponse(f"/inbox?{urlencode({'done': name})}", status_code=303)


# ---------------------------------------------------------------- starting cases


@router.get("/start/{process_key}", response_class=HTMLResponse)
def start_form(request: Request, process_key: str, phone: str = "") -> Response:
    page = _page(request)
    if isinstance(page, RedirectResponse):
        return page
    values: dict[str, Any] = {}
    found: dict[str, Any] | None = None
    phone = phone.strip().replace(" ", "").replace("-", "")
    if phone:
        values["phone"] = phone
        with unit_of_work(write=False) as s:
            try:
                items, _ = search_customers(
                    s, actor=page.actor, filters=CustomerFilters(q=phone, limit=5)
                )
            except NotPermitted:
                items = []
        found = next((c for c in items if c["phone"] == phone), None)
        if found is not None:
            values["customer_name" if process_key == "complaint_handling" else "name"] = found[
                "name"
            ]
    return _start_page(page, process_key, values=values, lookup=phone, found=found)


def _start_page(
    page: Page,
    process_key: str,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
    lookup: str = "",
    found: dict[str, Any] | None = None,
) -> HTMLResponse:
    if process_key not in START_PAGES:
        return _error_page(page, NotFound(f"no start page for {process_key}"))
    with unit_of_work(write=False) as s:
        try:
            version = get_version(s, process_key)
        except FlowdeskError as exc:
            return _error_page(page, exc)
        form = version_form(s, version.id, start_event_id(s, version))
        choices = _user_choices(s, form)
    return page.render(
        "start.html",
        choices=choices,
        status_code=status_code,
        process_key=process_key,
        title=page.t(START_PAGES[process_key]),
        form=form,
        errors=errors or {},
        values=values or {},
        lookup=lookup,
        found=found,
    )


def _business_key(process_key: str) -> str:
    """A case number people can read out on the phone: TS-20261123-4F2A / KH-…"""
    prefix = "TS" if process_key == "complaint_handling" else "KH"
    local = clock.now().astimezone(calendar.timezone())
    return f"{prefix}-{local:%Y%m%d}-{secrets.token_hex(2).upper()}"


@router.post("/start/{process_key}")
async def start(request: Request, process_key: str) -> Response:
    posted = await _posted(request)
    if isinstance(posted, Response):
        return posted
    page, raw = posted
    if process_key not in START_PAGES:
        return _error_page(page, NotFound(f"no start page for {process_key}"))
    with unit_of_work(write=False) as s:
        version = get_version(s, process_key)
        form = version_form(s, version.id, start_event_id(s, version))
    data = _coerce(form["fields"], raw) if form else {}
    data = {k: v for k, v in data.items() if v is not None}
    try:
        with unit_of_work() as s:
            state = runtime.start_instance(
                s,
                process_key=process_key,
                variables=data,
                business_key=_business_key(process_key),
                actor=page.actor,
                language=page.language,
            )
            instance_id = state.instance.id
    except InvalidData as exc:
        return _start_page(
            page,
            process_key,
            errors={p.field: p.message for p in exc.problems},
            values=raw,
            status_code=422,
        )
    except FlowdeskError as exc:
        return _error_page(page, exc)
    return RedirectResponse(f"/cases/{instance_id}?started=1", status_code=303)


# ---------------------------------------------------------------- case page


@router.get("/cases/{instance_id}", response_class=HTMLResponse)
def case_page(request: Request, instance_id: str, started: str = "") -> Response:
    page = _page(request)
    if isinstance(page, RedirectResponse):
        return page
    try:
        with unit_of_work(write=False) as s:
            instance = queries.get_instance(s, instance_id=instance_id, actor=page.actor)
            events = queries.instance_history(s, instance_id)
            tasks = list(
                s.execute(
                    select(Task).where(Task.instance_id == instance_id).order_by(Task.created_at)
                ).scalars()
            )
    except FlowdeskError as exc:
        return _error_page(page, exc)
    tz = calendar.timezone()
    with unit_of_work(write=False) as s:
        version = s.get(ProcessVersion, instance.version_id)
        xml = version.content if version is not None else ""
        forms = version_forms(s, instance.version_id)
        people = page.people(s)
        facts = queries.case_facts_of(s, {instance.id}).get(instance.id)
        customer_id = facts.customer_ref if facts else None
        open_views = [
            _task_view(t, instance, page, s, people, facts) for t in tasks if t.state == "open"
        ]
        names = {
            t.element_id: page.element_name(s, instance.version_id, t.element_id, t.name)
            for t in tasks
        }
    done = sorted(
        {
            e.element_id
            for e in events
            if e.element_id and e.type in ("task_completed", "instance_started", "timer_fired")
        }
    )
    diagram = {
        "xml": xml,
        "done": done,
        "open": sorted({t.element_id for t in tasks if t.state == "open"}),
        "breached": sorted(
            {t.element_id for t in tasks if t.state == "open" and t.sla_status == "breached"}
        ),
    }
    return page.render(
        "case.html",
        diagram=diagram,
        instance=instance,
        events=[_event_line(e, tasks, page, tz, people, names) for e in events],
        customer_id=customer_id,
        open_tasks=open_views,
        started=bool(started),
        variables=instance.variables or {},
        shown_variables=describe_variables(forms, instance.variables or {}, page.language),
    )


def _event_line(
    event: Any,
    tasks: list[Task],
    page: Page,
    tz: Any,
    people: dict[str, str],
    names: dict[str, str],
) -> dict[str, Any]:
    data = event.data or {}
    name = names.get(event.element_id or "") or data.get("name") or event.element_id or ""
    who = people.get(event.actor, event.actor)
    lang = page.language
    zh = lang == "zh-CN"
    text = {
        "instance_started": "登记了案件" if zh else "registered the case",
        "task_created": (f"创建任务 {name}" if zh else f"created the task {name}"),
        "task_claimed": (f"认领了 {name}" if zh else f"claimed {name}"),
        "task_unclaimed": (f"退回了 {name}" if zh else f"gave {name} back to the queue"),
        "task_assigned": (
            f"把 {name} 转派给 {data.get('assignee')}"
            if zh
            else f"assigned {name} to {data.get('assignee')}"
        ),
        "task_commented": (
            f"备注 {name}：{data.get('text', '')}"
            if zh
            else f"commented on {name}: {data.get('text', '')}"
        ),
        "sla_warning": (f"{name} 即将超时" if zh else f"{name} is at risk"),
        "sla_breached": (f"{name} 已超时" if zh else f"{name} breached its due time"),
        "task_escalated": (
            f"{name} 升级到第 {data.get('level')} 级（{data.get('recipient_group')}）"
            if zh
            else f"{name} escalated to level {data.get('level')} ({data.get('recipient_group')})"
        ),
        "instance_completed": "结案" if zh else "closed the case",
        "instance_cancelled": "取消了案件" if zh else "cancelled the case",
        "timer_fired": "定时器触发" if zh else "a timer fired",
    }.get(event.type, event.type)
    if event.type == "task_completed":
        task = next((t for t in tasks if t.id == event.task_id), None)
        took = ""
        if task is not None and task.completed_at is not None:
            span = (
                task_calendar(task).between(task.created_at, task.completed_at)
                if (task.due_at is not None)
                else task.completed_at - task.created_at
            )
            took = i18n.working_duration(span, lang)
        text = (
            (
                f"完成了 {name}（分派后 {took}）"
                if zh
                else f"completed {name} {took} after it was assigned"
            )
            if took
            else (f"完成了 {name}" if zh else f"completed {name}")
        )
    return {
        "at": i18n.local_time(event.at, tz, lang),
        "who": who,
        "text": text,
        "type": event.type,
    }


# ---------------------------------------------------------------- customers


@router.get("/customers/{customer_id}", response_class=HTMLResponse)
def customer_page(request: Request, customer_id: int) -> Response:
    page = _page(request)
    if isinstance(page, RedirectResponse):
        return page
    try:
        with unit_of_work(write=False) as s:
            customer = read_customer(s, actor=page.actor, customer_id=customer_id)
            people = page.people(s)
    except FlowdeskError as exc:
        return _error_page(page, exc)
    return page.render("customer.html", customer=customer, people=people)


# ---------------------------------------------------------------- notifications


@router.get("/notifications", response_class=HTMLResponse)
def notification_page(request: Request) -> Response:
    page = _page(request)
    if isinstance(page, RedirectResponse):
        return page
    with unit_of_work(write=False) as s:
        rows, total, unread = notifications.list_notifications(s, actor=page.actor, limit=100)
    items = [
        {
            "text": notifications.render(n.kind, n.data or {}, page.language),
            "at": i18n.local_time(n.created_at, calendar.timezone(), page.language),
            "read": read_at is not None,
            "task_id": n.task_id,
            "instance_id": n.instance_id,
        }
        for n, read_at in rows
    ]
    return page.render("notifications.html", items=items, total=total)


@router.post("/notifications/read-all")
async def notifications_read_all(request: Request) -> Response:
    posted = await _posted(request)
    if isinstance(posted, Response):
        return posted
    page, form = posted
    with unit_of_work() as s:
        notifications.mark_read(s, actor=page.actor)
    return RedirectResponse("/notifications", status_code=303)
