"""The process designer's pages (designers and admins; everyone else 403):

- `/designer`: every deployed process with its versions (deployed when, by whom) and,
  per version, running/completed instances, open tasks and breaches.
- `/designer/{key}`: the newest version in bpmn-js's Modeler (the bundle built from
  api/static/src/designer.js) with flowdesk's properties panel; the page's script
  posts the diagram to `/designer/{key}/validate` as it changes (the checks of a
  deploy, nothing written) and to `/designer/{key}/deploy`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends
from fastapi.responses import HTMLResponse, JSONResponse, Response

from api.schemas.processes import ValidationResult
from api.web.designer_heatmap import heatmap_data
from api.web.kit import Page, PostedFields, SignedInPage, WriterPage, page_router, render
from engine import access, calendar, definitions, texts
from engine.calendar import CALENDAR_NAMES
from engine.departments import DEPARTMENTS
from engine.errors import BpmnProblem
from engine.process_overview import process_overview
from engine.sla.declarations import SEVERITIES
from engine.sla.ladder import LADDERS

router = page_router()

BUNDLE = Path(__file__).resolve().parents[1] / "static" / "dist" / "designer.js"


def _designer_page(page: SignedInPage) -> Page:
    """A designer's page: designers and admins only (403)."""
    access.require_designer(page.actor)
    return page


def _designer_form(page: WriterPage) -> Page:
    """A designer's post (with the session's CSRF token): designers and admins only."""
    access.require_designer(page.actor)
    return page


DesignerPage = Annotated[Page, Depends(_designer_page)]
DesignerForm = Annotated[Page, Depends(_designer_form)]


def _title(page: Page, key: str, name: str) -> str:
    """Return a process's name in the page's language (the catalogue's, else its own)."""
    catalogued = f"process_{key}"
    return page.t(catalogued) if texts.has_text(catalogued) else name


title_of = _title  # the heading of the designer's other pages (designer_insight.py)


@router.get("/designer", response_class=HTMLResponse)
def designer_home(page: DesignerPage) -> Response:
    tz = calendar.timezone()
    processes = [
        {
            "key": p.key,
            "title": _title(page, p.key, p.newest.name),
            "running": p.total("running"),
            "versions": [
                {
                    "version": v.version,
                    "deployed_at": texts.local_time(v.deployed_at, tz, page.language),
                    "deployed_by": page.people.get(v.deployed_by or "", v.deployed_by or ""),
                    "running": v.count("running"),
                    "completed": v.count("completed"),
                    "cancelled": v.count("cancelled"),
                    "failed": v.count("error"),
                    "open_tasks": v.open_tasks,
                    "breached_open": v.breached_open,
                    "breached": v.breached,
                }
                for v in p.versions
            ],
        }
        for p in process_overview(page.session, actor=page.actor)
    ]
    from api.web.designer_decisions import decision_rows  # the decisions section

    return render(page, "designer.html", processes=processes, decisions=decision_rows(page))


@router.get("/designer/{process_key}", response_class=HTMLResponse)
def designer_process(process_key: str, page: DesignerPage) -> Response:
    version = definitions.get_version(page.session, process_key)
    forms = definitions.version_forms(page.session, version.id)
    modeler = {
        "key": process_key,
        "version": version.version,
        "xml": definitions.version_content(page.session, version.id),
        "validate_url": f"/designer/{process_key}/validate",
        "deploy_url": f"/designer/{process_key}/deploy",
        "csrf": page.csrf,
        "departments": [{"value": c, "label": n} for c, n in page.departments.items()],
        # every name a lane may give a department (its code, zh-CN and English names)
        "department_names": {d.code: [d.name_zh, d.name_en] for d in DEPARTMENTS},
        "calendars": [{"value": c, "label": page.t(f"calendar_name_{c}")} for c in CALENDAR_NAMES],
        "ladders": [
            {"value": name, "label": page.t(f"designer_ladder_{name}")} for name in LADDERS
        ],
        "severities": [{"value": s, "label": page.t(f"designer_severity_{s}")} for s in SEVERITIES],
        "forms": {
            element_id: (form.get("title") or {}).get(page.language, "") or element_id
            for element_id, form in forms.items()
        },
        # unfilled: the script fills in {n}, {version} …
        "texts": {name: texts.template(name, page.language) for name in _SCRIPT_TEXTS},
    }
    return render(
        page,
        "designer_process.html",
        key=process_key,
        title=_title(page, process_key, version.name),
        version=version,
        modeler=modeler,
        heatmap=heatmap_data(page, process_key),
        built=BUNDLE.is_file(),
    )


@router.post("/designer/{process_key}/validate")
def validate_draft(process_key: str, page: DesignerForm, fields: PostedFields) -> JSONResponse:
    """Check the modeler's diagram by the rules of a deploy; nothing is written."""
    problems = _problems(page, process_key, fields)
    return JSONResponse(ValidationResult.from_problems(problems, page.language).model_dump())


@router.post("/designer/{process_key}/deploy")
def deploy_draft(process_key: str, page: DesignerForm, fields: PostedFields) -> JSONResponse:
    """Deploy the modeler's diagram: a new version, or none when it is unchanged; 422
    with the problems (nothing deployed) when a deploy would refuse it."""
    problems = _problems(page, process_key, fields)
    if problems:
        return JSONResponse(
            ValidationResult.from_problems(problems, page.language).model_dump(), 422
        )
    filename = definitions.get_version(page.session, process_key).filename
    results = definitions.deploy_files(
        page.session, files=[(filename, _posted_xml(fields))], actor=page.actor
    )
    # A file that passed the check defines a process ("the file defines no process").
    mine = next((r for r in results if r.key == process_key), results[0])
    message = page.t(
        "designer_deployed" if mine.created else "designer_unchanged", version=mine.version
    )
    return JSONResponse(
        {"key": mine.key, "version": mine.version, "created": mine.created, "message": message},
        201 if mine.created else 200,
    )


def _posted_xml(fields: dict[str, Any]) -> bytes:
    xml = fields.get("xml")
    return xml.encode("utf-8") if isinstance(xml, str) else b""


def _problems(page: Page, key: str, fields: dict[str, Any]) -> list[BpmnProblem]:
    """Return what a deploy of the posted diagram (as the process's file) would refuse."""
    filename = definitions.get_version(page.session, key).filename
    xml = _posted_xml(fields)
    if not xml.strip():
        return [BpmnProblem(None, None, page.t("designer_no_diagram"), filename)]
    return definitions.check_files(page.session, files=[(filename, xml)], actor=page.actor)


# The words the modeler's script shows (sent with the page, in its language).
_SCRIPT_TEXTS = (
    "designer_editing",
    "designer_checking",
    "designer_valid",
    "designer_problems",
    "designer_problem_whole_file",
    "designer_check_failed",
    "designer_deploying",
    "designer_deploy_refused",
    "designer_draft_restored",
    "designer_draft_saved",
    "designer_draft_discarded",
    "designer_group_flowdesk",
    "designer_lane_department",
    "designer_lane_department_none",
    "designer_name_en",
    "designer_sla_hours",
    "designer_sla_hours_for",
    "designer_sla_calendar",
    "designer_sla_calendar_for",
    "designer_calendar_default",
    "designer_escalation",
    "designer_escalation_default",
    "designer_form",
    "designer_form_none",
    "designer_due_from_variable",
    "designer_department_property",
)
