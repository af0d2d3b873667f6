"""The vertical's JSON routes: customer records and the sales funnel (under /api/v1)."""

from __future__ import annotations

from fastapi import APIRouter, Query

from api.deps import CurrentActor
from api.schemas.errors import error_responses
from crm import customers
from crm.funnel import funnel_report
from crm.schemas import CustomerDetail, CustomerPage, CustomerSummary, FunnelReport
from engine import queries
from engine.bounds import QUERY_INT_MAX
from engine.db import unit_of_work

router = APIRouter(tags=["customers"], responses=error_responses(401))


@router.get("/customers", responses=error_responses(403, 422))
def search_customers(
    actor: CurrentActor,
    q: str | None = None,
    project: str | None = None,
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0, le=QUERY_INT_MAX),
) -> CustomerPage:
    """Find customers by name or phone fragment and/or project."""
    filters = customers.CustomerFilters(q=q, project=project, limit=limit, offset=offset)
    with unit_of_work(write=False) as session:
        items, total = customers.customer_page(
            session, actor=actor, filters=filters, count_limit=queries.COUNT_LIMIT
        )
        return CustomerPage(
            items=[CustomerSummary.model_validate(item) for item in items],
            total=total.n,
            total_exact=total.exact,
        )


@router.get("/customers/{customer_id}", responses=error_responses(403, 404, 422))
def read_customer(customer_id: int, actor: CurrentActor) -> CustomerDetail:
    """Return one customer with their leads, complaints and units."""
    with unit_of_work(write=False) as session:
        return CustomerDetail.model_validate(
            customers.read_customer(session, actor=actor, customer_id=customer_id)
        )


@router.get("/reports/funnel", responses=error_responses(403, 422))
def funnel(
    actor: CurrentActor, project: str | None = None, consultant: str | None = None
) -> FunnelReport:
    """Return leads per stage, conversion between stages and lost reasons."""
    with unit_of_work(write=False) as session:
        return FunnelReport.model_validate(
            funnel_report(session, actor=actor, project=project, consultant=consultant)
        )
