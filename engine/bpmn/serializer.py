"""Workflow state <-> JSON, with the process spec kept per version, not per instance.

SpiffWorkflow's serializer writes the whole spec into every instance; we store
it once on the process version and keep only the running state per instance.
Restored specs are cached per version (they are never mutated by a run).
"""

from __future__ import annotations

import json
import threading
from datetime import date
from decimal import Decimal
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.spiff.serializer import DEFAULT_CONFIG

SERIALIZER_VERSION_KEY = BpmnWorkflowSerializer.VERSION_KEY


class _SharedSpecWorkflowConverter(BpmnWorkflowConverter):
    """Restore a workflow around spec objects that are passed in already restored."""

    def from_dict(self, dct: dict[str, Any]) -> BpmnWorkflow:
        spec = dct.pop("spec")
        subprocess_specs = dct.pop("subprocess_specs", {})
        if isinstance(spec, dict):
            spec = self.registry.restore(spec)
            subprocess_specs = self.mapping_from_dict(subprocess_specs)
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], _uuid, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(_uuid(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _uuid(value: str) -> Any:
    from uuid import UUID

    return UUID(value)


def _build_serializer() -> BpmnWorkflowSerializer:
    config = dict(DEFAULT_CONFIG)
    config[BpmnWorkflow] = _SharedSpecWorkflowConverter
    registry = BpmnWorkflowSerializer.configure(config)
    # Task data may hold dates and decimals from forms; SpiffWorkflow only knows datetime.
    registry.register(
        date, lambda v: {"value": v.isoformat()}, lambda v: date.fromisoformat(v["value"])
    )
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda v: Decimal(v["value"]))
    return BpmnWorkflowSerializer(registry)


SERIALIZER = _build_serializer()
SERIALIZER_VERSION: str = SERIALIZER.VERSION
_encoder_lock = threading.Lock()


def dump_specs(spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec]) -> str:
    """Serialize a process spec and its called subprocess specs to JSON."""
    registry = SERIALIZER.registry
    with _encoder_lock:
        return json.dumps(
            {
                "spec": registry.convert(spec),
                "subprocess_specs": {k: registry.convert(v) for k, v in subprocess_specs.items()},
            }
        )


def load_specs(text: str) -> tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]:
    """Restore a process spec and its subprocess specs from `dump_specs` output."""
    registry = SERIALIZER.registry
    dct = json.loads(text)
    spec = registry.restore(dct["spec"])
    subprocess_specs = {k: registry.restore(v) for k, v in dct["subprocess_specs"].items()}
    return spec, subprocess_specs


def dump_state(workflow: BpmnWorkflow) -> str:
    """Serialize a workflow's running state (without its specs) to JSON."""
    # The registry's encoder mode is a flag on a shared object; serialize one at a time.
    with _encoder_lock:
        registry = SERIALIZER.registry
        registry._encoder_mode = True
        try:
            dct = SERIALIZER.to_dict(workflow)
            dct.pop("spec", None)
            dct.pop("subprocess_specs", None)
            dct[SERIALIZER_VERSION_KEY] = SERIALIZER_VERSION
            return json.dumps(dct, cls=SERIALIZER._encoder_cls, separators=(",", ":"))
        finally:
            registry._encoder_mode = False


def load_state(
    text: str, spec: BpmnProcessSpec, subprocess_specs: dict[str, BpmnProcessSpec]
) -> BpmnWorkflow:
    """Restore a workflow from `dump_state` output around its (shared) specs."""
    dct = json.loads(text, cls=SERIALIZER.json_decoder_cls)
    SERIALIZER.migrate(dct)
    dct["spec"] = spec
    dct["subprocess_specs"] = subprocess_specs
    return SERIALIZER.from_dict(dct)
