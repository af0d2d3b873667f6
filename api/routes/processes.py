"""Process definitions: list, deploy, versions, BPMN source."""

from __future__ import annotations

from fastapi import APIRouter, Response, UploadFile

from api.deps import CurrentActor
from api.schemas.errors import DeployErrorResponse, error_responses
from api.schemas.forms import FormRead
from api.schemas.processes import (
    DeployedProcess,
    DeployResult,
    ProcessSummary,
    ProcessVersionRead,
    StartForm,
    ValidationResult,
    VersionStatsRead,
)
from engine import definitions
from engine.config import get_settings
from engine.db import unit_of_work
from engine.errors import BpmnProblem, InvalidBpmn
from engine.version_stats import version_stats

router = APIRouter(tags=["processes"], responses=error_responses(401))


@router.get("/processes")
def list_processes(actor: CurrentActor) -> list[ProcessSummary]:
    """Return the newest version of each deployed process."""
    with unit_of_work(write=False) as session:
        return [
            ProcessSummary(key=d.key, name=v.name, version=v.version, deployed_at=v.deployed_at)
            for d, v in definitions.latest_versions(session, kind="bpmn")
        ]


# `key` and `version` are absent when the file held no process: exclude_unset keeps them out.
@router.post(
    "/processes",
    status_code=201,
    responses={
        200: {"model": DeployResult, "description": "nothing changed: no new version"},
        **error_responses(403, 422, invalid=DeployErrorResponse),
    },
    response_model_exclude_unset=True,
)
async def deploy_process(
    file: UploadFile,
    actor: CurrentActor,
    response: Response,
    forms: UploadFile | None = None,
) -> DeployResult:
    """Deploy an uploaded .bpmn or .dmn file with its forms (the optional `forms` field,
    else the forms/ folder's file for each process); 422 lists every problem."""
    filename, content, uploaded = await _read_upload(file, forms)
    with unit_of_work() as session:
        results = definitions.deploy_files(
            session, files=[(filename, content)], actor=actor, uploaded_forms=uploaded
        )
    if not any(r.created for r in results):
        response.status_code = 200
    processes = [DeployedProcess.from_result(r) for r in results]
    if not results:
        return DeployResult(processes=processes)
    return DeployResult(processes=processes, key=results[0].key, version=results[0].version)


@router.post("/processes/validate", responses=error_responses(403, 422))
async def validate_process(
    file: UploadFile, actor: CurrentActor, forms: UploadFile | None = None
) -> ValidationResult:
    """Check an uploaded .bpmn or .dmn file (and its optional `forms`) by the rules of a
    deploy, without deploying: `ok` and every problem, located on its element; designers
    and admins."""
    filename, content, uploaded = await _read_upload(file, forms)
    with unit_of_work(write=False) as session:
        problems = definitions.check_files(
            session, files=[(filename, content)], actor=actor, uploaded_forms=uploaded
        )
    return ValidationResult.from_problems(problems)


async def _read_upload(
    file: UploadFile, forms: UploadFile | None
) -> tuple[str, bytes, list[definitions.FormsFile]]:
    """Return an upload's file name and bytes, and its forms file when one came along."""
    limit = get_settings().max_bpmn_bytes
    filename = file.filename or "upload.bpmn"
    content = await _read_limited(file, filename, limit)
    uploaded = []
    if forms is not None:
        forms_name = forms.filename or "forms.json"
        uploaded.append(
            definitions.FormsFile(forms_name, await _read_limited(forms, forms_name, limit))
        )
    return filename, content, uploaded


async def _read_limited(upload: UploadFile, filename: str, limit: int) -> bytes:
    """Return an uploaded file's bytes; InvalidBpmn when it is larger than `limit`."""
    content = await upload.read(limit + 1)
    if len(content) > limit:
        raise InvalidBpmn(
            [BpmnProblem(None, None, f"the file is larger than {limit} bytes", filename)]
        )
    return content


# The form is a designer's definition: its fields carry only the rules they have.
@router.get(
    "/processes/{key}/form", responses=error_responses(404, 422), response_model_exclude_unset=True
)
def start_form(key: str, actor: CurrentActor) -> StartForm:
    """Return the start form of the newest version of a process (null when it has none)."""
    with unit_of_work(write=False) as session:
        version = definitions.get_version(session, key)
        form = definitions.version_form(
            session, version.id, definitions.start_event_id(session, version)
        )
        return StartForm(
            key=key,
            version=version.version,
            form=FormRead.model_validate(form) if form is not None else None,
        )


@router.get("/processes/{key}/versions", responses=error_responses(404, 422))
def list_versions(key: str, actor: CurrentActor) -> list[ProcessVersionRead]:
    """Return every version of a process, oldest first."""
    with unit_of_work(write=False) as session:
        return [
            ProcessVersionRead.from_version(key, v) for v in definitions.list_versions(session, key)
        ]


@router.get(
    "/processes/{key}/versions/{number}/bpmn",
    response_class=Response,
    responses={
        200: {
            "content": {"application/xml": {"schema": {"type": "string"}}},
            "description": "the BPMN XML as deployed",
        },
        **error_responses(404, 422),
    },
)
def version_source(key: str, number: int, actor: CurrentActor) -> Response:
    """Return the BPMN XML of one version."""
    with unit_of_work(write=False) as session:
        version = definitions.get_version(session, key, number)
        return Response(version.content, media_type="application/xml")


@router.get("/processes/{key}/versions/{number}/stats", responses=error_responses(403, 404, 422))
def version_figures(key: str, number: int, actor: CurrentActor) -> VersionStatsRead:
    """Return a version's heat map figures: its instances by status and, per user task,
    completed, open now, median working seconds and breached (designers, supervisors,
    executives, auditors, admins)."""
    with unit_of_work(write=False) as session:
        return VersionStatsRead.from_stats(
            version_stats(session, actor=actor, key=key, version=number)
        )
