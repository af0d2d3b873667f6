"""What the designer reads about deployed versions (designers and admins, as the
designer's other pages; everyone else 403):

- the heat map on `/designer/{key}`: its script reads `/designer/{key}/versions/{n}/stats`
  (the figures of `GET /processes/{key}/versions/{n}/stats`, with their words in the
  page's language) and `/designer/{key}/versions/{n}/bpmn` (the version's XML) with the
  session cookie — reads only, so no CSRF token;
- `/designer/{key}/compare?a=&b=`: two versions side by side, their changes marked
  (bpmn-js-differ in the page's script) and listed.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi.responses import HTMLResponse, JSONResponse, Response

from api.web.designer import BUNDLE, DesignerPage, title_of
from api.web.kit import page_router, render
from engine import definitions, texts
from engine.sla.declarations import SEVERITIES
from engine.version_stats import version_stats

router = page_router()


@router.get("/designer/{process_key}/versions/{number}/stats")
def version_figures(process_key: str, number: int, page: DesignerPage) -> JSONResponse:
    """The heat map's figures of one version, each element's with its badge texts."""
    stats = version_stats(page.session, actor=page.actor, key=process_key, version=number)
    elements = []
    for e in stats.elements:
        median = e.median_working_seconds
        share = e.breached_share
        elements.append(
            {
                "element_id": e.element_id,
                "completed": e.completed,
                "open": e.open,
                "median_working_seconds": median,
                "breached": e.breached,
                "breached_share": share,
                "passed_text": page.t("designer_heat_passed", n=e.completed),
                "open_text": page.t("designer_heat_open", n=e.open),
                "median_text": page.t(
                    "designer_heat_median",
                    time=texts.working_duration(timedelta(seconds=median), page.language),
                )
                if median is not None
                else page.t("designer_heat_no_median"),
                "breached_text": page.t(
                    "designer_heat_breached", n=e.breached, share=f"{round(100 * (share or 0))}%"
                ),
            }
        )
    summary = page.t("designer_heat_instances", version=stats.version, **stats.instances)
    return JSONResponse(
        {
            "version": stats.version,
            "instances": stats.instances,
            "summary": summary,
            "elements": elements,
        }
    )


@router.get("/designer/{process_key}/versions/{number}/bpmn")
def version_diagram(process_key: str, number: int, page: DesignerPage) -> Response:
    """One version's BPMN XML as deployed."""
    version = definitions.get_version(page.session, process_key, number)
    return Response(
        definitions.version_content(page.session, version.id), media_type="application/xml"
    )


@router.get("/designer/{process_key}/compare", response_class=HTMLResponse)
def compare_versions(
    process_key: str, page: DesignerPage, a: int | None = None, b: int | None = None
) -> Response:
    """Two versions side by side (by default the newest and the one before it)."""
    newest = definitions.get_version(page.session, process_key)
    new = definitions.get_version(page.session, process_key, b or newest.version)
    old = definitions.get_version(page.session, process_key, a or max(new.version - 1, 1))
    forms_old = definitions.version_forms(page.session, old.id)
    forms_new = definitions.version_forms(page.session, new.id)
    compare = {
        "old": {"version": old.version, "xml": definitions.version_content(page.session, old.id)},
        "new": {"version": new.version, "xml": definitions.version_content(page.session, new.id)},
        # Forms are deployed beside the diagram: the elements whose form differs.
        "forms_changed": sorted(
            element_id
            for element_id in forms_old.keys() | forms_new.keys()
            if forms_old.get(element_id) != forms_new.get(element_id)
        ),
        "severities": {s: page.t(f"designer_severity_{s}") for s in SEVERITIES},
        "texts": {name: texts.template(name, page.language) for name in _COMPARE_TEXTS},
    }
    return render(
        page,
        "designer_compare.html",
        key=process_key,
        title=title_of(page, process_key, newest.name),
        versions=[v.version for v in definitions.list_versions(page.session, process_key)],
        old=old.version,
        new=new.version,
        same=old.version == new.version,
        compare=compare,
        built=BUNDLE.is_file(),
    )


_COMPARE_TEXTS = (
    "designer_compare_none",
    "designer_compare_count",
    "designer_compare_working",
    "designer_compare_failed",
    "designer_change_added",
    "designer_change_removed",
    "designer_change_changed",
    "designer_change_moved",
    "designer_change_values",
    "designer_change_empty",
    "designer_prop_name",
    "designer_prop_script",
    "designer_prop_condition",
    "designer_prop_decision",
    "designer_prop_other",
    "designer_prop_flow",
    "designer_type_userTask",
    "designer_type_sequenceFlow",
    "designer_type_lane",
    "designer_type_other",
    "designer_name_en",
    "designer_sla_hours",
    "designer_sla_hours_for",
    "designer_sla_calendar",
    "designer_sla_calendar_for",
    "designer_escalation",
    "designer_form",
    "designer_due_from_variable",
    "designer_department_property",
    "designer_lane_department",
)
