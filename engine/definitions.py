"""Deploying process definitions with their forms, and reading their versions.

A process deploys as one unit with its forms: the forms file of its key beside its BPMN
file (`<process_key>.json`) when there is one, else the forms/ package folder's file for
that key (an upload may bring its own). The content hash covers both, so changing only
a form deploys a new version; every read of a form goes through the version.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import access, clock
from engine.audit import PendingEvent, append_events
from engine.bounds import row_id_exists
from engine.bpmn.serializer import dump_specs, load_specs
from engine.bpmn.validation import ParsedFile, parse_and_validate
from engine.config import get_settings
from engine.errors import BpmnProblem, InvalidBpmn, NotFound
from engine.identity import Actor
from engine.models import ProcessDefinition, ProcessVersion
from forms.display import variable_specs, variables_section
from forms.registry import (
    defined_process,
    definition_problems,
    forms_by_element,
    package_forms_file,
)


@dataclass(frozen=True)
class DeployedVersion:
    key: str
    version: int
    name: str
    deployed_at: datetime
    created: bool  # False when the content was unchanged and no version was added


@dataclass(frozen=True)
class FormsFile:
    """A forms definition as a deployment reads it: its name (for problems) and bytes."""

    filename: str
    content: bytes


def content_hash(content: bytes, forms: bytes | None = None) -> str:
    """Return the hash that decides whether a process (its file and its forms) changed
    since its last deployment; without forms it is the file's plain SHA-256."""
    digest = hashlib.sha256(content)
    if forms is not None:
        # NUL never occurs in XML, so the file and the forms cannot run into each other.
        digest.update(b"\0forms\0")
        digest.update(forms)
    return digest.hexdigest()


def find_forms(
    process_key: str, *, beside: Path | None, uploaded: Sequence[FormsFile] = ()
) -> FormsFile | None:
    """Return the forms a process deploys with: an uploaded file naming it, else
    `<process_key>.json` in the folder of its BPMN file, else the forms/ folder's file."""
    for forms in uploaded:
        if defined_process(forms.content) == process_key:
            return forms
    path = beside / f"{process_key}.json" if beside is not None else None
    if path is None or not path.is_file():
        path = package_forms_file(process_key)
    return FormsFile(str(path), path.read_bytes()) if path is not None else None


def latest_versions(
    session: Session, kind: str | None = None
) -> list[tuple[ProcessDefinition, ProcessVersion]]:
    """Return each definition with its newest version, ordered by key."""
    newest = (
        select(ProcessVersion.definition_id, func.max(ProcessVersion.version).label("v"))
        .group_by(ProcessVersion.definition_id)
        .subquery()
    )
    stmt = (
        select(ProcessDefinition, ProcessVersion)
        .join(ProcessVersion, ProcessVersion.definition_id == ProcessDefinition.id)
        .join(
            newest,
            (newest.c.definition_id == ProcessVersion.definition_id)
            & (newest.c.v == ProcessVersion.version),
        )
        .order_by(ProcessDefinition.key)
    )
    if kind:
        stmt = stmt.where(ProcessDefinition.kind == kind)
    return [(d, v) for d, v in session.execute(stmt).all()]


def _library(session: Session, exclude: set[str]) -> list[tuple[str, bytes]]:
    """Return the newest deployed files other processes of a deployment may call."""
    seen: set[str] = set()
    files = []
    for definition, version in latest_versions(session):
        # The processes of one file share its content (their hashes differ by their forms).
        if definition.key in exclude or version.content in seen:
            continue
        seen.add(version.content)
        files.append((version.filename, version.content.encode("utf-8")))
    return files


def validate_files(
    session: Session | None, files: list[tuple[str, bytes]]
) -> tuple[list[ParsedFile], list]:
    """Validate BPMN/DMN files against what is deployed; raise InvalidBpmn with every problem."""
    library = _library(session, set()) if session is not None else []
    return parse_and_validate(files, library=library, max_bytes=get_settings().max_bpmn_bytes)


