"""What a process designer watches: every deployed process with its versions (deployed
when, by whom) and, per version, its instances by status, its open tasks and its
breaches — read from the version, instance and task rows (three grouped queries)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from engine import access
from engine.identity import Actor
from engine.models import Instance, ProcessDefinition, ProcessVersion, Task


@dataclass
class VersionFigures:
    """One deployed version and how its cases stand now."""

    version: int
    name: str
    deployed_at: datetime
    deployed_by: str | None
    instances: dict[str, int] = field(default_factory=dict)  # status -> count
    open_tasks: int = 0
    breached_open: int = 0  # open tasks past their due time now
    breached: int = 0  # every task that breached, open or done

    def count(self, status: str) -> int:
        """Return how many instances of this version have `status`."""
        return self.instances.get(status, 0)


@dataclass
class ProcessOverview:
    """A deployed process with its versions, newest first."""

    key: str
    versions: list[VersionFigures]

    @property
    def newest(self) -> VersionFigures:
        """Return the newest version (the one new cases start on)."""
        return self.versions[0]

    def total(self, status: str) -> int:
        """Return how many instances of every version have `status`."""
        return sum(v.count(status) for v in self.versions)


def process_overview(session: Session, *, actor: Actor) -> list[ProcessOverview]:
    """Return every deployed BPMN process, ordered by key, with each version's figures."""
    access.require_designer(actor)
    rows = session.execute(
        select(ProcessDefinition.key, ProcessVersion)
        .join(ProcessVersion, ProcessVersion.definition_id == ProcessDefinition.id)
        .where(ProcessDefinition.kind == "bpmn")
        .order_by(ProcessDefinition.key, ProcessVersion.version.desc())
    ).all()
    by_id: dict[int, VersionFigures] = {}
    versions: dict[str, list[VersionFigures]] = defaultdict(list)
    for key, version in rows:
        figures = VersionFigures(
            version=version.version,
            name=version.name,
            deployed_at=version.deployed_at,
            deployed_by=version.deployed_by,
        )
        by_id[version.id] = figures
        versions[key].append(figures)
    for version_id, status, count in session.execute(
        select(Instance.version_id, Instance.status, func.count()).group_by(
            Instance.version_id, Instance.status
        )
    ):
        if version_id in by_id:
            by_id[version_id].instances[status] = count
    is_open = Task.state == "open"
    is_breached = Task.sla_status == "breached"
    for version_id, open_tasks, breached_open, breached in session.execute(
        select(
            Instance.version_id,
            func.count(case((is_open, 1))),
            func.count(case((is_open & is_breached, 1))),
            func.count(case((is_breached, 1))),
        )
        .join(Instance, Instance.id == Task.instance_id)
        .group_by(Instance.version_id)
    ):
        if version_id in by_id:
            figures = by_id[version_id]
            figures.open_tasks, figures.breached_open, figures.breached = (
                open_tasks,
                breached_open,
                breached,
            )
    return [ProcessOverview(key=key, versions=found) for key, found in versions.items()]
