"""What every page stands on.

- Page dependencies: `SignedInPage` yields the page of the signed-in user (actor,
  language and this request's database session: one transaction, committed when the
  handler returns, rolled back when it raises). `SessionFormPage`, `WriterPage` and
  `AuditorPage` declare who may use a route; every form post is checked against the
  session's CSRF token. The rules themselves are engine/access.py's.
- `render()`: a template with what every page shows (the user, the unread count, the
  links their roles allow).
- `PostedForm` and `form_shown_again_by()`: the posted fields (typed by the forms
  registry) and the page that shows them again when the engine refuses them.
- `page_error_response()`: the one answer to a domain error raised on a page route.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from jinja2 import FileSystemLoader
from sqlalchemy.orm import Session

from api.errors import status_for
from api.web.session import PageSession, csrf_ok, read_session
from engine import access, identity, notifications, queries, signin, texts
from engine.db import unit_of_work
from engine.definitions import (
    element_labels,
    get_version,
    start_event_id,
    version_form,
    version_variables,
)
from engine.departments import department_names
from engine.errors import (
    Conflict,
    FlowdeskError,
    InvalidData,
    NotAuthenticated,
    NotPermitted,
    ProcessError,
)
from engine.identity import Actor, actor_for
from engine.privacy import case_masker
from forms.display import Names, ShownVariable, describe_variables
from forms.display import value_text as display_value
from forms.registry import values_from_form_text

if TYPE_CHECKING:
    from engine.models import Instance, Task

templates = Jinja2Templates(directory=str(Path(__file__).resolve().parents[1] / "templates"))


def add_template_folder(folder: Path) -> None:
    """Let a vertical's pages render templates of its own folder (searched after ours)."""
    loader = templates.env.loader
    assert isinstance(loader, FileSystemLoader)
    if str(folder) not in loader.searchpath:
        loader.searchpath.append(str(folder))


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SIGN_IN = "/login"


# ---------------------------------------------------------------- who is looking


@dataclass
class Visitor:
    """Someone reading a page in a language, signed in or not (the sign-in page)."""

    request: Request
    language: str
    csrf: str

    def t(self, key: str, **params: Any) -> str:
        """Return the catalogue's text of `key` in the page's language."""
        return texts.text(key, self.language, **params)

    @property
    def path(self) -> str:
        """Return this page's path with its query (where a form comes back to)."""
        url = self.request.url
        return url.path + (f"?{url.query}" if url.query else "")


@dataclass
class Page(Visitor):
    """A signed-in user's page, with this request's database session."""

    session: Session = field(repr=False)
    actor: Actor
    signed_in: PageSession = field(repr=False)

    def element_name(self, version_id: int, element_id: str, default: str) -> str:
        """Return a BPMN element's name in the page's language (`name_en` for English)."""
        labels = element_labels(self.session, version_id).get(element_id)
        return labels[self.language] if labels else default

    @cached_property
    def people(self) -> dict[str, str]:
        """Return display names by username (the platform's own steps: 系统)."""
        return {
            identity.SYSTEM.username: self.t("actor_system"),
            "customer": self.t("actor_customer"),  # the customer's own survey answer
            **identity.display_names(self.session),
        }

    @cached_property
    def departments(self) -> dict[str, str]:
        """Return department names in the page's language by code."""
        return department_names(self.session, self.language)

    def department_name(self, code: str) -> str:
        """Return a department's name in the page's language (its code when unknown)."""
        return self.departments.get(code, code)

    @property
    def names(self) -> Names:
        """Return the names values are shown with (departments, people)."""
        return Names(departments=self.departments, people=self.people)


def _page_language(request: Request, actor: Actor, stored: str) -> str:
    if not access.can_write(actor):  # auditors change nothing: their choice is a cookie
        chosen = request.cookies.get("lang")
        if chosen in texts.LANGUAGES:
            return str(chosen)
    return stored if stored in texts.LANGUAGES else texts.DEFAULT_LANGUAGE


def _signed_in_page(request: Request) -> Iterator[Page]:
    """Yield the signed-in user's page in one transaction; NotAuthenticated without one."""
    signed_in = read_session(request)
    if signed_in is None:
        raise NotAuthenticated("sign in first")
    with unit_of_work(write=request.method not in SAFE_METHODS) as session:
        user = signin.session_user(
            session, session_id=signed_in.session_id, user_id=signed_in.user_id
        )
        if user is None:
            raise NotAuthenticated("the session has ended, or its user is disabled")
        actor = actor_for(user)
        page = Page(
            request=request,
            language=_page_language(request, actor, user.language),
            csrf=signed_in.csrf,
            session=session,
            actor=actor,
            signed_in=signed_in,
        )
        request.state.page = page  # for page_error_response
        yield page


# "function": commit before the answer is sent, so the next page reads what this one did.
SignedInPage = Annotated[Page, Depends(_signed_in_page, scope="function")]