def deploy_files(
    session: Session,
    *,
    files: list[tuple[str, bytes]],
    actor: Actor,
    forms_folders: Mapping[str, Path] | None = None,
    uploaded_forms: Sequence[FormsFile] = (),
) -> list[DeployedVersion]:
    """Validate and deploy files with their processes' forms (`find_forms`; a file's
    folder from `forms_folders` by filename); a new version only for what changed."""
    access.require_designer(actor)
    parsed_files, processes, uploaded_forms = _validate_with_callers(session, files, uploaded_forms)
    forms_of = _forms_of(parsed_files, forms_folders or {}, uploaded_forms)
    now = clock.now()
    results: list[DeployedVersion] = []
    events: list[PendingEvent] = []
    by_key = {p.key: p for p in processes}
    for parsed in parsed_files:
        text = parsed.content.decode("utf-8")
        keys = parsed.process_keys if parsed.kind == "bpmn" else parsed.decision_ids
        for key in keys:
            process = by_key.get(key)
            name = process.name if process else key
            specs = dump_specs(process.spec, process.subprocess_specs) if process else None
            forms = forms_of.get(key)
            digest = content_hash(parsed.content, forms.content if forms else None)
            result, created = _add_version(
                session,
                key=key,
                kind=parsed.kind,
                name=name,
                filename=parsed.filename,
                content=text,
                digest=digest,
                specs_json=specs,
                forms_json=forms.content.decode("utf-8") if forms else None,
                actor=actor,
                now=now,
            )
            results.append(result)
            if created:
                events.append(
                    PendingEvent(
                        type="definition_deployed",
                        actor=actor.username,
                        element_id=key,
                        process_key=key,
                        data={
                            "key": key,
                            "version": result.version,
                            "kind": parsed.kind,
                            "filename": parsed.filename,
                            "content_hash": digest,
                        },
                        at=now,
                    )
                )
    session.flush()
    append_events(session, events)
    return results


def _validate_with_callers(
    session: Session, files: list[tuple[str, bytes]], uploaded_forms: Sequence[FormsFile]
) -> tuple[list[ParsedFile], list, list[FormsFile]]:
    """Validate files with the deployed processes that call a decision of their DMN files.

    A process's specs hold the decision tables it calls as they were at its deploy, so a
    new table reaches new cases only through a new version of each calling process: the
    deploy rebuilds them (their newest file and forms) with the new table, by the same
    checks, and `_add_version` adds a version for each whose specs changed."""
    parsed_files, processes = validate_files(session, files)
    decisions = {d for parsed in parsed_files if parsed.kind == "dmn" for d in parsed.decision_ids}
    callers = _callers(session, decisions, exclude={name for name, _ in files})
    if not callers:
        return parsed_files, processes, list(uploaded_forms)
    caller_files = [(v.filename, v.content.encode("utf-8")) for v in callers]
    stored_forms = [
        FormsFile(v.filename, v.forms_json.encode("utf-8")) for v in callers if v.forms_json
    ]
    parsed_files, processes = validate_files(session, files + caller_files)
    return parsed_files, processes, [*uploaded_forms, *stored_forms]


def _callers(session: Session, decisions: set[str], exclude: set[str]) -> list[ProcessVersion]:
    """Return the newest versions of the deployed processes calling one of `decisions`
    (one per file), but for those whose file is among `exclude`."""
    if not decisions:
        return []
    calls = re.compile(
        r"calledDecisionId>\s*(?:" + "|".join(re.escape(d) for d in sorted(decisions)) + r")\s*<"
    )
    seen: set[str] = set()
    found = []
    for _, version in latest_versions(session, kind="bpmn"):
        if version.filename in exclude or version.content in seen:
            continue
        seen.add(version.content)
        if calls.search(version.content):
            found.append(version)
    return found


