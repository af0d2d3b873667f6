"""Moving running cases to another version of their process (CONTRACT.md "Designers:
validate, compare, measure, migrate").

Built on SpiffWorkflow's own `SpiffWorkflow.bpmn.util.diff`: `diff_workflow` aligns
the case's tasks with the target version's elements, `migrate_workflow` swaps the specs.
Each case is locked, loaded and saved as a step is (engine/runtime.py), inside a
savepoint of its own: a case that cannot move leaves nothing written while the others
move. An open task keeps its row — id, assignee, due time, SLA state and clock — and
takes the target version's element name; its form follows the version because forms
are read by the case's version (engine/definitions.py `version_form`).

Why a case cannot move: one of its open tasks (or a waiting event, or a running
subprocess) is an element the target version no longer has, or SpiffWorkflow could not
carry an open task over with its id. Completed tasks of removed elements are taken out
of the workflow's tree (their record stays in the task table and the history).
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.bpmn.util.diff import WorkflowDiff, diff_workflow, migrate_workflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.task import Task as SpiffTask
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import access, clock, texts
from engine.audit import PendingEvent
from engine.bpmn.serializer import SERIALIZER
from engine.definitions import SPEC_CACHE, element_labels, get_version, list_versions
from engine.errors import FieldProblem, FlowdeskError, InvalidData
from engine.identity import Actor
from engine.models import Instance, ProcessVersion
from engine.runtime import _load, _lock_instance, _run_engine, _save, _Step

# Tasks that are "open" in the workflow: what a target version must still have.
_OPEN = TaskState.READY | TaskState.WAITING | TaskState.STARTED
_MAX_INSTANCES = 1000


@dataclass(frozen=True)
class MigrationItem:
    """What became (or, in a dry run, would become) of one case; `problem` is English
    (the API's) and `problem_key`/`params` word it in any language (the page)."""

    instance_id: str
    ok: bool
    problem: str | None = None
    problem_key: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    # the engine's own error when the case failed on the new version
    cause: FlowdeskError | None = field(default=None, compare=False)

    def problem_in(self, language: str) -> str | None:
        """Return why the case cannot move, in `language` (None when it can)."""
        if self.problem_key is None:
            return self.problem
        params = dict(self.params)
        if self.cause is not None:
            params["error"] = self.cause.text_in(language)
        return texts.text(self.problem_key, language, **params)


@dataclass(frozen=True)
class MigrationReport:
    """The outcome of one migration request."""

    process_key: str
    from_version: int
    to_version: int
    dry_run: bool
    items: list[MigrationItem]

    @property
    def migrated(self) -> int:
        """Return how many cases moved (in a dry run: how many could)."""
        return sum(1 for item in self.items if item.ok)


class _CannotMove(FlowdeskError):
    """One case cannot move; the others go on."""


def migrate_instances(
    session: Session,
    *,
    process_key: str,
    from_version: Any,
    to_version: Any = None,
    instance_ids: Any = None,
    dry_run: Any = False,
    actor: Actor,
) -> MigrationReport:
    """Move running cases of `from_version` to `to_version` (default the newest); each
    case moves whole or not at all; a dry run says what would happen and writes nothing.
    Designers and admins only."""
    access.require_designer(actor)
    source, target = _versions(session, process_key, from_version, to_version)
    if not isinstance(dry_run, bool):
        raise InvalidData([FieldProblem("dry_run", key="problem_migration_dry_run")])
    ids = _instance_ids(session, source, instance_ids)
    plan = _Plan(process_key, source, target, dry_run, actor)
    items = [_migrate_one(session, plan, instance_id) for instance_id in ids]
    return MigrationReport(process_key, source.version, target.version, dry_run, items)


def _versions(
    session: Session, process_key: str, from_version: Any, to_version: Any
) -> tuple[ProcessVersion, ProcessVersion]:
    """Return the source and target versions; 404 for an unknown process, 422 naming the
    field for a missing, unknown or equal version."""
    versions = {v.version: v for v in list_versions(session, process_key)}
    get_version(session, process_key)  # a decision table's key is not a process to migrate
    problems: list[FieldProblem] = []
    source = _version_field(versions, "from_version", from_version, process_key, problems)
    if to_version is None:
        target: ProcessVersion | None = versions[max(versions)]
    else:
        target = _version_field(versions, "to_version", to_version, process_key, problems)
    if problems:
        raise InvalidData(problems)
    assert source is not None and target is not None
    if source.id == target.id:
        raise InvalidData(
            [
                FieldProblem(
                    "to_version",
                    key="problem_migration_same_version",
                    params={"version": target.version},
                )
            ]
        )
    return source, target


def _version_field(
    versions: dict[int, ProcessVersion],
    name: str,
    value: Any,
    process_key: str,
    problems: list[FieldProblem],
) -> ProcessVersion | None:
    if value is None:
        problems.append(FieldProblem(name, key="problem_migration_version_missing"))
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append(FieldProblem(name, key="problem_migration_version_number"))
        return None
    if value not in versions:
        problems.append(
            FieldProblem(
                name,
                key="problem_migration_version_unknown",
                params={"process": process_key, "version": value},
            )
        )
        return None
    return versions[value]


def _instance_ids(session: Session, source: ProcessVersion, instance_ids: Any) -> list[str]:
    """Return the cases to move: the given ids, or every running case of the version."""
    if instance_ids is None:
        return list(
            session.execute(
                select(Instance.id)
                .where(Instance.version_id == source.id, Instance.status == "running")
                .order_by(Instance.started_at, Instance.id)
            ).scalars()
        )
    if (
        not isinstance(instance_ids, list)
        or not all(isinstance(i, str) and 0 < len(i) <= 36 for i in instance_ids)
        or len(instance_ids) > _MAX_INSTANCES
    ):
        raise InvalidData(
            [
                FieldProblem(
                    "instance_ids",
                    key="problem_migration_instance_ids",
                    params={"limit": _MAX_INSTANCES},
                )
            ]
        )
    return list(dict.fromkeys(instance_ids))


@dataclass(frozen=True)
class _Plan:
    """What one request moves: from which version to which, and whether for real."""

    process_key: str
    source: ProcessVersion
    target: ProcessVersion
    dry_run: bool
    actor: Actor


def _migrate_one(session: Session, plan: _Plan, instance_id: str) -> MigrationItem:
    """Move one case inside a savepoint: all of it is written, or none of it."""
    savepoint = session.begin_nested()
    try:
        _move(session, plan, instance_id)
    except _CannotMove as refused:
        savepoint.rollback()
        return MigrationItem(instance_id, False, refused.message, refused.key, dict(refused.params))
    except FlowdeskError as failed:  # the process failed on the new version, a hook refused
        savepoint.rollback()
        return MigrationItem(
            instance_id,
            False,
            texts.english("problem_migration_failed", error=failed.message),
            "problem_migration_failed",
            cause=failed,
        )
    if plan.dry_run:
        savepoint.rollback()
    else:
        savepoint.commit()
    return MigrationItem(instance_id, True)


def _move(session: Session, plan: _Plan, instance_id: str) -> None:
    source, target, actor = plan.source, plan.target, plan.actor
    instance = _lock_instance(session, instance_id)
    if instance is None or instance.process_key != plan.process_key:
        raise _CannotMove(key="problem_migration_no_case", instance_id=instance_id)
    if instance.version_id != source.id:
        raise _CannotMove(key="problem_migration_other_version", version=instance.version)
    if instance.status != "running":
        raise _CannotMove(key=f"problem_migration_case_{instance.status}")
    step = _load(session, instance)
    new_spec, new_subprocess_specs = SPEC_CACHE.get(session, target.id)
    try:
        top_diff, subprocess_diffs = diff_workflow(
            SERIALIZER.registry, step.workflow, new_spec, new_subprocess_specs
        )
    except (SpiffWorkflowException, KeyError, AttributeError) as exc:
        raise _CannotMove(key="problem_migration_not_comparable", error=str(exc)) from exc
    _refuse_removed_open(step.workflow, top_diff, new_spec, target.version)
    for sp_id, sp_diff in subprocess_diffs.items():
        subworkflow = step.workflow.subprocesses[sp_id]
        if sp_diff is None:  # its element is gone: only a finished one may stay behind
            if not subworkflow.is_completed():
                raise _CannotMove(
                    key="problem_migration_subprocess_removed",
                    element_id=subworkflow.spec.name,
                    version=target.version,
                )
            continue
        _refuse_removed_open(
            subworkflow, sp_diff, new_subprocess_specs[subworkflow.spec.name], target.version
        )
    kept = _open_state(step.workflow)
    try:
        _prune_removed(step.workflow, top_diff)
        migrate_workflow(top_diff, step.workflow, new_spec)
        step.workflow.subprocess_specs = new_subprocess_specs
        for sp_id, sp_diff in subprocess_diffs.items():
            subworkflow = step.workflow.subprocesses[sp_id]
            if sp_diff is None:  # finished, of an element the target removed: drop it
                del step.workflow.subprocesses[sp_id]
            else:
                _prune_removed(subworkflow, sp_diff)
                migrate_workflow(sp_diff, subworkflow, new_subprocess_specs[subworkflow.spec.name])
    except SpiffWorkflowException as exc:
        raise _CannotMove(key="problem_migration_engine", error=str(exc)) from exc
    _restore_open_state(step.workflow, kept)
    _require_open_tasks_kept(step)
    # The new version may route on at once (a gateway it added before a waiting task).
    _run_engine(step.workflow, actor=actor)
    if plan.dry_run:
        return
    now = clock.now()
    _follow_version(session, step, target)
    instance.version_id = target.id
    instance.version = target.version
    step.events.append(
        PendingEvent(
            type="instance_migrated",
            actor=actor.username,
            instance_id=instance.id,
            at=now,
            data={
                "from_version": source.version,
                "to_version": target.version,
                "open_tasks": sorted(t.element_id for t in step.open_tasks.values()),
            },
        )
    )
    _save(session, step, actor=actor, now=now)


def _refuse_removed_open(
    workflow: BpmnWorkflow, diff: WorkflowDiff, new_spec: BpmnProcessSpec, version: int
) -> None:
    """Refuse the case when an open task is an element the target no longer has: gone
    from the diff's alignment, or aligned by position with an element of another id
    (SpiffWorkflow's guess at a rename, which a case's open task does not follow)."""
    removed = set(diff.removed)
    for task in workflow.get_tasks(state=_OPEN, skip_subprocesses=True):
        if task in removed or task.task_spec.name not in new_spec.task_specs:
            element_id = _element_id(task)
            raise _CannotMove(
                key="problem_migration_element_removed",
                element_id=element_id,
                element_name=getattr(task.task_spec, "bpmn_name", None) or element_id,
                version=version,
            )


def _element_id(task: SpiffTask) -> str:
    """Return the BPMN id of a task's element (a multi-instance child's is its task's)."""
    spec = task.task_spec
    bpmn_id = getattr(spec, "bpmn_id", None)
    if bpmn_id:
        return str(bpmn_id)
    if task.parent is not None and getattr(task.parent.task_spec, "bpmn_id", None):
        return str(task.parent.task_spec.bpmn_id)
    return str(spec.name)


def _prune_removed(workflow: BpmnWorkflow, diff: WorkflowDiff) -> None:
    """Take finished tasks of removed elements out of the tree, their children moving up
    to their parent, so the saved state names only elements of the target version."""
    for task in diff.removed:
        if task.id not in workflow.tasks or task.parent is None:
            continue
        parent = task.parent
        position = parent._children.index(task.id)
        parent._children[position : position + 1] = list(task._children)
        for child in task.children:
            child._parent = parent.id
        del workflow.tasks[task.id]
        if workflow.last_task is task:
            workflow.last_task = parent


def _open_state(workflow: BpmnWorkflow) -> dict[uuid.UUID, tuple[dict[str, Any], dict[str, Any]]]:
    """Return the data and internal data of every READY or WAITING task, by task id:
    `migrate_workflow` resets them (a multi-instance task's own item, a timer's due time)."""
    return {
        task.id: (copy.deepcopy(task.data), copy.deepcopy(task.internal_data))
        for task in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING)
    }


