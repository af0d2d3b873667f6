"""Process definitions: list, deploy, versions, BPMN source."""

from __future__ import annotations

from fastapi import APIRouter, Response, UploadFile
from fastapi.responses import JSONResponse

from api.deps import CurrentActor
from api.schemas import iso, version_read
from engine import definitions
from engine.config import get_settings
from engine.db import unit_of_work
from engine.errors import BpmnProblem, InvalidBpmn

router = APIRouter(tags=["processes"])


@router.get("/processes")
def list_processes(actor: CurrentActor) -> list[dict]:
    """Return the newest version of each deployed process."""
    with unit_of_work(write=False) as session:
        return [
            {"key": d.key, "name": v.name, "version": v.version, "deployed_at": iso(v.deployed_at)}
            for d, v in definitions.latest_versions(session, kind="bpmn")
        ]


@router.post("/processes", status_code=201)
async def deploy_process(
    file: UploadFile, actor: CurrentActor, forms: UploadFile | None = None
) -> Response:
    """Deploy an uploaded .bpmn or .dmn file with its forms (the optional `forms` field,
    else the forms/ folder's file for each process); 422 lists every problem."""
    limit = get_settings().max_bpmn_bytes
    filename = file.filename or "upload.bpmn"
    content = await _read_limited(file, filename, limit)
    uploaded = []
    if forms is not None:
        forms_name = forms.filename or "forms.json"
        uploaded.append(
            definitions.FormsFile(forms_name, await _read_limited(forms, forms_name, limit))
        )
    with unit_of_work() as session:
        results = definitions.deploy_files(
            session, files=[(filename, content)], actor=actor, uploaded_forms=uploaded
        )
    created = any(r.created for r in results)
    body = {
        "processes": [
            {
                "key": r.key,
                "name": r.name,
                "version": r.version,
                "created": r.created,
                "deployed_at": iso(r.deployed_at),
            }
            for r in results
        ],
    }
    if results:
        body["key"] = results[0].key  # type: ignore[assignment]  # CONTRACT: key and version
        body["version"] = results[0].version  # type: ignore[assignment]
    return JSONResponse(body, status_code=201 if created else 200)


async def _read_limited(upload: UploadFile, filename: str, limit: int) -> bytes:
    """Return an uploaded file's bytes; InvalidBpmn when it is larger than `limit`."""
    content = await upload.read(limit + 1)
    if len(content) > limit:
        raise InvalidBpmn(
            [BpmnProblem(None, None, f"the file is larger than {limit} bytes", filename)]
        )
    return content


@router.get("/processes/{key}/form")
def start_form(key: str, actor: CurrentActor) -> dict:
    """Return the start form of the newest version of a process (null when it has none)."""
    with unit_of_work(write=False) as session:
        version = definitions.get_version(session, key)
        return {
            "key": key,
            "version": version.version,
            "form": definitions.version_form(
                session, version.id, definitions.start_event_id(session, version)
            ),
        }


@router.get("/processes/{key}/versions")
def list_versions(key: str, actor: CurrentActor) -> list[dict]:
    """Return every version of a process, oldest first."""
    with unit_of_work(write=False) as session:
        return [version_read(key, v) for v in definitions.list_versions(session, key)]


@router.get("/processes/{key}/versions/{number}/bpmn")
def version_source(key: str, number: int, actor: CurrentActor) -> Response:
    """Return the BPMN XML of one version."""
    with unit_of_work(write=False) as session:
        version = definitions.get_version(session, key, number)
        return Response(version.content, media_type="application/xml")