async def _posted_fields(request: Request) -> dict[str, Any]:
    """Return the posted fields; a name posted more than once gives the list of values."""
    form = await request.form()
    fields: dict[str, Any] = {}
    for name in form:
        values = form.getlist(name)
        fields[name] = values if len(values) > 1 else values[0]
    return fields


PostedFields = Annotated[dict[str, Any], Depends(_posted_fields)]


def _session_form_page(fields: PostedFields, page: SignedInPage) -> Page:
    """The page of a form post carrying the session's CSRF token (403 otherwise).

    The fields come first: the body is read before the transaction begins.
    """
    token = fields.get("csrf_token")
    if not csrf_ok(page.signed_in, token if isinstance(token, str) else None):
        raise NotPermitted(key="csrf")
    return page


def _writer_page(page: Annotated[Page, Depends(_session_form_page)]) -> Page:
    """The page of a form post that changes data: auditors are refused (403)."""
    access.require_writer(page.actor)
    return page


def _auditor_page(page: SignedInPage) -> Page:
    """The page of the audit trail: auditors and admins only (403)."""
    access.require_auditor(page.actor)
    return page


# A form that changes only the browser's session (language, sign-out): auditors too.
SessionFormPage = Annotated[Page, Depends(_session_form_page)]
WriterPage = Annotated[Page, Depends(_writer_page)]
AuditorPage = Annotated[Page, Depends(_auditor_page)]


def local_path(target: Any, default: str) -> str:
    """Return `target` when it is a path of this site, else `default` (no open redirects)."""
    text = str(target or "")
    return text if text.startswith("/") and not text.startswith("//") else default


def sign_in_redirect(request: Request) -> RedirectResponse:
    """Send the browser to the sign-in page, and back here afterwards."""
    url = request.url
    target = url.path + (f"?{url.query}" if url.query else "")
    return RedirectResponse(f"{SIGN_IN}?next={quote(target)}", status_code=303)


# ---------------------------------------------------------------- rendering