def _restore_open_state(
    workflow: BpmnWorkflow, kept: dict[uuid.UUID, tuple[dict[str, Any], dict[str, Any]]]
) -> None:
    for task_id, (data, internal_data) in kept.items():
        task = workflow.get_task_from_id(task_id)
        if task is not None and task.has_state(TaskState.READY | TaskState.WAITING):
            task.data = data
            task.internal_data = internal_data


def _require_open_tasks_kept(step: _Step) -> None:
    """Refuse the case when an open task would not stay open with its id."""
    for row in step.open_tasks.values():
        task = step.workflow.get_task_from_id(uuid.UUID(row.id))
        # a user task the target made automatic (a script) would run and end the row
        if task is None or task.state != TaskState.READY or not task.task_spec.manual:
            raise _CannotMove(
                key="problem_migration_task_lost", element_id=row.element_id, name=row.name
            )


def _follow_version(session: Session, step: _Step, target: ProcessVersion) -> None:
    """Give each open task the target version's element (id and name); keep the rest."""
    labels = element_labels(session, target.id)
    for row in step.open_tasks.values():
        task = step.workflow.get_task_from_id(uuid.UUID(row.id))
        assert task is not None
        element_id = _element_id(task)
        row.element_id = element_id
        row.name = labels.get(element_id, {}).get("zh-CN", row.name)


def running_counts(session: Session, process_key: str) -> dict[int, int]:
    """Return the number of running cases per version number of a process."""
    rows = session.execute(
        select(Instance.version, func.count())
        .where(Instance.process_key == process_key, Instance.status == "running")
        .group_by(Instance.version)
    ).all()
    return {int(version): int(count) for version, count in rows}
