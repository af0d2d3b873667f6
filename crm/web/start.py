"""The start pages of the real-estate vertical: register a complaint, register a
visitor (a lead), finding an existing customer by phone first.

Registering a visitor warns before it is submitted when the phone already has a
running lead (one consultant per customer and project): the phone look-up lists
the customer's running leads with their consultants, and the page's script asks
`/start/lead_follow_up/running` as the phone and the project are typed. A submit
made anyway is refused by the start check with the same message."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from api.web.kit import (
    Page,
    PostedForm,
    Refusal,
    SignedInPage,
    WriterPage,
    form_shown_again_by,
    page_router,
    render,
    start_form,
    user_choices,
)
from crm.customers import customer_with_phone
from crm.leads import LEAD_PROCESS, RunningLead, duplicate_error, running_lead, running_leads
from engine import access, runtime
from engine.errors import NotFound
from forms.registry import MOBILE

router = page_router()

# The processes with a start page, and the title of each.
START_PAGES = {"complaint_handling": "register_complaint", "lead_follow_up": "register_visitor"}
# The start variable the customer's name goes in.
NAME_FIELDS = {"complaint_handling": "customer_name", "lead_follow_up": "name"}


def _start_page(
    page: Page,
    process_key: str,
    refusal: Refusal | None = None,
    *,
    values: dict[str, Any] | None = None,
    lookup: str = "",
    found: dict[str, Any] | None = None,
    running: list[dict[str, str]] | None = None,
) -> HTMLResponse:
    if process_key not in START_PAGES:
        raise NotFound(key="error_no_start_page", process=process_key)
    form = start_form(page, process_key)
    return render(
        page,
        "start.html",
        status_code=refusal.status_code if refusal else 200,
        choices=user_choices(page, form),
        process_key=process_key,
        title=page.t(START_PAGES[process_key]),
        form=form,
        errors=refusal.errors if refusal else {},
        values=refusal.values if refusal else values or {},
        notice=refusal.notice if refusal else "",
        lookup=lookup,
        found=found,
        running=running or [],
        duplicate_check=f"/start/{LEAD_PROCESS}/running" if process_key == LEAD_PROCESS else "",
    )


def _start_page_again(page: Page, refusal: Refusal) -> Response:
    return _start_page(page, page.request.path_params["process_key"], refusal)


StartForm = Annotated[PostedForm, Depends(form_shown_again_by(_start_page_again))]


def _whole_number(text: str) -> str | None:
    """Return a typed mobile number as the forms store it (+86, spaces, dashes dropped)."""
    match = MOBILE.match(text.strip().replace(" ", "").replace("-", ""))
    return match.group(1) if match else None


def _customer_with_phone(page: Page, phone: str) -> dict[str, Any] | None:
    """The customer whose whole number this is, when the user may read customers."""
    if not access.can_read_customers(page.actor):
        return None
    return customer_with_phone(page.session, actor=page.actor, phone=phone)


def _running_line(page: Page, lead: RunningLead) -> dict[str, str]:
    consultant = (
        page.people.get(lead.consultant, lead.consultant)
        if lead.consultant
        else page.t("no_consultant_yet")
    )
    return {
        "instance_id": lead.instance_id,
        "text": page.t(
            "running_lead_line",
            project=lead.project,
            case=lead.business_key or lead.instance_id[:8],
            consultant=consultant,
        ),
    }


@router.get("/start/{process_key}", response_class=HTMLResponse)
def start_page(page: SignedInPage, process_key: str, phone: str = "") -> Response:
    values: dict[str, Any] = {}
    found: dict[str, Any] | None = None
    running: list[dict[str, str]] = []
    lookup = phone.strip()
    whole = _whole_number(lookup)
    if lookup:
        values["phone"] = whole or lookup
    if whole:
        found = _customer_with_phone(page, whole)
        if found is not None:
            values[NAME_FIELDS.get(process_key, "name")] = found["name"]
        if process_key == LEAD_PROCESS and access.can_start(page.actor):
            running = [
                _running_line(page, lead) for lead in running_leads(page.session, phone=whole)
            ]
    return _start_page(
        page, process_key, values=values, lookup=lookup, found=found, running=running
    )


@router.get(f"/start/{LEAD_PROCESS}/running")
def running_lead_check(page: SignedInPage, phone: str = "", project: str = "") -> JSONResponse:
    """Tell the registration page whether this phone has a running lead on this project:
    `{"message", "instance_id", "consultant"}` (the 409's words), or nulls."""
    access.require_can_start(page.actor)
    whole = _whole_number(phone)
    lead = (
        running_lead(page.session, phone=whole, project=project)
        if whole and project.strip()
        else None
    )
    if lead is None:
        return JSONResponse({"message": None, "instance_id": None, "consultant": None})
    refusal = duplicate_error(page.session, lead)
    return JSONResponse({"message": refusal.text_in(page.language), **refusal.details})


@router.post("/start/{process_key}")
def start(process_key: str, page: WriterPage, form: StartForm) -> RedirectResponse:
    """Register the case and show it (its case number is given at the start: crm/case_numbers)."""
    if process_key not in START_PAGES:
        raise NotFound(key="error_no_start_page", process=process_key)
    posted = form.values_for(start_form(page, process_key))
    state = runtime.start_instance(
        page.session,
        process_key=process_key,
        variables={name: value for name, value in posted.items() if value is not None},
        actor=page.actor,
        language=page.language,
    )
    return RedirectResponse(f"/cases/{state.instance.id}?started=1", status_code=303)
