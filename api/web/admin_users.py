"""The user administration pages: the users with their roles, department, last sign-in
and the work they hold; add a user, edit one, reset a password, deactivate and
reactivate; and the handover flow (preview, choose colleagues, confirm, hand back).

Admins only (others get the 403 page), except that a supervisor may hand over, and
hand back, the work of a member of their own department (holiday cover). Every change
is an engine call (engine/user_admin.py, engine/handover.py), which writes its history.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import Depends
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.web.kit import (
    Page,
    PostedForm,
    Refusal,
    SignedInPage,
    WriterPage,
    case_number,
    form_shown_again_by,
    page_router,
    render,
)
from api.web.task_rows import remember_phone_visibility, shown_phone, task_row
from engine import access, calendar, handover, identity, queries, texts, user_admin
from engine.bounds import ROW_ID_MAX
from engine.errors import NotFound
from engine.models import ROLES, Handover, Task, User

router = page_router()


def _admin_page(page: SignedInPage) -> Page:
    """A user administration page: admins only (403)."""
    access.require_admin(page.actor)
    return page


AdminPage = Annotated[Page, Depends(_admin_page)]


def _admin_form(page: WriterPage) -> Page:
    """A user administration form (CSRF checked): admins only (403)."""
    access.require_admin(page.actor)
    return page


AdminForm = Annotated[Page, Depends(_admin_form)]


# ---------------------------------------------------------------- what the pages show


def _role_choices(page: Page) -> list[tuple[str, str]]:
    return [(role, page.t(f"role_name_{role}")) for role in ROLES]


def _department_choices(page: Page) -> list[tuple[str, str]]:
    return list(page.departments.items())


def _roles_text(page: Page, roles: Any) -> str:
    ordered = [role for role in ROLES if role in set(roles)]
    return "、".join(page.t(f"role_name_{role}") for role in ordered)


# The fields the user forms show a problem beside; any other problem goes in the notice.
PLACED = frozenset({"username", "display_name", "email", "roles", "role", "department", "password"})


def _notice(refusal: Refusal | None, placed: frozenset[str] = PLACED) -> str:
    """The refusal's words above the form: the problems no field shows, else its notice."""
    if refusal is None:
        return ""
    unplaced = [text for name, text in refusal.errors.items() if name not in placed]
    return "；".join(unplaced) or refusal.notice


def _local(page: Page, value: Any) -> str:
    return texts.local_time(value, calendar.timezone(), page.language)


def _user_view(page: Page, user: User, *, open_tasks: int, leads: int) -> dict[str, Any]:
    """One user as the pages show them: names, roles and department in words, the last
    sign-in in the reader's time, the work they hold."""
    return {
        "username": user.username,
        "display_name": user.display_name,
        "email": user.email or "",
        "role_codes": sorted(user.role_names),
        "roles": _roles_text(page, user.role_names),
        "department_code": user.department_code or "",
        "department": page.department_name(user.department_code)
        if user.department_code
        else page.t("users_no_department"),
        "active": user.is_active,
        "last_sign_in": _local(page, user.last_signin_at),
        "open_tasks": open_tasks,
        "leads": leads,
    }


def _form_values(fields: dict[str, Any]) -> dict[str, Any]:
    """The user fields as posted: roles a list however many boxes were ticked."""
    roles = fields.get("roles") or []
    return {
        "username": str(fields.get("username") or "").strip(),
        "display_name": str(fields.get("display_name") or "").strip(),
        "email": str(fields.get("email") or "").strip(),
        "roles": [roles] if isinstance(roles, str) else list(roles),
        "department": str(fields.get("department") or ""),
    }


# ---------------------------------------------------------------- the users


def _listed(page: Page, row: user_admin.UserRow, department: str, active: str) -> bool:
    user = row.user
    return (not department or user.department_code == department) and (
        active not in ("1", "0") or user.is_active == (active == "1")
    )


def _users_page(
    page: Page, refusal: Refusal | None = None, *, department: str = "", active: str = ""
) -> HTMLResponse:
    rows = user_admin.list_users(page.session, actor=page.actor)
    added = page.request.query_params.get("added", "")
    return render(
        page,
        "admin_users.html",
        status_code=refusal.status_code if refusal else 200,
        users=[
            _user_view(page, row.user, open_tasks=row.open_tasks, leads=row.leads)
            for row in rows
            if _listed(page, row, department, active)
        ],
        filters={"department": department, "active": active},
        departments=_department_choices(page),
        roles=_role_choices(page),
        new=True,
        values=_form_values(refusal.values) if refusal else {"roles": ["staff"]},
        errors=refusal.errors if refusal else {},
        notice=_notice(refusal),
        done=page.t("users_added", name=added) if added else "",
    )