def _forms_of(
    parsed_files: list[ParsedFile],
    forms_folders: Mapping[str, Path],
    uploaded: Sequence[FormsFile],
) -> dict[str, FormsFile]:
    """Return the forms of each process of a deployment; InvalidBpmn for a bad forms file."""
    found: dict[str, FormsFile] = {}
    problems: list[BpmnProblem] = []
    for parsed in parsed_files:
        if parsed.kind != "bpmn":
            continue
        for key in parsed.process_keys:
            forms = find_forms(key, beside=forms_folders.get(parsed.filename), uploaded=uploaded)
            if forms is None:
                continue
            found[key] = forms
            problems += [
                BpmnProblem(None, None, problem, forms.filename)
                for problem in definition_problems(forms.content, process_key=key)
            ]
    for forms in uploaded:
        if forms not in found.values():
            named = defined_process(forms.content)
            problems.append(
                BpmnProblem(
                    None,
                    None,
                    f"names process {named!r}, which this deployment does not define"
                    if named
                    else 'not a forms file: a JSON object with "process" and "forms"',
                    forms.filename,
                )
            )
    if problems:
        raise InvalidBpmn(problems)
    return found


def _add_version(
    session: Session,
    *,
    key: str,
    kind: str,
    name: str,
    filename: str,
    content: str,
    digest: str,
    specs_json: str | None,
    forms_json: str | None,
    actor: Actor,
    now: datetime,
) -> tuple[DeployedVersion, bool]:
    definition = session.execute(
        select(ProcessDefinition).where(ProcessDefinition.key == key).with_for_update()
    ).scalar_one_or_none()
    if definition is None:
        definition = ProcessDefinition(key=key, kind=kind, created_at=now)
        session.add(definition)
        session.flush()
    newest = session.execute(
        select(ProcessVersion)
        .where(ProcessVersion.definition_id == definition.id)
        .order_by(ProcessVersion.version.desc())
        .limit(1)
    ).scalar_one_or_none()
    # Same file and forms, and (a process) same specs: a decision or process it calls
    # may have changed since, and its specs hold them (rows from before specs were kept
    # compare by the file and forms alone).
    if (
        newest is not None
        and newest.content_hash == digest
        and (
            specs_json is None
            or newest.specs_json is None
            or _same_specs(newest.specs_json, specs_json)
        )
    ):
        return DeployedVersion(key, newest.version, newest.name, newest.deployed_at, False), False
    version = ProcessVersion(
        definition_id=definition.id,
        version=(newest.version + 1) if newest else 1,
        name=name,
        filename=filename,
        content=content,
        content_hash=digest,
        specs_json=specs_json,
        forms_json=forms_json,
        deployed_at=now,
        deployed_by=actor.username,
    )
    session.add(version)
    session.flush()
    return DeployedVersion(key, version.version, name, now, True), True


def _same_specs(stored: str, built: str) -> bool:
    """Tell whether two serialized specs are the same but for the names of the files
    they were read from (the same file uploaded under another name is unchanged)."""
    return stored == built or _without_files(json.loads(stored)) == _without_files(
        json.loads(built)
    )


def _without_files(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_files(v) for k, v in value.items() if k != "file"}
    if isinstance(value, list):
        return [_without_files(v) for v in value]
    return value


def deploy_folder(session: Session, *, folder: Path, actor: Actor) -> list[DeployedVersion]:
    """Deploy every .bpmn/.dmn file of a folder whose content or forms changed (DMN first),
    but none that a later deploy replaced (`_superseded`)."""
    paths = sorted(folder.glob("*.dmn")) + sorted(folder.glob("*.bpmn"))
    kept: list[Path] = []
    results: list[DeployedVersion] = []
    for path in paths:
        newest = _superseded(session, path, folder)
        if newest:
            results += newest
        else:
            kept.append(path)
    if not kept:
        return results
    return results + deploy_files(
        session,
        files=[(p.name, p.read_bytes()) for p in kept],
        actor=actor,
        forms_folders={p.name: folder for p in kept},
    )


