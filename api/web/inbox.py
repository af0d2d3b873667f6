"""The inbox: each role's tasks by tab (mine, my department's, escalated to me, all),
filtered and searched, overdue first."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.web.kit import Page, SignedInPage, has_form, page_router, render
from api.web.task_rows import remember_phone_visibility, task_row
from engine import access, queries, reminders
from engine.bounds import QUERY_INT_MAX
from engine.definitions import latest_versions, user_task_labels

router = page_router()

PAGE_SIZE = 25
TABS = ("mine", "department", "escalated", "all")


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/inbox", status_code=303)


def _landing_tab(page: Page, counts: dict[str, queries.Count], tabs: list[str]) -> str:
    """Where each role's work is: staff and supervisors their own tasks (their department's
    queue while they hold none), executives what escalated to them, auditors and admins
    everything."""
    if page.actor.has(*access.WORKER_ROLES):
        return "mine" if counts["mine"].n else "department"
    if page.actor.has("executive"):
        return "escalated"
    return "all" if "all" in tabs else "mine"


_PROJECTS: dict[str, tuple[float, list[str]]] = {}


def _projects(page: Page) -> list[str]:
    """The projects for the inbox filter, read at most once a minute per database."""
    key = str(page.session.get_bind().engine.url)
    hit = _PROJECTS.get(key)
    if hit is None or hit[0] < time.monotonic():
        hit = (time.monotonic() + 60, queries.known_projects(page.session))
        _PROJECTS[key] = hit
    return hit[1]


def _task_choices(page: Page, process: str) -> list[tuple[str, str]]:
    """The user tasks with a form of the newest versions (of `process`), by name."""
    choices: dict[str, str] = {}
    for definition, version in latest_versions(page.session, kind="bpmn"):
        if process and definition.key != process:
            continue
        for element_id, names in user_task_labels(page.session, version.id).items():
            if has_form(page, version.id, element_id):
                choices[element_id] = names[page.language]
    return sorted(choices.items(), key=lambda kv: kv[1])


def _shown(page: Page, count: queries.Count) -> str:
    """A count as the page shows it: 123, or 1000+ when the count stopped there."""
    return str(count.n) if count.exact else page.t("count_more", n=count.n)


@router.get("/inbox", response_class=HTMLResponse)
def inbox(
    page: SignedInPage,
    tab: str = "",
    process: str = "",
    element: str = "",
    sla: str = "",
    project: str = "",
    q: str = "",
    page_no: int = 1,
    done: str = "",
) -> Response:
    tabs = [name for name in TABS if name != "all" or access.can_use_scope(page.actor, "all")]
    page_no = min(max(1, page_no), QUERY_INT_MAX // PAGE_SIZE)  # an offset a query can take
    counts = {
        name: queries.count_tasks(
            page.session,
            actor=page.actor,
            filters=queries.TaskFilters(scope=name),
            limit=queries.COUNT_LIMIT,
        )
        if access.can_use_scope(page.actor, name)
        else queries.Count(0)
        for name in tabs
    }
    if tab not in tabs:
        tab = _landing_tab(page, counts, tabs)
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
    rows, total = (
        queries.task_page(
            page.session,
            actor=page.actor,
            filters=filters,
            count_limit=queries.COUNT_LIMIT,
            # the tab's own count when nothing narrows it
            counted=counts[tab]
            if filters == queries.TaskFilters(scope=tab, limit=PAGE_SIZE, offset=filters.offset)
            else None,
        )
        if access.can_use_scope(page.actor, tab)
        else ([], queries.Count(0))
    )
    cases = queries.instances_by_id(page.session, {t.instance_id for t in rows})
    facts = queries.case_facts_of(page.session, cases)
    escalated = reminders.escalated_to_actor(page.session, page.actor, [t.id for t in rows])
    remember_phone_visibility(page, cases)
    query = {"tab": tab, "process": process, "element": element, "sla": sla}
    query |= {"project": project, "q": q}
    return render(
        page,
        "inbox.html",
        tab=tab,
        tabs=tabs,
        counts={name: _shown(page, count) for name, count in counts.items()},
        rows=[
            task_row(
                page,
                t,
                cases.get(t.instance_id),
                facts.get(t.instance_id),
                escalated_to_actor=t.id in escalated,
            )
            for t in rows
        ],
        total=_shown(page, total),
        page_no=page_no,
        pages=_shown(page, queries.Count(max(1, -(-total.n // PAGE_SIZE)), total.exact)),
        more_pages=page_no * PAGE_SIZE < total.n or not total.exact,
        count_stopped=None if total.exact else page.t("count_more_title", n=total.n),
        filters=query,
        query_for=lambda **changes: urlencode({**query, **changes}),
        projects=_projects(page),
        task_choices=_task_choices(page, process),
        done=done,
        back=page.path,
    )
