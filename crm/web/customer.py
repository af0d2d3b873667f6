"""A customer's page (the real-estate vertical): their leads, complaints and units."""

from __future__ import annotations

from fastapi.responses import HTMLResponse, Response

from api.web.kit import SignedInPage, page_router, render
from crm.customers import read_customer

router = page_router()


@router.get("/customers/{customer_id}", response_class=HTMLResponse)
def customer_page(page: SignedInPage, customer_id: int) -> Response:
    customer = read_customer(page.session, actor=page.actor, customer_id=customer_id)
    return render(page, "customer.html", customer=customer, people=page.people)
