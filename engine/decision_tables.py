"""The deployed decision tables (DMN) as their editors see them: each decision with its
versions (deployed when, by whom), its name, and the processes whose newest version
calls it; designers and admins only. Deploying a table goes through
`definitions.deploy_files`, which also rebuilds the processes calling it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import access
from engine.bpmn.safe_xml import parse_xml
from engine.config import get_settings
from engine.definitions import latest_versions
from engine.errors import InvalidBpmn, NotFound
from engine.identity import Actor
from engine.models import ProcessDefinition, ProcessVersion


@dataclass(frozen=True)
class DecisionVersion:
    version: int
    deployed_at: datetime
    deployed_by: str | None


@dataclass
class DecisionTable:
    """A deployed decision, newest version first."""

    key: str
    name: str  # the decision's name in its newest version, else its id
    filename: str
    content: str  # the newest version's DMN XML
    versions: list[DecisionVersion] = field(default_factory=list)
    used_by: list[tuple[str, str]] = field(default_factory=list)  # (process key, name)

    @property
    def newest(self) -> DecisionVersion:
        """Return the newest version."""
        return self.versions[0]


def decision_tables(session: Session, *, actor: Actor) -> list[DecisionTable]:
    """Return every deployed decision with its versions and callers, ordered by key."""
    access.require_designer(actor)
    rows = session.execute(
        select(ProcessDefinition.key, ProcessVersion)
        .join(ProcessVersion, ProcessVersion.definition_id == ProcessDefinition.id)
        .where(ProcessDefinition.kind == "dmn")
        .order_by(ProcessDefinition.key, ProcessVersion.version.desc())
    ).all()
    tables: dict[str, DecisionTable] = {}
    for key, version in rows:
        table = tables.get(key)
        if table is None:
            table = tables[key] = DecisionTable(
                key=key,
                name=decision_name(version.content, key),
                filename=version.filename,
                content=version.content,
            )
        table.versions.append(
            DecisionVersion(version.version, version.deployed_at, version.deployed_by)
        )
    callers = [(d.key, v.name, v.content) for d, v in latest_versions(session, kind="bpmn")]
    for table in tables.values():
        calls = re.compile(r"calledDecisionId>\s*" + re.escape(table.key) + r"\s*<")
        table.used_by = [(key, name) for key, name, content in callers if calls.search(content)]
    return list(tables.values())


def decision_table(session: Session, decision_id: str, *, actor: Actor) -> DecisionTable:
    """Return one deployed decision; NotFound when no decision has that id."""
    for table in decision_tables(session, actor=actor):
        if table.key == decision_id:
            return table
    raise NotFound(key="error_decision_not_deployed", decision=decision_id)


def decision_name(content: str | bytes, fallback: str) -> str:
    """Return the name of a DMN file's first decision (`fallback` when it has none)."""
    root = _root(content)
    if root is None:
        return fallback
    for element in root:
        if isinstance(element.tag, str) and etree.QName(element).localname == "decision":
            return (element.get("name") or "").strip() or fallback
    return fallback


def defined_decisions(content: str | bytes) -> list[str]:
    """Return the decision ids a DMN file defines ([] for anything else)."""
    root = _root(content)
    if root is None or etree.QName(root).localname != "definitions":
        return []
    return [
        element.get("id") or ""
        for element in root
        if isinstance(element.tag, str) and etree.QName(element).localname == "decision"
    ]


def _root(content: str | bytes) -> etree._Element | None:
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        return parse_xml(data, filename="decision", max_bytes=get_settings().max_bpmn_bytes)
    except InvalidBpmn:
        return None
