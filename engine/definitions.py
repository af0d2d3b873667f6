"""Deploying process definitions and reading their versions."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import access, clock
from engine.audit import PendingEvent, append_events
from engine.bpmn.serializer import dump_specs, load_specs
from engine.bpmn.validation import ParsedFile, parse_and_validate
from engine.config import get_settings
from engine.errors import NotFound
from engine.identity import Actor
from engine.models import ProcessDefinition, ProcessVersion


@dataclass(frozen=True)
class DeployedVersion:
    key: str
    version: int
    name: str
    deployed_at: datetime
    created: bool  # False when the content was unchanged and no version was added


def content_hash(content: bytes) -> str:
    """Return the hash that decides whether a file changed since its last deployment."""
    return hashlib.sha256(content).hexdigest()


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
        if definition.key in exclude or version.content_hash in seen:
            continue
        seen.add(version.content_hash)
        files.append((version.filename, version.content.encode("utf-8")))
    return files


def validate_files(
    session: Session | None, files: list[tuple[str, bytes]]
) -> tuple[list[ParsedFile], list]:
    """Validate BPMN/DMN files against what is deployed; raise InvalidBpmn with every problem."""
    library = _library(session, set()) if session is not None else []
    return parse_and_validate(files, library=library, max_bytes=get_settings().max_bpmn_bytes)


def deploy_files(
    session: Session, *, files: list[tuple[str, bytes]], actor: Actor
) -> list[DeployedVersion]:
    """Validate and deploy files; a new version only for processes whose file changed."""
    access.require_designer(actor)
    parsed_files, processes = validate_files(session, files)
    now = clock.now()
    results: list[DeployedVersion] = []
    events: list[PendingEvent] = []
    by_key = {p.key: p for p in processes}
    for parsed in parsed_files:
        text = parsed.content.decode("utf-8")
        digest = content_hash(parsed.content)
        keys = parsed.process_keys if parsed.kind == "bpmn" else parsed.decision_ids
        for key in keys:
            process = by_key.get(key)
            name = process.name if process else key
            specs = dump_specs(process.spec, process.subprocess_specs) if process else None
            result, created = _add_version(
                session,
                key=key,
                kind=parsed.kind,
                name=name,
                filename=parsed.filename,
                content=text,
                digest=digest,
                specs_json=specs,
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
    if newest is not None and newest.content_hash == digest:
        return DeployedVersion(key, newest.version, newest.name, newest.deployed_at, False), False
    version = ProcessVersion(
        definition_id=definition.id,
        version=(newest.version + 1) if newest else 1,
        name=name,
        filename=filename,
        content=content,
        content_hash=digest,
        specs_json=specs_json,
        deployed_at=now,
        deployed_by=actor.username,
    )
    session.add(version)
    session.flush()
    return DeployedVersion(key, version.version, name, now, True), True


def deploy_folder(session: Session, *, folder: Path, actor: Actor) -> list[DeployedVersion]:
    """Deploy every .bpmn/.dmn file of a folder whose content changed (DMN first)."""
    paths = sorted(folder.glob("*.dmn")) + sorted(folder.glob("*.bpmn"))
    if not paths:
        return []
    return deploy_files(session, files=[(p.name, p.read_bytes()) for p in paths], actor=actor)


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
    else:
        stmt = stmt.where(ProcessVersion.version == version)
    row = session.execute(stmt).scalar_one_or_none()
    if row is None:
        what = f"process '{key}'" + (f" version {version}" if version is not None else "")
        raise NotFound(f"{what} is not deployed")
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


class _SpecCache:
    """Restored specs per version; versions are immutable and their ids never reused, so
    entries never go stale (tests that empty the tables call `clear()`)."""

    def __init__(self, size: int = 256) -> None:
        self._items: OrderedDict[
            tuple[str, int], tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]
        ] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size
        # element names per version (element_labels), as immutable as the specs
        self.labels: dict[tuple[str, int], dict[str, dict[str, str]]] = {}

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


SPEC_CACHE = _SpecCache()