def _superseded(session: Session, path: Path, folder: Path) -> list[DeployedVersion]:
    """Return the newest versions of the processes or decisions of a folder's file when
    that file was deployed before and a later version replaced it (a table or diagram
    deployed from the browser, say), else []: deploying it again at start-up would undo
    that deploy. (`flowdesk deploy FILE` deploys it all the same.)"""
    content = path.read_bytes()
    from_this_file = select(ProcessVersion.definition_id).where(
        ProcessVersion.filename == path.name
    )
    rows = session.execute(
        select(ProcessDefinition, ProcessVersion)
        .join(ProcessVersion, ProcessVersion.definition_id == ProcessDefinition.id)
        .where(ProcessDefinition.id.in_(from_this_file))
        .order_by(ProcessDefinition.key, ProcessVersion.version)
    ).all()
    versions: dict[str, list[ProcessVersion]] = {}
    for definition, version in rows:
        versions.setdefault(definition.key, []).append(version)
    newest: list[DeployedVersion] = []
    for key, deployed in versions.items():
        forms = find_forms(key, beside=folder) if path.suffix == ".bpmn" else None
        digest = content_hash(content, forms.content if forms else None)
        last = deployed[-1]
        if last.content_hash == digest or digest not in {v.content_hash for v in deployed}:
            return []
        newest.append(DeployedVersion(key, last.version, last.name, last.deployed_at, False))
    return newest


def list_versions(session: Session, key: str) -> list[ProcessVersion]:
    """Return every version of a process, oldest first; NotFound for an unknown key."""
    rows = (
        session.execute(
            select(ProcessVersion)
            .join(ProcessDefinition, ProcessDefinition.id == ProcessVersion.definition_id)
            .where(ProcessDefinition.key == key)
            .order_by(ProcessVersion.version)
        )
        .scalars()
        .all()
    )
    if not rows:
        raise NotFound(f"process '{key}' is not deployed")
    return list(rows)


def get_version(session: Session, key: str, version: int | None = None) -> ProcessVersion:
    """Return one version of a process (the newest when `version` is None)."""
    stmt = (
        select(ProcessVersion)
        .join(ProcessDefinition, ProcessDefinition.id == ProcessVersion.definition_id)
        .where(ProcessDefinition.key == key, ProcessDefinition.kind == "bpmn")
    )
    if version is None:
        stmt = stmt.order_by(ProcessVersion.version.desc()).limit(1)
    elif not row_id_exists(version):  # no such version can be stored
        raise NotFound(key="error_version_not_deployed", process=key, version=version)
    else:
        stmt = stmt.where(ProcessVersion.version == version)
    row = session.execute(stmt).scalar_one_or_none()
    if row is None:
        if version is None:
            raise NotFound(key="error_process_not_deployed", process=key)
        raise NotFound(key="error_version_not_deployed", process=key, version=version)
    return row


def start_event_id(session: Session, version: ProcessVersion) -> str:
    """Return the element id of a version's start event."""
    spec, _ = SPEC_CACHE.get(session, version.id)
    for task_spec in spec.task_specs.values():
        if type(task_spec).__name__ == "StartEvent":
            return str(task_spec.bpmn_id)
    return "start"


def element_labels(session: Session, version_id: int) -> dict[str, dict[str, str]]:
    """Return each element's name in zh-CN (the BPMN name) and English (`name_en`)."""
    key = (str(session.get_bind().engine.url), version_id)
    cached = SPEC_CACHE.labels.get(key)
    if cached is not None:
        return cached
    spec, subprocess_specs = SPEC_CACHE.get(session, version_id)
    labels: dict[str, dict[str, str]] = {}
    for process in (spec, *subprocess_specs.values()):
        for task_spec in process.task_specs.values():
            element_id = getattr(task_spec, "bpmn_id", None)
            if not element_id:
                continue
            name = getattr(task_spec, "bpmn_name", None) or element_id
            properties = (getattr(task_spec, "extensions", None) or {}).get("properties", {})
            labels[element_id] = {"zh-CN": name, "en": properties.get("name_en") or name}
    SPEC_CACHE.labels[key] = labels
    return labels


def version_forms(session: Session, version_id: int) -> dict[str, dict[str, Any]]:
    """Return the forms a version was deployed with, by element id (empty: it has none)."""
    key = (str(session.get_bind().engine.url), version_id)
    cached = SPEC_CACHE.forms.get(key)
    if cached is not None:
        return cached
    forms_json = session.execute(
        select(ProcessVersion.forms_json).where(ProcessVersion.id == version_id)
    ).scalar_one_or_none()
    forms = forms_by_element(forms_json) if forms_json else {}
    SPEC_CACHE.forms[key] = forms
    return forms


