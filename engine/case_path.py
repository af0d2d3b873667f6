"""The way a case went through its diagram: every element it passed (events, gateways,
script and rule tasks as well as user tasks), the sequence flows it took, and where it
is now, read from its stored workflow (the history records only some of these)."""

from __future__ import annotations

from dataclasses import dataclass

from SpiffWorkflow.task import Task as SpiffTask
from SpiffWorkflow.util.task import TaskState
from sqlalchemy.orm import Session

from engine.bpmn.safe_xml import parse_xml
from engine.bpmn.serializer import load_state
from engine.config import get_settings
from engine.definitions import SPEC_CACHE, version_content
from engine.models import Instance

# A task the case has arrived at: done, being worked, waiting (a timer) or failed.
_REACHED = TaskState.COMPLETED | TaskState.STARTED | TaskState.READY | TaskState.WAITING
_REACHED |= TaskState.ERROR


@dataclass(frozen=True)
class CasePath:
    """What of its diagram a case went through, by BPMN element id."""

    passed: list[str]  # elements completed at least once, sorted
    flows: list[str]  # sequence flows taken at least once, sorted
    current: str | None  # the element the case reached last (an end event once closed)


def case_path(session: Session, instance: Instance) -> CasePath:
    """Return the elements and sequence flows `instance` passed through, and where it is."""
    if not instance.workflow_state:
        return CasePath([], [], None)
    spec, subprocess_specs = SPEC_CACHE.get(session, instance.version_id)
    workflow = load_state(instance.workflow_state, spec, subprocess_specs)
    passed: set[str] = set()
    steps: set[tuple[str, str]] = set()
    current: tuple[float, str] | None = None
    for task in workflow.get_tasks():
        element = _element_of(task)
        if element is None or not task.state & _REACHED:
            continue
        if task.state == TaskState.COMPLETED:
            passed.add(element)
        source = _nearest_element(task.parent)
        if source is not None and source != element:
            steps.add((source, element))
        if current is None or task.last_state_change >= current[0]:
            current = (task.last_state_change, element)
    flows = _flows_taken(version_content(session, instance.version_id), steps)
    return CasePath(sorted(passed), sorted(flows), current[1] if current else None)


def _element_of(task: SpiffTask) -> str | None:
    # The engine's own tasks (Start, End, joins of boundary events) have no element.
    element = getattr(task.task_spec, "bpmn_id", None)
    return str(element) if element else None


def _nearest_element(task: SpiffTask | None) -> str | None:
    while task is not None:
        element = _element_of(task)
        if element is not None:
            return element
        task = task.parent
    return None


def _flows_taken(content: str, steps: set[tuple[str, str]]) -> set[str]:
    """Return the ids of the sequence flows that join a step's source to its target."""
    if not content or not steps:
        return set()
    root = parse_xml(
        content.encode("utf-8"), filename="diagram.bpmn", max_bytes=get_settings().max_bpmn_bytes
    )
    taken: set[str] = set()
    for flow in root.iter("{*}sequenceFlow"):
        pair = (flow.get("sourceRef") or "", flow.get("targetRef") or "")
        if pair in steps and flow.get("id"):
            taken.add(str(flow.get("id")))
    return taken
