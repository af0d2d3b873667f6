"""The start pages of the real-estate vertical: register a complaint, register a
visitor (a lead), finding an existing customer by phone first."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends
from fastapi.responses import HTMLResponse, RedirectResponse, Response

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
from crm.customers import CustomerFilters, search_customers
from engine import access, runtime
from engine.errors import NotFound

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
    )


def _start_page_again(page: Page, refusal: Refusal) -> Response:
    return _start_page(page, page.request.path_params["process_key"], refusal)


StartForm = Annotated[PostedForm, Depends(form_shown_again_by(_start_page_again))]


def _customer_with_phone(page: Page, phone: str) -> dict[str, Any] | None:
    """The customer whose whole number this is, when the user may read customers."""
    if not access.can_read_customers(page.actor):
        return None
    items, _ = search_customers(
        page.session, actor=page.actor, filters=CustomerFilters(q=phone, limit=5)
    )
    return next((c for c in items if c["phone"] == phone), None)


@router.get("/start/{process_key}", response_class=HTMLResponse)
def start_page(page: SignedInPage, process_key: str, phone: str = "") -> Response:
    values: dict[str, Any] = {}
    found: dict[str, Any] | None = None
    phone = phone.strip().replace(" ", "").replace("-", "")
    if phone:
        values["phone"] = phone
        found = _customer_with_phone(page, phone)
        if found is not None:
            values[NAME_FIELDS.get(process_key, "name")] = found["name"]
    return _start_page(page, process_key, values=values, lookup=phone, found=found)


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