def _users_page_again(page: Page, refusal: Refusal) -> Response:
    return _users_page(page, refusal)


NewUserForm = Annotated[PostedForm, Depends(form_shown_again_by(_users_page_again))]


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(page: AdminPage, department: str = "", active: str = "") -> Response:
    return _users_page(page, department=department, active=active)


@router.post("/admin/users")
def add_user(page: AdminForm, form: NewUserForm) -> RedirectResponse:
    """Add a user; a refused form comes back with each problem beside its field."""
    values = _form_values(form.fields)
    user = user_admin.add_user(
        page.session,
        actor=page.actor,
        username=values["username"],
        password=str(form.get("password") or ""),
        roles=values["roles"],
        department=values["department"] or None,
        display_name=values["display_name"] or None,
        email=values["email"] or None,
    )
    query = urlencode({"added": user.display_name})
    return RedirectResponse(f"/admin/users?{query}", status_code=303)


# ---------------------------------------------------------------- one user

_DONE = {
    "saved": "users_saved",
    "password": "users_password_reset",
    "deactivated": "users_deactivated",
    "reactivated": "users_reactivated",
}


def _user_page(page: Page, username: str, refusal: Refusal | None = None) -> HTMLResponse:
    detail = user_admin.user_detail(page.session, username=username, actor=page.actor)
    user = _user_view(page, detail.user, open_tasks=len(detail.open_tasks), leads=len(detail.cases))
    posted = refusal.values if refusal else {}
    errors = refusal.errors if refusal else {}
    done = _DONE.get(page.request.query_params.get("done", ""))
    return render(
        page,
        "admin_user.html",
        status_code=refusal.status_code if refusal else 200,
        user=user,
        new=False,
        roles=_role_choices(page),
        departments=_department_choices(page),
        values=_form_values(posted)
        if "display_name" in posted
        else {
            "display_name": user["display_name"],
            "email": user["email"],
            "roles": user["role_codes"],
            "department": user["department_code"],
        },
        errors={name: text for name, text in errors.items() if name != "password"},
        password_error=errors.get("password", ""),
        notice=_notice(refusal),
        done=page.t(done, name=user["display_name"]) if done else "",
        is_self=username == page.actor.username,
        covers=_covers(page, detail.user),
    )


def _user_page_again(page: Page, refusal: Refusal) -> Response:
    return _user_page(page, page.request.path_params["username"], refusal)


UserForm = Annotated[PostedForm, Depends(form_shown_again_by(_user_page_again))]


def _back_to_user(username: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"/admin/users/{quote(username)}?done={done}", status_code=303)


@router.get("/admin/users/{username}", response_class=HTMLResponse)
def user_page(page: AdminPage, username: str) -> Response:
    return _user_page(page, username)


@router.post("/admin/users/{username}")
def edit_user(username: str, page: AdminForm, form: UserForm) -> RedirectResponse:
    """Change a user's roles, department, display name and e-mail."""
    values = _form_values(form.fields)
    changes = {
        "roles": values["roles"],
        "department": values["department"] or None,
        "display_name": values["display_name"],
        "email": values["email"] or None,
    }
    user_admin.update_user(page.session, actor=page.actor, username=username, changes=changes)
    return _back_to_user(username, "saved")


@router.post("/admin/users/{username}/password")
def reset_password(username: str, page: AdminForm, form: UserForm) -> RedirectResponse:
    """Give a user a new password (their sessions end)."""
    password = str(form.get("password") or "")
    user_admin.reset_password(page.session, actor=page.actor, username=username, password=password)
    return _back_to_user(username, "password")


@router.post("/admin/users/{username}/deactivate")
def deactivate(username: str, page: AdminForm, form: UserForm) -> RedirectResponse:
    """Deactivate a user who holds no work (409 with the counts while they hold some)."""
    changes = {"active": False}
    user_admin.update_user(page.session, actor=page.actor, username=username, changes=changes)
    return _back_to_user(username, "deactivated")


@router.post("/admin/users/{username}/reactivate")
def reactivate(username: str, page: AdminForm, form: UserForm) -> RedirectResponse:
    """Let a deactivated user sign in again."""
    changes = {"active": True}
    user_admin.update_user(page.session, actor=page.actor, username=username, changes=changes)
    return _back_to_user(username, "reactivated")


# ---------------------------------------------------------------- handing work over