def render(page: Visitor, name: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a template for the page's reader, with what every page shows."""
    shown: dict[str, Any] = {"page": page, "t": page.t, "lang": page.language, "csrf": page.csrf}
    if isinstance(page, Page):
        _, _, unread = notifications.list_notifications(page.session, actor=page.actor, limit=1)
        shown.update(
            unread=unread,
            can_start=access.can_start(page.actor),
            can_audit=access.can_read_audit(page.actor),
            can_administer=access.can_administer(page.actor),
            can_design=access.can_design(page.actor),
            can_report=access.can_read_report_pages(page.actor),
            can_cover=access.can_hand_over(page.actor, page.actor.department),
            read_only=not access.can_write(page.actor),
        )
    return templates.TemplateResponse(
        page.request, name, {**shown, **context}, status_code=status_code
    )


# ---------------------------------------------------------------- forms


@dataclass(frozen=True)
class Refusal:
    """Why the engine refused a posted form, for the page that shows it again."""

    status_code: int
    notice: str
    errors: dict[str, str] = field(default_factory=dict)  # field -> message
    values: dict[str, Any] = field(default_factory=dict)  # what was posted


ShowAgain = Callable[[Page, Refusal], Response]


@dataclass(frozen=True)
class PostedForm:
    """The fields of a form post, as posted (strings, lists for repeated names)."""

    fields: dict[str, Any]

    def get(self, name: str) -> Any:
        """Return a posted field (None when it was not posted)."""
        return self.fields.get(name)

    def values_for(self, form: dict[str, Any] | None) -> dict[str, Any]:
        """Return the fields of `form` typed as its validation expects ({} without a form)."""
        return values_from_form_text(form["fields"], self.fields) if form else {}


def form_shown_again_by(show: ShowAgain) -> Callable[..., PostedForm]:
    """Return a dependency giving a posted form that changes data; when the engine refuses
    it (field problems, a conflict), `show` renders its page again with what was posted."""

    def posted_form(request: Request, page: WriterPage, fields: PostedFields) -> PostedForm:
        # `page` first: only a form that passed the CSRF and role checks is shown again.
        request.state.refused_form = (show, fields)
        return PostedForm(fields)

    return posted_form


# Every lookup of a form is here: a case reads the forms its version was deployed with.


def task_form(page: Page, task: Task) -> dict[str, Any] | None:
    """Return the form a task shows and validates (None: it has none)."""
    instance = queries.instance_of_task(page.session, task)
    return version_form(page.session, instance.version_id, task.element_id) if instance else None


def start_form(page: Page, process_key: str) -> dict[str, Any] | None:
    """Return the start form of a process's newest version; NotFound when not deployed."""
    version = get_version(page.session, process_key)
    return version_form(page.session, version.id, start_event_id(page.session, version))


def has_form(page: Page, version_id: int, element_id: str) -> bool:
    """Tell whether an element of a deployed version has a form."""
    return version_form(page.session, version_id, element_id) is not None


def case_number(page: Visitor, business_key: str | None, instance_id: str) -> str:
    """Return how pages name a case: its case number (crm/case_numbers.py numbers every
    complaint and lead), or 未编号 with the start of its id for a case that has none."""
    return business_key or page.t("case_unnumbered", short=instance_id[:8])


def recipient_group_text(page: Page, group: str | None) -> str:
    """Return whom an SLA step reached in words: the history keeps 'supervisors of
    <department>', 'executives', or a department's code."""
    if not group:
        return ""
    if group.startswith("supervisors of "):
        department = page.department_name(group.removeprefix("supervisors of "))
        return page.t("recipients_supervisors", department=department)
    if group == "executives":
        return page.t("recipients_executives")
    return page.department_name(group)


def process_name(page: Visitor, process_key: str | None) -> str:
    """Return a process's name in the page's language (its key when the catalogue has
    none: a process a designer added names itself)."""
    if not process_key:
        return ""
    key = f"process_{process_key}"
    return page.t(key) if texts.has_text(key) else process_key


def case_data(
    page: Page, instance: Instance, *, recorded_by_steps: Collection[str] = ()
) -> list[ShownVariable]:
    """Return a case's variables as people read them (forms/display.py), in the page's
    language; a version deployed without forms shows its variables by name.

    Variables named in `recorded_by_steps` are left out: the case record shows each
    step's own value of them (two steps' `comments` are two different things, and the
    case variable holds only the later one)."""
    specs = version_variables(page.session, instance.version_id)
    masker = case_masker(page.session, actor=page.actor, instance_id=instance.id)
    variables = {
        name: value
        for name, value in masker.variables(instance.variables or {}).items()
        if name not in recorded_by_steps
    }
    return describe_variables(specs, variables, page.language, page.names, show_unknown=not specs)


def value_text_of(page: Page, version_id: int, name: str, value: Any) -> str:
    """Return one variable's value in words as a version's forms name it (an option's
    name, 是/否, a department's or person's name, an amount in yuan)."""
    spec = version_variables(page.session, version_id).get(name, {"name": name})
    return display_value(spec, value, page.language, page.names)


def user_choices(page: Page, form: dict[str, Any] | None) -> dict[str, list[tuple[str, str]]]:
    """For each `user` field of a form: the active users it accepts (department, roles)."""
    return {
        field["name"]: [
            (user.username, user.display_name)
            for user in identity.active_users(
                page.session, department=field.get("department"), roles=field.get("roles") or ()
            )
        ]
        for field in (form or {}).get("fields", [])
        if field.get("type") == "user"
    }


# ---------------------------------------------------------------- domain errors


class PageRoute(APIRoute):
    """A route of the HTML pages: the domain errors it raises are answered as pages, and
    a form it takes carries the session's CSRF token (checked by the page dependency)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        # The sign-in form has no session yet: it checks its own double-submit token.
        posts = bool((self.methods or set()) - SAFE_METHODS) and path != SIGN_IN
        if posts and not _depends_on(self.dependant, _session_form_page):
            raise TypeError(f"the page form {path} must take SessionFormPage or WriterPage")


def _depends_on(dependant: Dependant, call: Callable[..., Any]) -> bool:
    return any(sub.call is call or _depends_on(sub, call) for sub in dependant.dependencies)


def page_router() -> APIRouter:
    """Return a router for a family of pages."""
    return APIRouter(include_in_schema=False, route_class=PageRoute)


def is_page_request(request: Request) -> bool:
    """Tell whether the request went to a page (not to the JSON API)."""
    return isinstance(request.scope.get("route"), PageRoute)


_ERROR_TITLES = {403: "forbidden", 404: "not_found", 409: "conflict", 422: "invalid"}


def page_error_response(request: Request, exc: FlowdeskError) -> Response:
    """Answer a domain error raised on a page route.

    Not signed in: the sign-in page. A refused form (field problems, a conflict, a
    failing step): its page again with the messages and what was posted. Anything
    else (not allowed, not found): the error page. Always in the user's language.
    """
    failed: Page | None = getattr(request.state, "page", None)
    if isinstance(exc, NotAuthenticated) or failed is None:
        return sign_in_redirect(request)
    status = status_for(exc)
    refused: tuple[ShowAgain, dict[str, Any]] | None = getattr(request.state, "refused_form", None)
    # The request's own transaction was rolled back: the answer reads in a new one.
    with unit_of_work(write=False) as session:
        page = replace(failed, session=session)
        if refused is not None and isinstance(exc, (InvalidData, Conflict, ProcessError)):
            show, fields = refused
            return show(page, _refusal(page, exc, status, fields))
        return render(
            page,
            "error.html",
            status_code=status,
            title=page.t(_ERROR_TITLES[status]) if status in _ERROR_TITLES else "",
            message=exc.text_in(page.language),
        )


def _refusal(page: Page, exc: FlowdeskError, status: int, fields: dict[str, Any]) -> Refusal:
    if isinstance(exc, InvalidData):
        problems = {p.field: p.text_in(page.language) for p in exc.problems}
        return Refusal(status, page.t("fix_errors"), problems, fields)
    return Refusal(status, exc.text_in(page.language), {}, fields)
