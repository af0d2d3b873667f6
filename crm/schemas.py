"""The vertical's API shapes: customer records (fed by the complaint and lead processes)
and the sales funnel."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.schemas.common import Instant


class CustomerSummary(BaseModel):
    """A customer in a search result."""

    id: int
    name: str
    phone: str = Field(description="masked (138****5678) unless the caller works their case")
    is_owner: bool


class CustomerPage(BaseModel):
    """Customers matching a search, by name."""

    items: list[CustomerSummary]
    total: int = Field(
        description="customers matching, over every page (counted up to 1 000 or past "
        "this page: with `total_exact` false, more than `total` match)"
    )
    total_exact: bool = Field(
        default=True, description="false: the count stopped, more than `total` customers match"
    )


class StageChange(BaseModel):
    """A lead entering a stage."""

    stage: str
    at: Instant
    by: str


class LeadRead(BaseModel):
    """One lead of a customer on one project."""

    id: int
    instance_id: str
    project: str
    source: str | None
    stage: str
    consultant: str | None = Field(description="the consultant's username")
    lost_reason: str | None
    outcome: str = Field(description="open, won, lost or cancelled")
    created_at: Instant
    closed_at: Instant | None
    stage_history: list[StageChange]


class ComplaintRead(BaseModel):
    """One complaint of a customer."""

    id: int
    instance_id: str
    project: str | None
    unit: str | None
    category: str
    severity: str
    status: str = Field(description="open, closed or cancelled")
    satisfaction: int | None
    reopen_count: int
    responsible_department: str | None
    created_at: Instant
    closed_at: Instant | None


class UnitRead(BaseModel):
    """A unit the customer owns."""

    project: str
    unit: str | None
    contract_no: str
    since: Instant


class CustomerDetail(BaseModel):
    """One customer with every lead, complaint and unit linked to them."""

    id: int
    name: str
    phone: str = Field(description="masked (138****5678) unless the caller works their case")
    is_owner: bool
    created_at: Instant
    leads: list[LeadRead]
    complaints: list[ComplaintRead]
    units: list[UnitRead]


class FunnelFilters(BaseModel):
    """The filters the funnel was computed with."""

    project: str | None
    consultant: str | None


class FunnelStep(BaseModel):
    """Conversion from one funnel stage to the next."""

    from_: str = Field(alias="from")
    to: str
    reached_from: int = Field(description="leads that ever reached `from`")
    reached_to: int = Field(description="leads that ever reached `to`")
    rate: float | None = Field(description="reached_to / reached_from; null when none reached")


class FunnelReport(BaseModel):
    """Leads per current stage, conversion between stages and lost reasons."""

    filters: FunnelFilters
    total: int = Field(description="leads counted (cancelled ones are not)")
    stages: dict[str, int] = Field(description="leads per current stage, lost included")
    reached: dict[str, int] = Field(description="leads that ever reached each funnel stage")
    conversion: list[FunnelStep]
    lost_reasons: dict[str, int]


class SurveyLinkCreated(BaseModel):
    """A one-time link for the customer's own satisfaction answer (shown only now)."""

    url: str = Field(description="the page the customer opens without signing in")
    expires_at: Instant


class SatisfactionRow(BaseModel):
    """Satisfaction of one project, responsible department or category."""

    key: str | None = Field(description="project name, department code or category code")
    returned: int = Field(description="return visits done (a reopened complaint may have two)")
    average: float | None = Field(description="mean score of those visits (1–5)")
    low: int = Field(description="visits scored 1–2")
    reopened: int = Field(description="complaints reopened at least once")
    customer_answered: int = Field(description="the customers' own survey answers")
    customer_average: float | None = Field(description="mean score of those answers")


class SatisfactionReport(BaseModel):
    """Per group, over the complaints registered in [since, until)."""

    group_by: str
    since: Instant | None
    until: Instant | None
    items: list[SatisfactionRow]
