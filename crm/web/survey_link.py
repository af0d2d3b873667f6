"""The case page's survey panel (`_case_survey.html`): customer service makes the
customer's one-time survey link on a closed complaint or at its return visit, and
shows it once, as a link and a QR code (SVG drawn on the server by segno) that the
engineer can show on site."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import segno
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from api.web.kit import Page, WriterPage, case_number, page_router, render, templates
from crm import surveys
from crm.satisfaction import RETURN_VISIT
from crm.survey_routes import survey_url
from engine import calendar, clock, queries, texts
from engine.models import Instance

router = page_router()


def _when(page: Page, value: datetime) -> str:
    return texts.local_time(value, calendar.timezone(), page.language)


def case_survey_panel(page: Page, instance: Instance) -> dict[str, Any] | None:
    """Return what the case page's survey panel shows (None: not a complaint): the links
    made so far with their state, and whether this user may make one now — on a closed
    complaint, or while its return visit is open."""
    if instance.process_key != surveys.COMPLAINT_PROCESS:
        return None
    at_return_visit = any(
        t.state == "open" and t.element_id == RETURN_VISIT
        for t in queries.instance_tasks(page.session, instance.id)
    )
    now = clock.now()
    rows = []
    for link in surveys.case_survey_links(page.session, instance.id):
        expires = _when(page, link.expires_at)
        if link.score is not None:
            state = page.t(
                "survey_link_answered",
                score=link.score,
                label=page.t(f"survey_score_{link.score}"),
            )
        elif clock.to_utc(link.expires_at) <= now:
            state = page.t("survey_link_expired_row", expires=expires)
        else:
            state = page.t("survey_link_pending", expires=expires)
        made = page.t(
            "survey_link_row",
            at=_when(page, link.created_at),
            who=page.people.get(link.created_by, link.created_by),
        )
        rows.append({"made": made, "state": state, "comment": link.comment or ""})
    return {
        "links": rows,
        "can_make": surveys.can_make_links(page.actor)
        and (instance.status == "completed" or at_return_visit),
    }


templates.env.globals["case_survey_panel"] = case_survey_panel


def qr_svg(url: str) -> Markup:
    """Return the QR code of `url` as inline SVG (no style attributes: the pages' CSP)."""
    out = io.BytesIO()
    segno.make(url, error="m").save(
        out, kind="svg", scale=6, border=2, xmldecl=False, svgns=True, nl=False
    )
    return Markup(out.getvalue().decode("utf-8"))  # noqa: S704 - segno's own markup


@router.post("/cases/{instance_id}/survey", response_class=HTMLResponse)
def make_survey_link(page: WriterPage, instance_id: str) -> Response:
    link = surveys.create_survey_link(page.session, actor=page.actor, instance_id=instance_id)
    instance = page.session.get(Instance, instance_id)
    assert instance is not None
    url = survey_url(page.request, link)
    return render(
        page,
        "survey_link.html",
        instance=instance,
        number=case_number(page, instance.business_key, instance.id),
        url=url,
        qr=qr_svg(url),
        expires=_when(page, link.expires_at),
    )