def _holder(page: Page, username: str) -> tuple[User, handover.Holdings]:
    """The user whose work is handed over and what they hold, once the reader may hand
    it over (admins; supervisors of the user's department: 403 otherwise)."""
    user = identity.get_user(page.session, username)
    if user is None:
        raise NotFound(key="error_user_not_found", username=username)
    access.require_hand_over(page.actor, user.department_code)
    return user, handover.holdings(page.session, username)


def _colleagues(page: Page, user: User) -> list[tuple[str, str]]:
    """The colleagues the engine accepts: active staff and supervisors of the department."""
    if user.department_code is None:
        return []
    return [
        (other.username, other.display_name)
        for other in identity.active_users(
            page.session, department=user.department_code, roles=access.WORKER_ROLES
        )
        if other.username != user.username
    ]


def _chosen(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value] if value else []
    return [str(v) for v in dict.fromkeys(values) if str(v).strip()]


def _task_rows(page: Page, task_ids: list[str]) -> list[dict[str, Any]]:
    tasks = [task for task in (page.session.get(Task, i) for i in task_ids) if task is not None]
    cases = queries.instances_by_id(page.session, {t.instance_id for t in tasks})
    facts = queries.case_facts_of(page.session, cases)
    remember_phone_visibility(page, cases)
    return [task_row(page, t, cases.get(t.instance_id), facts.get(t.instance_id)) for t in tasks]


def _case_rows(page: Page, held: list[handover.HeldCase]) -> list[dict[str, Any]]:
    """The held cases (a consultant's leads) as lists show them: case number, customer,
    phone as the reader may see it, project."""
    facts = queries.case_facts_of(page.session, [c.instance_id for c in held])
    remember_phone_visibility(page, [c.instance_id for c in held])
    rows = []
    for case in held:
        fact = facts.get(case.instance_id)
        rows.append(
            {
                "instance_id": case.instance_id,
                "business_key": case_number(page, case.business_key, case.instance_id),
                "customer": (fact.customer_name if fact else None) or "",
                "phone": shown_phone(page, case.instance_id, fact.phone if fact else None),
                "project": (fact.project if fact else None) or "",
            }
        )
    return rows


def _shares(page: Page, moves: dict[str, Any]) -> list[str]:
    """Who got (or gets) how much, in words: '周杰：1 个任务、1 条线索'."""
    counts: dict[str, list[int]] = {}
    for n, kind in enumerate(("tasks", "cases")):
        for move in moves.get(kind, []):
            counts.setdefault(move["to"], [0, 0])[n] += 1
    return [
        page.t("handover_plan_line", name=page.people.get(to, to), tasks=tasks, leads=cases)
        for to, (tasks, cases) in counts.items()
    ]


def _moves(result: handover.HandoverResult) -> dict[str, Any]:
    return {
        "tasks": [{"to": move.to} for move in result.tasks],
        "cases": [{"to": move.to} for move in result.cases],
    }


def _handover_page(
    page: Page, username: str, refusal: Refusal | None = None, *, chosen: list[str] | None = None
) -> HTMLResponse:
    user, held = _holder(page, username)
    plan: list[str] = []
    if chosen and refusal is None:
        planned = handover.hand_over(
            page.session, actor=page.actor, username=username, to=chosen, dry_run=True
        )
        plan = _shares(page, _moves(planned))
    return render(
        page,
        "admin_handover.html",
        status_code=refusal.status_code if refusal else 200,
        user=_user_view(page, user, open_tasks=len(held.task_ids), leads=len(held.cases)),
        tasks=_task_rows(page, held.task_ids),
        leads=_case_rows(page, held.cases),
        colleagues=_colleagues(page, user),
        chosen=chosen or [],
        plan=plan,
        notice=_notice(refusal, frozenset()),
        back=_back_link(page, user),
    )


def _back_link(page: Page, user: User) -> tuple[str, str]:
    """Where the handover pages lead back to: the user's page (admins), the team (supervisors)."""
    if access.can_administer(page.actor):
        name = user.display_name
        return f"/admin/users/{quote(user.username)}", page.t("users_to_user", name=name)
    return "/handovers", page.t("handover_team")


def _handover_page_again(page: Page, refusal: Refusal) -> Response:
    return _handover_page(page, page.request.path_params["username"], refusal)


HandoverForm = Annotated[PostedForm, Depends(form_shown_again_by(_handover_page_again))]


@router.get("/admin/users/{username}/handover", response_class=HTMLResponse)
def handover_page(page: SignedInPage, username: str) -> Response:
    """What the user holds; with colleagues chosen (`to`), what each of them would get."""
    chosen = _chosen(page.request.query_params.getlist("to"))
    return _handover_page(page, username, chosen=chosen)


