"""How one deployed version performs (`GET /processes/{key}/versions/{n}/stats`, the
designer's heat map): its instances by status and, per user task, how many passed it,
how many are open there now, their median working time and how many breached.

Everything is counted over the instances that are on the version now (`instance.version_id`),
so a case migrated to another version counts, with all its tasks, on the version it
moved to. Figures come from the task rows the inbox reads: grouped aggregates over the
indexed `instance.version_id` and `task(instance_id, state)`; the median on PostgreSQL
from a histogram counted in the same query (engine/report_sql.py: no sort of the rows),
elsewhere computed here over the one column it needs.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import access, definitions
from engine.identity import Actor
from engine.models import Instance, Task
from engine.report_sql import count_if, grouped, grouped_with_medians, tune

INSTANCE_STATUSES = ("running", "completed", "cancelled")


@dataclass(frozen=True)
class ElementStats:
    """One user task of the version: cases through it, open now, working time, breaches."""

    element_id: str
    completed: int
    open: int
    # The SLA clock's measure (task.working_seconds: working time from creation to
    # completion on the task's calendar, paused time left out); None when no task of
    # the element was completed with an SLA.
    median_working_seconds: int | None
    breached: int  # completed or open tasks whose SLA breached

    @property
    def breached_share(self) -> float | None:
        """Return the breached share of the completed and open tasks (None when none)."""
        seen = self.completed + self.open
        return round(self.breached / seen, 4) if seen else None


@dataclass(frozen=True)
class VersionStats:
    """A version's instances by status and its user tasks' figures."""

    key: str
    version: int
    instances: dict[str, int]
    elements: list[ElementStats]


def version_stats(session: Session, *, actor: Actor, key: str, version: int) -> VersionStats:
    """Return the figures of version `version` of process `key` (NotFound when unknown)."""
    access.require_stats_reader(actor)
    row = definitions.get_version(session, key, version)
    on_version = Instance.version_id == row.id
    instances = dict.fromkeys(INSTANCE_STATUSES, 0)
    for status, count in session.execute(
        select(Instance.status, func.count()).where(on_version).group_by(Instance.status)
    ):
        if status in instances:
            instances[status] = count
    figures = element_figures(
        session, row.id, median_in_database=session.get_bind().dialect.name == "postgresql"
    )
    # The version's user tasks in diagram order, then any element only older tasks name.
    element_ids = list(definitions.user_task_labels(session, row.id))
    element_ids += sorted(set(figures) - set(element_ids))
    return VersionStats(
        key=key,
        version=row.version,
        instances=instances,
        elements=[
            figures.get(element_id) or ElementStats(element_id, 0, 0, None, 0)
            for element_id in element_ids
        ],
    )


def element_figures(
    session: Session, version_id: int, *, median_in_database: bool
) -> dict[str, ElementStats]:
    """Return the figures of each element that has tasks on the version: one grouped
    query, with the histogram of the medians on PostgreSQL with `median_in_database`
    (and a small query of the values in the middle buckets), else the medians computed
    here over a second query of the one column it needs."""
    counted = Task.state.in_(("open", "completed"))
    is_completed = Task.state == "completed"
    measures = {
        "completed": count_if(is_completed),
        "open": count_if(Task.state == "open"),
        "breached": count_if(counted & (Task.sla_status == "breached")),
    }
    on_version = [(Instance, Instance.id == Task.instance_id)]
    where = [Instance.version_id == version_id]
    medians: dict[str, int | None]
    if median_in_database:  # NULLs (no SLA, so no working time measured) are left out
        tune(session)
        rows, found = grouped_with_medians(
            session,
            [Task.element_id],
            measures,
            where,
            value=Task.working_seconds,
            of=is_completed,
            joins=on_version,
        )
        medians = {key: round(median) for (key,), median in found.items()}
    else:
        rows = grouped(session, [Task.element_id], measures, where, joins=on_version)
        medians = _medians_in_python(session, version_id)
    return {
        element_id: ElementStats(
            element_id,
            int(row["completed"]),
            int(row["open"]),
            medians.get(element_id),
            int(row["breached"]),
        )
        for (element_id,), row in rows.items()
    }


def _medians_in_python(session: Session, version_id: int) -> dict[str, int | None]:
    """Return the median working seconds of each element's completed tasks on a version."""
    seconds: dict[str, list[int]] = defaultdict(list)
    for element_id, value in session.execute(
        select(Task.element_id, Task.working_seconds)
        .join(Instance, Instance.id == Task.instance_id)
        .where(
            Instance.version_id == version_id,
            Task.state == "completed",
            Task.working_seconds.is_not(None),
        )
    ):
        seconds[element_id].append(value or 0)  # never None: selected not null
    return {element_id: round(statistics.median(values)) for element_id, values in seconds.items()}
