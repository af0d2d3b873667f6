"""The decision tables' editor (designers and admins; everyone else 403):

- `/designer` lists the deployed decision tables with their versions (`decision_rows`,
  shown by designer.html's decisions section).
- `/designer/decisions/{decision_id}`: the newest version in dmn-js's decision table
  editor (the bundle built from api/static/src/dmn.js); the page's script posts the
  table to `/designer/decisions/{decision_id}/validate` as it changes (the checks of a
  deploy, nothing written) and to `/designer/decisions/{decision_id}/deploy`, which
  deploys a new version of the table and of every process calling it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse, JSONResponse, Response

from api.schemas.processes import ValidationResult
from api.web.designer import DesignerForm, DesignerPage, _posted_xml
from api.web.designer import _title as _process_title
from api.web.kit import Page, PostedFields, page_router, render
from engine import calendar, definitions, texts
from engine.decision_tables import decision_table, decision_tables, defined_decisions
from engine.errors import BpmnProblem

router = page_router()

BUNDLE = Path(__file__).resolve().parents[1] / "static" / "dist" / "dmn.js"


def decision_rows(page: Page) -> list[dict[str, Any]]:
    """Return the deployed decision tables as /designer lists them."""
    tz = calendar.timezone()
    return [
        {
            "key": table.key,
            "name": table.name,
            "used_by": [_process_title(page, key, name) for key, name in table.used_by],
            "versions": [
                {
                    "version": v.version,
                    "deployed_at": texts.local_time(v.deployed_at, tz, page.language),
                    "deployed_by": page.people.get(v.deployed_by or "", v.deployed_by or ""),
                }
                for v in table.versions
            ],
        }
        for table in decision_tables(page.session, actor=page.actor)
    ]


@router.get("/designer/decisions/{decision_id}", response_class=HTMLResponse)
def decision_editor(decision_id: str, page: DesignerPage) -> Response:
    table = decision_table(page.session, decision_id, actor=page.actor)
    editor = {
        "key": decision_id,
        "version": table.newest.version,
        "xml": table.content,
        "validate_url": f"/designer/decisions/{decision_id}/validate",
        "deploy_url": f"/designer/decisions/{decision_id}/deploy",
        "csrf": page.csrf,
        # unfilled: the script fills in {n}, {version} …
        "texts": {name: texts.template(name, page.language) for name in _SCRIPT_TEXTS},
    }
    return render(
        page,
        "designer_decision.html",
        table=table,
        used_by=[_process_title(page, key, name) for key, name in table.used_by],
        editor=editor,
        built=BUNDLE.is_file(),
    )


@router.post("/designer/decisions/{decision_id}/validate")
def validate_table(decision_id: str, page: DesignerForm, fields: PostedFields) -> JSONResponse:
    """Check the editor's table by the rules of a deploy; nothing is written."""
    problems = _problems(page, decision_id, fields)
    return JSONResponse(ValidationResult.from_problems(problems, page.language).model_dump())


@router.post("/designer/decisions/{decision_id}/deploy")
def deploy_table(decision_id: str, page: DesignerForm, fields: PostedFields) -> JSONResponse:
    """Deploy the editor's table (and a new version of each process calling it): a new
    version, or none when unchanged; 422 with the problems, nothing deployed."""
    problems = _problems(page, decision_id, fields)
    if problems:
        return JSONResponse(
            ValidationResult.from_problems(problems, page.language).model_dump(), 422
        )
    filename = decision_table(page.session, decision_id, actor=page.actor).filename
    results = definitions.deploy_files(
        page.session, files=[(filename, _posted_xml(fields))], actor=page.actor
    )
    mine = next(r for r in results if r.key == decision_id)
    callers = [
        page.t(
            "decisions_caller_version", name=_process_title(page, r.key, r.name), version=r.version
        )
        for r in results
        if r.key != decision_id and r.created
    ]
    if not mine.created:
        message = page.t("decisions_unchanged", version=mine.version)
    elif callers:
        message = page.t(
            "decisions_deployed_callers", version=mine.version, callers="、".join(callers)
        )
    else:
        message = page.t("decisions_deployed", version=mine.version)
    return JSONResponse(
        {
            "key": mine.key,
            "version": mine.version,
            "created": mine.created,
            "message": message,
            "processes": [
                {"key": r.key, "version": r.version, "created": r.created}
                for r in results
                if r.key != decision_id
            ],
        },
        201 if mine.created else 200,
    )


def _problems(page: Page, decision_id: str, fields: dict[str, Any]) -> list[BpmnProblem]:
    """Return what a deploy of the posted table (as the decision's file) would refuse."""
    filename = decision_table(page.session, decision_id, actor=page.actor).filename
    xml = _posted_xml(fields)
    if not xml.strip():
        return [BpmnProblem(None, None, file=filename, key="decisions_no_table")]
    problems = definitions.check_files(page.session, files=[(filename, xml)], actor=page.actor)
    if not problems and defined_decisions(xml) != [decision_id]:
        # The page edits this decision: another id would deploy another decision.
        problems = [
            BpmnProblem(
                None,
                None,
                file=filename,
                key="decisions_wrong_decision",
                params={"decision": decision_id},
            )
        ]
    return problems


# The words the editor's script shows (sent with the page, in its language).
_SCRIPT_TEXTS = (
    "decisions_editing",
    "designer_checking",
    "designer_valid",
    "designer_problems",
    "designer_problem_whole_file",
    "designer_check_failed",
    "designer_deploying",
    "designer_deploy_refused",
    "designer_draft_restored",
    "designer_draft_discarded",
)