def version_variables(session: Session, version_id: int) -> dict[str, dict[str, Any]]:
    """Return what every known variable of a version is (forms/display.py): its forms'
    fields with the forms file's `variables` catalogue ({} when it has no forms)."""
    key = (str(session.get_bind().engine.url), version_id)
    cached = SPEC_CACHE.variables.get(key)
    if cached is not None:
        return cached
    forms_json = session.execute(
        select(ProcessVersion.forms_json).where(ProcessVersion.id == version_id)
    ).scalar_one_or_none()
    specs = variable_specs(version_forms(session, version_id), variables_section(forms_json))
    SPEC_CACHE.variables[key] = specs
    return specs


def version_form(session: Session, version_id: int, element_id: str) -> dict[str, Any] | None:
    """Return the form of a start event or user task in a version, or None when it has none."""
    return version_forms(session, version_id).get(element_id)


def user_task_labels(session: Session, version_id: int) -> dict[str, dict[str, str]]:
    """Return the names (zh-CN, English) of a version's user and manual tasks by element id."""
    spec, subprocess_specs = SPEC_CACHE.get(session, version_id)
    user_tasks = {
        str(task_spec.bpmn_id)
        for process in (spec, *subprocess_specs.values())
        for task_spec in process.task_specs.values()
        if type(task_spec).__name__ in ("UserTask", "ManualTask")
    }
    labels = element_labels(session, version_id)
    return {element_id: names for element_id, names in labels.items() if element_id in user_tasks}


def version_content(session: Session, version_id: int) -> str:
    """Return the BPMN XML of a deployed version ('' when there is none)."""
    content = session.execute(
        select(ProcessVersion.content).where(ProcessVersion.id == version_id)
    ).scalar_one_or_none()
    return content or ""


class _SpecCache:
    """Restored specs per version; versions are immutable and their ids never reused, so
    entries never go stale (tests that empty the tables call `clear()`)."""

    def __init__(self, size: int = 256) -> None:
        self._items: OrderedDict[
            tuple[str, int], tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]
        ] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size
        # element names (element_labels) and forms (version_forms) per version, as
        # immutable as the specs
        self.labels: dict[tuple[str, int], dict[str, dict[str, str]]] = {}
        self.forms: dict[tuple[str, int], dict[str, dict[str, Any]]] = {}
        self.variables: dict[tuple[str, int], dict[str, dict[str, Any]]] = {}

    def get(
        self, session: Session, version_id: int
    ) -> tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]:
        """Return the restored specs of a version, reading them from the database on a miss."""
        # Ids repeat across databases (tests use several), so the database is part of the key.
        bind = session.get_bind()
        cache_key = (str(bind.engine.url), version_id)
        with self._lock:
            hit = self._items.get(cache_key)
            if hit is not None:
                self._items.move_to_end(cache_key)
                return hit
        specs_json = session.execute(
            select(ProcessVersion.specs_json).where(ProcessVersion.id == version_id)
        ).scalar_one_or_none()
        if specs_json is None:
            raise NotFound(f"version {version_id} holds no executable process")
        specs = load_specs(specs_json)
        with self._lock:
            self._items[cache_key] = specs
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return specs

    def clear(self) -> None:
        """Forget every entry (after tables were emptied and ids may repeat)."""
        with self._lock:
            self._items.clear()
            self.labels.clear()
            self.forms.clear()
            self.variables.clear()


SPEC_CACHE = _SpecCache()


def check_files(
    session: Session,
    *,
    files: list[tuple[str, bytes]],
    actor: Actor,
    uploaded_forms: Sequence[FormsFile] = (),
) -> list[BpmnProblem]:
    """Return every problem a deploy of `files` would refuse (the same checks: the
    BPMN/DMN against what is deployed, and the forms each process deploys with);
    writes nothing. Designers and admins only."""
    access.require_designer(actor)
    try:
        parsed_files, _, uploaded_forms = _validate_with_callers(session, files, uploaded_forms)
        _forms_of(parsed_files, {}, uploaded_forms)
    except InvalidBpmn as refused:
        return list(refused.problems)
    return []