@router.post("/admin/users/{username}/handover")
def hand_over(username: str, page: WriterPage, form: HandoverForm) -> RedirectResponse:
    """Move the user's open tasks and held cases to the chosen colleagues."""
    to = _chosen(form.get("to"))
    moved = handover.hand_over(page.session, actor=page.actor, username=username, to=to)
    return RedirectResponse(
        f"/admin/users/{quote(username)}/handovers/{moved.handover_id}", status_code=303
    )


def _whole(text: str | None) -> int:
    """A count or an id as written in a path or query (0 when it is not one)."""
    return int(text) if text and text.isascii() and text.isdigit() and len(text) < 16 else 0


def _handover_of(page: Page, username: str, handover_id: str) -> tuple[User, Handover, bool]:
    """A handover of the user's work (NotFound for another user's), the user, and whether
    they hold nothing now."""
    user, held = _holder(page, username)
    number = _whole(handover_id)
    if not 0 < number <= ROW_ID_MAX:
        raise NotFound(key="error_handover_not_found", handover_id=handover_id)
    record = handover.get_handover(page.session, number)
    if record.from_user != user.username:
        raise NotFound(key="error_handover_not_found", handover_id=handover_id)
    return user, record, held.empty


@router.get("/admin/users/{username}/handovers/{handover_id}", response_class=HTMLResponse)
def handover_result(page: SignedInPage, username: str, handover_id: str) -> Response:
    """What a handover moved, and what comes next: deactivate the user (admins), or hand
    the work back (holiday cover)."""
    user, record, free = _handover_of(page, username, handover_id)
    moves = record.moves or {}
    query = page.request.query_params
    returned = page.t(
        "handover_handed_back", tasks=_whole(query.get("tasks")), leads=_whole(query.get("leads"))
    )
    return render(
        page,
        "admin_handover_done.html",
        user=_user_view(page, user, open_tasks=0, leads=0),
        handover_id=record.id,
        moved=page.t(
            "handover_moved",
            tasks=len(moves.get("tasks", [])),
            leads=len(moves.get("cases", [])),
        ),
        lines=_shares(page, moves),
        returned=returned if record.returned_at is not None and query.get("back") else "",
        back=_back_link(page, user),
        can_hand_back=record.returned_at is None and user.is_active,
        can_deactivate=free
        and user.is_active
        and access.can_administer(page.actor)
        and user.username != page.actor.username,
    )


@router.post("/admin/users/{username}/handovers/{handover_id}/return")
def hand_back(username: str, handover_id: str, page: WriterPage) -> RedirectResponse:
    """Give the user back what the handover moved and their colleagues still hold."""
    _, record, _ = _handover_of(page, username, handover_id)
    back = handover.return_handover(page.session, handover_id=record.id, actor=page.actor)
    query = urlencode({"back": 1, "tasks": len(back.tasks), "leads": len(back.cases)})
    return RedirectResponse(
        f"/admin/users/{quote(username)}/handovers/{handover_id}?{query}", status_code=303
    )


def _covers(page: Page, user: User) -> list[dict[str, Any]]:
    """The handovers of an active user's work not handed back yet (a holiday cover)."""
    if not user.is_active:
        return []
    return [
        {
            "id": record.id,
            "text": page.t(
                "handover_cover_line",
                at=_local(page, record.at),
                to="、".join(page.people.get(name, name) for name in record.to_users),
                tasks=len((record.moves or {}).get("tasks", [])),
                leads=len((record.moves or {}).get("cases", [])),
            ),
        }
        for record in handover.list_handovers(page.session, username=user.username)
        if record.returned_at is None
    ]


# ---------------------------------------------------------------- a supervisor's team


@router.get("/handovers", response_class=HTMLResponse)
def team_page(page: SignedInPage) -> Response:
    """A supervisor's department for holiday cover: each colleague with the work they
    hold and a handover link, and the handovers not handed back yet (admins: the users)."""
    if access.can_administer(page.actor):
        return RedirectResponse("/admin/users", status_code=303)
    department = page.actor.department
    access.require_hand_over(page.actor, department)
    members = []
    for user in identity.active_users(page.session, department=department):
        held = handover.holdings(page.session, user.username)
        view = _user_view(page, user, open_tasks=len(held.task_ids), leads=len(held.cases))
        members.append({**view, "covers": _covers(page, user)})
    return render(page, "team_handovers.html", members=members)
