"""A customer's page (the real-estate vertical): their leads, complaints and units, each
case by its case number, its codes by the names its version's forms give them."""

from __future__ import annotations

from typing import Any

from fastapi.responses import HTMLResponse, Response

from api.web.kit import Page, SignedInPage, case_number, page_router, render, value_text_of
from crm.customers import read_customer
from engine import queries
from engine.models import Instance

router = page_router()

LEAD_CODES = ("stage", "lost_reason", "source")
COMPLAINT_CODES = ("category", "severity", "responsible_department")


def _in_words(
    page: Page, item: dict[str, Any], instance: Instance | None, codes: tuple[str, ...]
) -> dict[str, Any]:
    """The item with its case number, and each of `codes` in words as `<code>_text`."""
    shown = {
        **item,
        "case_number": case_number(
            page, instance.business_key if instance else None, item["instance_id"]
        ),
    }
    for code in codes:
        value = item.get(code)
        if value is None:
            shown[f"{code}_text"] = ""
        elif instance is None:
            shown[f"{code}_text"] = str(value)
        else:
            shown[f"{code}_text"] = value_text_of(page, instance.version_id, code, value)
    return shown


@router.get("/customers/{customer_id}", response_class=HTMLResponse)
def customer_page(page: SignedInPage, customer_id: int) -> Response:
    customer = read_customer(page.session, actor=page.actor, customer_id=customer_id)
    cases = queries.instances_by_id(
        page.session,
        {item["instance_id"] for item in customer["leads"] + customer["complaints"]},
    )
    return render(
        page,
        "customer.html",
        customer=customer,
        leads=[
            _in_words(page, lead, cases.get(lead["instance_id"]), LEAD_CODES)
            for lead in customer["leads"]
        ],
        complaints=[
            _in_words(page, c, cases.get(c["instance_id"]), COMPLAINT_CODES)
            for c in customer["complaints"]
        ],
        people=page.people,
    )
