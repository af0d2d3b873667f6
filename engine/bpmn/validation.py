"""Validating BPMN/DMN files for deployment: every problem of every file at once.

SpiffWorkflow's parser stops at the first problem and follows only what is
reachable from a start event, so this module first walks the XML itself and
collects every problem it can see (each with the element's id and name and a
plain-language message), then lets SpiffWorkflow build the specs of the
processes that passed, turning anything it still raises into a problem.
"""

from __future__ import annotations

import ast
import copy
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.spiff.parser import SpiffBpmnParser

from engine.bpmn.safe_xml import parse_xml
from engine.bpmn.script_engine import check_expression, check_script
from engine.departments import DEPARTMENTS, department_for_lane
from engine.errors import BpmnProblem, InvalidBpmn
from engine.sla.declarations import sla_problems

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
# The DMN versions SpiffWorkflow's DMN parser reads.
DMN_NAMESPACES = frozenset(
    {
        "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
        "http://www.omg.org/spec/DMN/20180521/MODEL/",
        "https://www.omg.org/spec/DMN/20191111/MODEL/",
        "https://www.omg.org/spec/DMN/20211108/MODEL/",
        "https://www.omg.org/spec/DMN/20230324/MODEL/",
    }
)

ACTIVITIES = frozenset(
    {
        "task",
        "userTask",
        "manualTask",
        "scriptTask",
        "serviceTask",
        "sendTask",
        "receiveTask",
        "businessRuleTask",
        "callActivity",
        "subProcess",
        "transaction",
        "adHocSubProcess",
    }
)
EVENTS = frozenset(
    {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"}
)
GATEWAYS = frozenset(
    {
        "exclusiveGateway",
        "inclusiveGateway",
        "parallelGateway",
        "eventBasedGateway",
        "complexGateway",
    }
)
FLOW_NODES = ACTIVITIES | EVENTS | GATEWAYS
CONDITIONAL_GATEWAYS = frozenset({"exclusiveGateway", "inclusiveGateway"})
HUMAN_TASKS = frozenset({"userTask", "manualTask"})
SUBPROCESSES = frozenset({"subProcess", "transaction"})

# Elements a process or subprocess may hold that describe rather than execute.
DESCRIPTIVE_CHILDREN = frozenset(
    {
        "documentation",
        "extensionElements",
        "laneSet",
        "dataObject",
        "dataObjectReference",
        "textAnnotation",
        "association",
        "group",
        "ioSpecification",
        "ioBinding",
        "property",
        "auditing",
        "monitoring",
        "supports",
        "correlationSubscription",
        "resourceRole",
        "performer",
        "humanPerformer",
        "potentialOwner",
        "incoming",
        "outgoing",
        "standardLoopCharacteristics",
        "multiInstanceLoopCharacteristics",
        "dataInputAssociation",
        "dataOutputAssociation",
        "completionCondition",
        "categoryValue",
    }
)

UNSUPPORTED_NODES = {
    "serviceTask": "service tasks are not supported by flowdesk: it has no service connectors; "
    "use a user task or a script task",
    "sendTask": "send tasks are not supported by flowdesk: it has no outbound connectors",
    "receiveTask": "receive tasks are not supported by flowdesk; "
    "use an intermediate message catch event",
    "complexGateway": "complex gateways are not supported by flowdesk; "
    "use an exclusive, inclusive or parallel gateway",
    "adHocSubProcess": "ad-hoc subprocesses are not supported by flowdesk",
}

# Which event definitions SpiffWorkflow reads on which kind of event.
ALLOWED_EVENT_DEFINITIONS = {
    "startEvent": {"message", "signal", "timer", "conditional"},
    "endEvent": {"message", "cancel", "error", "escalation", "terminate"},
    "intermediateCatchEvent": {"message", "signal", "timer", "conditional"},
    "intermediateThrowEvent": {"message", "signal", "escalation"},
    "boundaryEvent": {"message", "signal", "timer", "conditional", "cancel", "error", "escalation"},
}
KNOWN_EVENT_DEFINITIONS = frozenset(
    {
        "message",
        "signal",
        "timer",
        "conditional",
        "cancel",
        "error",
        "escalation",
        "terminate",
        "compensate",
        "link",
    }
)

LABELS = {
    "subProcess": "subprocess",
    "adHocSubProcess": "ad-hoc subprocess",
    "callActivity": "call activity",
    "businessRuleTask": "business rule task",
}

_ISO_DURATION = r"P(?=[\dT])(?:\d+(?:[.,]\d+)?[YMWD])*(?:T(?:\d+(?:[.,]\d+)?[HMS])+)?"
_ISO_DATETIME = (
    r"\d{4}-?\d{2}-?\d{2}"
    r"(?:T\d{2}(?::?\d{2}(?::?\d{2}(?:[.,]\d+)?)?)?)?"
    r"(?:Z|[+-]\d{2}(?::?\d{2})?)?"
)
_ISO_CYCLE = rf"R\d*/(?:{_ISO_DURATION}|{_ISO_DATETIME})(?:/(?:{_ISO_DURATION}|{_ISO_DATETIME}))?"
# An unquoted ISO 8601 value in a timer: Python reads `PT2H` as a variable name.
UNQUOTED_ISO = re.compile(rf"(?:{_ISO_CYCLE}|{_ISO_DURATION}|{_ISO_DATETIME})")

TIMER_WORDS = {"timeDate": "date", "timeDuration": "duration", "timeCycle": "cycle"}
TIMER_EXAMPLES = {
    "timeDate": '"2025-01-31T09:00:00+08:00"',
    "timeDuration": '"PT2H"',
    "timeCycle": '"R3/PT1H"',
}
SUPPORTED_HIT_POLICIES = frozenset({"UNIQUE", "FIRST", "ANY", "COLLECT"})


@dataclass
class ParsedProcess:
    key: str  # process id
    name: str  # process name, else participant name, else key
    filename: str
    spec: BpmnProcessSpec  # from SpiffBpmnParser.get_spec(key)
    subprocess_specs: dict  # from parser.get_subprocess_specs(key)


@dataclass
class ParsedFile:
    filename: str
    content: bytes
    kind: str  # "bpmn" or "dmn"
    process_keys: list[str]  # executable process ids defined in this file (bpmn)
    decision_ids: list[str]  # decision ids (dmn)


@dataclass
class _Document:
    filename: str
    content: bytes
    root: etree._Element
    kind: str  # "bpmn" or "dmn"
    process_ids: list[str] = field(default_factory=list)  # every top-level process
    executable_ids: list[str] = field(default_factory=list)
    # Embedded subprocesses: SpiffWorkflow registers them as processes too.
    subprocess_ids: list[str] = field(default_factory=list)
    decision_ids: list[str] = field(default_factory=list)
    calls: dict[str, set[str]] = field(default_factory=dict)  # process id -> called process ids
    decisions_used: dict[str, set[str]] = field(default_factory=dict)  # process id -> decision ids


@dataclass
class _Known:
    executable: dict[str, str] = field(default_factory=dict)  # process id -> filename
    non_executable: dict[str, str] = field(default_factory=dict)
    decisions: dict[str, str] = field(default_factory=dict)  # decision id -> filename


# --------------------------------------------------------------------------- helpers


def _bpmn(local: str) -> str:
    return f"{{{BPMN_NS}}}{local}"


def _spiff(local: str) -> str:
    return f"{{{SPIFF_NS}}}{local}"


def _bpmn_local(element: etree._Element) -> str | None:
    """Return the local name of a BPMN model element, None for anything else."""
    tag = element.tag
    if not isinstance(tag, str) or not tag.startswith(f"{{{BPMN_NS}}}"):
        return None
    return tag[len(BPMN_NS) + 2 :]


def _bpmn_children(element: etree._Element, local: str) -> list[etree._Element]:
    return element.findall(_bpmn(local))


def _clean(text: str | None) -> str | None:
    """Collapse whitespace (names often hold line breaks); None for blank."""
    if text is None:
        return None
    collapsed = " ".join(text.split())
    return collapsed or None


def _text(element: etree._Element | None) -> str:
    if element is None:
        return ""
    return (element.text or "").strip()


def _label(local: str) -> str:
    if local in LABELS:
        return LABELS[local]
    return re.sub(r"(?<!^)([A-Z])", r" \1", local).lower()


def _is_executable(process: etree._Element) -> bool:
    return (process.get("isExecutable") or "").strip().lower() == "true"


def _department_hint() -> str:
    codes = ", ".join(d.code for d in DEPARTMENTS[:-1]) + f" or {DEPARTMENTS[-1].code}"
    return f"{codes}, or a department's Chinese or English name"


def _a(word: str) -> str:
    return f"an {word}" if word[:1].lower() in "aeiou" else f"a {word}"


def _numbers(*values: str) -> bool:
    try:
        for value in values:
            float(value)
    except ValueError:
        return False
    return True


def _is_true(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


def _literal(text: str) -> tuple[bool, object]:
    """Return (True, value) when the expression is a plain Python literal."""
    try:
        return True, ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False, None


def _spiff_extensions(element: etree._Element) -> list[etree._Element]:
    """Return the spiff extension elements of a node, as SpiffWorkflow reads them."""
    found: list[etree._Element] = []
    for ext in _bpmn_children(element, "extensionElements"):
        found.extend(
            child
            for child in ext
            if isinstance(child.tag, str) and child.tag.startswith(f"{{{SPIFF_NS}}}")
        )
    return found


def _normalise_references(root: etree._Element) -> None:
    """Strip whitespace around id references, which SpiffWorkflow compares verbatim.

    Pretty-printing tools write `<flowNodeRef>\n  Task_1\n</flowNodeRef>`; without
    this the task would silently lose its lane, and so its department.
    """
    reference_tags = {
        _bpmn(local)
        for local in (
            "flowNodeRef",
            "incoming",
            "outgoing",
            "sourceRef",
            "targetRef",
            "loopDataInputRef",
            "loopDataOutputRef",
            "dataInputRefs",
            "dataOutputRefs",
            "correlationPropertyRef",
            "messageRef",
        )
    }
    reference_tags.add(_spiff("calledDecisionId"))
    for element in root.iter(*reference_tags):
        if element.text and element.text != element.text.strip():
            element.text = element.text.strip()


def _kind_of(root: etree._Element) -> str | None:
    qname = etree.QName(root)
    if qname.localname == "definitions" and qname.namespace == BPMN_NS:
        return "bpmn"
    if qname.localname == "definitions" and qname.namespace in DMN_NAMESPACES:
        return "dmn"
    return None


def _describe_root(root: etree._Element) -> str:
    qname = etree.QName(root)
    if qname.namespace == BPMN_NS:
        return f"bpmn:{qname.localname}"
    if qname.namespace:
        return f"{qname.localname} (namespace {qname.namespace})"
    return f"{qname.localname} (no namespace)"


def _index_document(doc: _Document) -> None:
    """Fill the ids a document defines: processes, embedded subprocesses, decisions."""
    if doc.kind == "bpmn":
        for process in _bpmn_children(doc.root, "process"):
            process_id = process.get("id")
            if not process_id:
                continue
            doc.process_ids.append(process_id)
            if _is_executable(process):
                doc.executable_ids.append(process_id)
            calls: set[str] = set()
            decisions: set[str] = set()
            for element in process.iter(_bpmn("callActivity"), _bpmn("businessRuleTask")):
                if element.tag == _bpmn("callActivity"):
                    if element.get("calledElement"):
                        calls.add(element.get("calledElement").strip())
                else:
                    decision = _called_decision(element)
                    if decision:
                        decisions.add(decision)
            doc.calls[process_id] = calls
            doc.decisions_used[process_id] = decisions
            for sub in process.iter(
                *(_bpmn(s) for s in ("subProcess", "transaction", "adHocSubProcess"))
            ):
                if sub.get("id"):
                    doc.subprocess_ids.append(sub.get("id"))
    else:
        ns = etree.QName(doc.root).namespace
        doc.decision_ids = [
            d.get("id") for d in doc.root.findall(f"{{{ns}}}decision") if d.get("id")
        ]


def _called_decision(element: etree._Element) -> str | None:
    for ext in _spiff_extensions(element):
        if etree.QName(ext).localname == "calledDecisionId":
            return _text(ext) or None
    return None


# --------------------------------------------------------------------------- problems


class _Problems:
    """Problems of one file, counted per top-level process so SpiffWorkflow skips broken ones."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.items: list[BpmnProblem] = []
        self.per_process: Counter[str] = Counter()
        self.file_level = 0  # problems outside any process: duplicate ids, data stores, ...
        self.process: str | None = None

    def _count(self) -> None:
        if self.process is None:
            self.file_level += 1
        else:
            self.per_process[self.process] += 1

    def add(self, element: etree._Element | None, message: str) -> None:
        element_id = element.get("id") if element is not None else None
        name = _clean(element.get("name")) if element is not None else None
        self.items.append(BpmnProblem(element_id or None, name, message, self.filename))
        self._count()

    def add_raw(self, element_id: str | None, name: str | None, message: str) -> None:
        self.items.append(BpmnProblem(element_id or None, _clean(name), message, self.filename))
        self._count()


# --------------------------------------------------------------------------- BPMN checks


class _BpmnChecker:
    """Walk one BPMN document and record every problem flowdesk can see in it."""

    def __init__(self, doc: _Document, known: _Known, problems: _Problems) -> None:
        self.doc = doc
        self.root = doc.root
        self.known = known
        self.problems = problems
        self.by_id: dict[str, etree._Element] = {}
        self.lane_of: dict[str, etree._Element] = {}
        self.reported_lanes: set[etree._Element] = set()  # kept alive: lxml proxies
        self.messages: set[str] = set()
        self.signals: set[str] = set()
        self.errors: set[str] = set()
        self.escalations: set[str] = set()

    def run(self) -> None:
        """Check the whole document."""
        self._index()
        self._check_definitions()
        processes = _bpmn_children(self.root, "process")
        if not processes:
            self.problems.add(None, "the file defines no process")
        elif not any(_is_executable(p) for p in processes):
            for process in processes:
                self.problems.add(
                    process,
                    'the process is not marked executable (isExecutable="true"); '
                    "flowdesk deploys executable processes only",
                )
        for process in processes:
            self.problems.process = process.get("id")
            self._check_process(process)
            self.problems.process = None
        self._check_collaborations()

    # -- document level

    def _index(self) -> None:
        seen: dict[str, etree._Element] = {}
        for element in self.root.iter():
            if _bpmn_local(element) is None:
                continue
            element_id = element.get("id")
            if not element_id:
                continue
            if element_id in seen:
                self.problems.add(
                    element, f"the id '{element_id}' is used by more than one element of the file"
                )
                continue
            seen[element_id] = element
        self.by_id = seen
        for shape in self.root.iter(f"{{{BPMNDI_NS}}}BPMNShape"):
            bounds = next(shape.iter(f"{{{DC_NS}}}Bounds"), None)
            if bounds is not None and not _numbers(bounds.get("x", "0"), bounds.get("y", "0")):
                element_id = shape.get("bpmnElement")
                element = self.by_id.get(element_id or "")
                self.problems.add_raw(
                    element_id,
                    element.get("name") if element is not None else None,
                    "the diagram position of the element is not a number",
                )
        # As SpiffWorkflow does: the last lane listing a node (the innermost) owns it.
        for ref in self.root.iter(_bpmn("flowNodeRef")):
            node_id = _text(ref)
            if node_id:
                self.lane_of[node_id] = ref.getparent()

    def _check_definitions(self) -> None:
        for child in self.root:
            local = _bpmn_local(child)
            if local == "message":
                if not child.get("id"):
                    self.problems.add(child, "a message has no id")
                else:
                    self.messages.add(child.get("id"))
            elif local == "signal" and child.get("id"):
                self.signals.add(child.get("id"))
            elif local == "error" and child.get("id"):
                self.errors.add(child.get("id"))
            elif local == "escalation" and child.get("id"):
                self.escalations.add(child.get("id"))
            elif local == "dataStore":
                self.problems.add(child, "data stores are not supported by flowdesk")
            elif local in ("choreography", "globalConversation"):
                self.problems.add(child, f"{_label(local)}s are not supported by flowdesk")
        for prop in self.root.iter(_bpmn("correlationProperty")):
            expressions = _bpmn_children(prop, "correlationPropertyRetrievalExpression")
            if not expressions:
                self.problems.add(
                    prop, "the correlation property has no retrieval expression for any message"
                )
            for expression in expressions:
                if not expression.get("messageRef"):
                    self.problems.add(
                        prop, "a retrieval expression of the correlation property names no message"
                    )

    def _check_collaborations(self) -> None:
        for flow in self.root.iter(_bpmn("messageFlow")):
            ref = flow.get("messageRef")
            if ref and ref.strip() not in self.messages:
                self.problems.add(
                    flow,
                    f"the message flow refers to message '{ref}', which the file does not define",
                )

    # -- processes and subprocesses

    def _check_process(self, process: etree._Element) -> None:
        if not process.get("id"):
            self.problems.add(process, "the process has no id")
        self._check_lanes(process)
        self._check_container(process, parent=None)

    def _check_lanes(self, process: etree._Element) -> None:
        for lane in process.iter(_bpmn("lane")):
            if any(_bpmn_children(s, "lane") for s in _bpmn_children(lane, "childLaneSet")):
                # A lane holding lanes only groups them; its child lanes own the tasks.
                continue
            name = _clean(lane.get("name"))
            if name is None:
                self.problems.add(
                    lane,
                    f"the lane has no name; name it after the department that owns its tasks: "
                    f"{_department_hint()}",
                )
                self.reported_lanes.add(lane)
            elif department_for_lane(name) is None:
                self.problems.add(
                    lane,
                    f"the lane '{name}' does not name a department; use {_department_hint()}",
                )
                self.reported_lanes.add(lane)

    def _check_container(self, container: etree._Element, parent: etree._Element | None) -> None:
        """Check the flow nodes and sequence flows directly inside a process or subprocess."""
        container_local = _bpmn_local(container)
        nodes: dict[str, etree._Element] = {}
        flows: list[etree._Element] = []
        for child in container:
            local = _bpmn_local(child)
            if local is None:
                continue
            if local in FLOW_NODES:
                if not child.get("id"):
                    self.problems.add(child, f"{_a(_label(local))} has no id")
                else:
                    nodes[child.get("id")] = child
            elif local == "sequenceFlow":
                flows.append(child)
            elif local == "dataStoreReference":
                self.problems.add(child, "data stores are not supported by flowdesk")
            elif local in (
                "implicitThrowEvent",
                "callChoreography",
                "subChoreography",
                "choreographyTask",
            ):
                self.problems.add(child, f"{_label(local)} elements are not supported by flowdesk")
            elif local not in DESCRIPTIVE_CHILDREN:
                self.problems.add(child, f"{_label(local)} elements are not supported by flowdesk")

        outgoing: dict[str, list[etree._Element]] = defaultdict(list)
        incoming: dict[str, list[etree._Element]] = defaultdict(list)
        for flow in flows:
            source, target = (
                (flow.get("sourceRef") or "").strip(),
                (flow.get("targetRef") or "").strip(),
            )
            broken = False
            for end, ref in (("starts at", source), ("leads to", target)):
                if not ref:
                    self.problems.add(
                        flow,
                        f"the sequence flow has no {'source' if end == 'starts at' else 'target'}",
                    )
                    broken = True
                elif ref not in nodes:
                    self.problems.add(
                        flow,
                        f"the sequence flow {end} '{ref}', which is not a task, event or gateway "
                        f"of the same process or subprocess",
                    )
                    broken = True
            if broken:
                continue
            outgoing[source].append(flow)
            incoming[target].append(flow)
            source_local = _bpmn_local(nodes[source])
            if (
                _text(flow.find(f".//{_bpmn('conditionExpression')}"))
                and source_local not in CONDITIONAL_GATEWAYS
            ):
                self.problems.add(
                    flow,
                    "the sequence flow has a condition, but flowdesk evaluates conditions only on "
                    "flows leaving an exclusive or inclusive gateway; route it through a gateway",
                )

        starts = [n for n in nodes.values() if _bpmn_local(n) == "startEvent"]
        ends = [n for n in nodes.values() if _bpmn_local(n) == "endEvent"]
        if container_local == "process":
            if not starts:
                self.problems.add(container, "the process has no start event")
        elif container_local in SUBPROCESSES:
            what = (
                "event subprocess"
                if _is_true(container.get("triggeredByEvent"))
                else _label(container_local)
            )
            if len(starts) != 1:
                self.problems.add(
                    container, f"the {what} needs exactly one start event (it has {len(starts)})"
                )
            if not ends:
                self.problems.add(container, f"the {what} needs an end event")

        for node_id, node in nodes.items():
            self._check_node(node, container, parent, nodes, outgoing[node_id], incoming[node_id])

        if starts:
            self._check_reachable(nodes, starts, outgoing)

    def _check_reachable(
        self,
        nodes: dict[str, etree._Element],
        starts: list[etree._Element],
        outgoing: dict[str, list[etree._Element]],
    ) -> None:
        attached: dict[str, list[str]] = defaultdict(list)
        for node_id, node in nodes.items():
            if _bpmn_local(node) == "boundaryEvent" and node.get("attachedToRef"):
                attached[node.get("attachedToRef").strip()].append(node_id)
        seen = {n.get("id") for n in starts}
        queue = list(seen)
        while queue:
            current = queue.pop()
            following = [(f.get("targetRef") or "").strip() for f in outgoing.get(current, [])]
            for nxt in following + attached.get(current, []):
                if nxt in nodes and nxt not in seen:
                    seen.add(nxt)
                    queue.append(nxt)
        for node_id, node in nodes.items():
            local = _bpmn_local(node)
            if (
                node_id in seen
                or local == "boundaryEvent"
                or _is_true(node.get("isForCompensation"))
            ):
                continue
            if local == "subProcess" and _is_true(node.get("triggeredByEvent")):
                continue
            self.problems.add(
                node,
                f"the {_label(local or '')} cannot be reached: no path of sequence flows "
                f"leads to it from a start event",
            )

    def _check_node(
        self,
        node: etree._Element,
        container: etree._Element,
        parent: etree._Element | None,
        nodes: dict[str, etree._Element],
        outgoing: list[etree._Element],
        incoming: list[etree._Element],
    ) -> None:
        local = _bpmn_local(node) or ""
        label = _label(local)
        if local in UNSUPPORTED_NODES:
            self.problems.add(node, UNSUPPORTED_NODES[local])
        if _is_true(node.get("isForCompensation")):
            self.problems.add(node, "compensation is not supported by flowdesk")
        if len(outgoing) > 1 and local not in GATEWAYS and local != "startEvent":
            self.problems.add(
                node,
                f"the {label} has {len(outgoing)} outgoing sequence flows; flowdesk needs a "
                f"gateway to split the flow (add a parallel or exclusive gateway after it)",
            )
        if local == "endEvent" and outgoing:
            self.problems.add(node, "an end event cannot have outgoing sequence flows")
        if local in ("startEvent", "boundaryEvent") and incoming:
            self.problems.add(node, f"{_a(label)} cannot have incoming sequence flows")

        self._check_spiff_extensions(node)
        self._check_data_associations(node, container, parent)
        if local in ACTIVITIES:
            self._check_loops(node)

        if local in HUMAN_TASKS:
            self._check_department(node)
            for message in sla_problems(self._spiff_properties(node)):
                self.problems.add(node, message)
        elif local == "scriptTask":
            self._check_script_task(node)
        elif local == "businessRuleTask":
            self._check_business_rule(node)
        elif local == "callActivity":
            self._check_call_activity(node)
        elif local in SUBPROCESSES:
            self._check_container(node, parent=container)
        elif local in CONDITIONAL_GATEWAYS:
            self._check_gateway(node, outgoing)
        elif local == "eventBasedGateway":
            self._check_event_gateway(node, outgoing, nodes)
        elif local in EVENTS:
            self._check_event(node, nodes)

    # -- departments

    def _effective_lane(self, node: etree._Element) -> etree._Element | None:
        """Return the lane SpiffWorkflow gives a node: its enclosing subprocess's, else its own."""
        enclosing = node.getparent()
        if enclosing is not None and _bpmn_local(enclosing) in SUBPROCESSES | {"adHocSubProcess"}:
            lane = self._effective_lane(enclosing)
            if lane is not None and lane.get("name") is not None:
                return lane
        return self.lane_of.get(node.get("id") or "")

    def _check_department(self, node: etree._Element) -> None:
        label = _label(_bpmn_local(node) or "")
        properties = self._spiff_properties(node)
        if "department" in properties:
            message = _department_property_problem(properties["department"])
            if message:
                self.problems.add(node, message)
            return
        lane = self._effective_lane(node)
        if lane is None or _clean(lane.get("name")) is None:
            if lane is not None and lane in self.reported_lanes:
                return
            self.problems.add(
                node,
                f"the {label} has no department: put it in a lane named after a department "
                f"or give it a spiff property 'department'",
            )
            return
        if department_for_lane(lane.get("name")) is None and lane not in self.reported_lanes:
            self.problems.add(
                node,
                f"the {label} is in the lane '{_clean(lane.get('name'))}', which does not name "
                f"a department; put it in a department's lane or give it a spiff property "
                f"'department'",
            )

    def _spiff_properties(self, node: etree._Element) -> dict[str, str]:
        properties: dict[str, str] = {}
        for ext in _spiff_extensions(node):
            if etree.QName(ext).localname == "properties":
                for prop in ext.iter(_spiff("property")):
                    if prop.get("name") is not None and prop.get("value") is not None:
                        properties[prop.get("name")] = prop.get("value")
        return properties

    def _check_spiff_extensions(self, node: etree._Element) -> None:
        for ext in _spiff_extensions(node):
            kind = etree.QName(ext).localname
            if kind == "properties":
                for prop in ext.iter(_spiff("property")):
                    if prop.get("name") is None or prop.get("value") is None:
                        self.problems.add(node, "a spiff property needs both a name and a value")
            elif kind in ("preScript", "postScript") and _text(ext):
                message = check_script(ext.text or "")
                if message:
                    what = "pre-script" if kind == "preScript" else "post-script"
                    self.problems.add(node, f"the {what} is refused: {message}")

    # -- data

    def _check_data_associations(
        self, node: etree._Element, container: etree._Element, parent: etree._Element | None
    ) -> None:
        # SpiffWorkflow looks a data object up in the node's own (sub)process and the one
        # around it only, and loops forever when it is anywhere else: refuse that here.
        ends = [
            ref
            for local, end in (
                ("dataInputAssociation", "sourceRef"),
                ("dataOutputAssociation", "targetRef"),
            )
            for assoc in _bpmn_children(node, local)
            for ref in _bpmn_children(assoc, end)
        ]
        if not ends:
            return
        scopes = [container] + ([parent] if parent is not None else [])
        available = {
            obj.get("id") for scope in scopes for obj in _bpmn_children(scope, "dataObject")
        }
        for ref in ends:
            ref_id = _text(ref)
            target = self.by_id.get(ref_id)
            target_local = _bpmn_local(target) if target is not None else None
            if target_local == "dataStoreReference":
                self.problems.add(node, "data stores are not supported by flowdesk")
            elif target_local != "dataObjectReference":
                what = _clean(target.get("name")) if target is not None else None
                self.problems.add(
                    node,
                    f"the data association uses '{what or ref_id}', which is not a data object; "
                    f"flowdesk passes data only through data objects",
                )
            elif target is None or (target.get("dataObjectRef") or "").strip() not in available:
                self.problems.add(
                    node,
                    f"the data object reference '{ref_id}' points to a data object that is not "
                    f"defined in this process or subprocess, or the one around it",
                )

    # -- loops

    def _check_loops(self, node: etree._Element) -> None:
        for loop in _bpmn_children(node, "standardLoopCharacteristics"):
            maximum = loop.get("loopMaximum")
            condition = _text(loop.find(_bpmn("loopCondition")))
            if maximum is None and not condition:
                self.problems.add(node, "the loop needs a loop condition or a loop maximum")
            if maximum is not None and not maximum.strip().isdigit():
                self.problems.add(node, f"the loop maximum '{maximum}' is not a whole number")
            if condition:
                self._expression(node, condition, "the loop condition")
        for mi in _bpmn_children(node, "multiInstanceLoopCharacteristics"):
            cardinality = mi.find(_bpmn("loopCardinality"))
            collection = mi.find(_bpmn("loopDataInputRef"))
            if cardinality is None and collection is None:
                hint = ""
                if mi.get(f"{{{CAMUNDA_NS}}}collection"):
                    hint = " (camunda:collection is not read by flowdesk)"
                self.problems.add(
                    node,
                    "the multi-instance activity needs a loop cardinality or an input "
                    f"collection (loopDataInputRef){hint}",
                )
            elif cardinality is not None and collection is not None:
                self.problems.add(
                    node,
                    "the multi-instance activity has both a loop cardinality and an input "
                    "collection; keep one",
                )
            if cardinality is not None:
                if not _text(cardinality):
                    self.problems.add(
                        node, "the loop cardinality of the multi-instance activity is empty"
                    )
                else:
                    self._expression(node, _text(cardinality), "the loop cardinality")
            for ref, what in (
                (collection, "input"),
                (mi.find(_bpmn("loopDataOutputRef")), "output"),
            ):
                if ref is not None and not _text(ref).isidentifier():
                    self.problems.add(
                        node,
                        f"the {what} collection of the multi-instance activity must name a "
                        f"variable, not '{_text(ref)}'",
                    )
            condition = _text(mi.find(_bpmn("completionCondition")))
            if condition:
                self._expression(node, condition, "the completion condition")

    def _expression(self, element: etree._Element, source: str, what: str) -> None:
        message = check_expression(source)
        if message:
            self.problems.add(element, f"{what} is not a valid expression: {message}")

    # -- task kinds

    def _check_script_task(self, node: etree._Element) -> None:
        script_format = (node.get("scriptFormat") or "").strip()
        if script_format and "python" not in script_format.lower():
            self.problems.add(
                node,
                f"the script is written in '{script_format}'; flowdesk runs Python scripts only",
            )
        scripts = node.findall(f".//{_bpmn('script')}")
        if not scripts or not _text(scripts[0]):
            self.problems.add(node, "the script task has no script")
            return
        if len(scripts) > 1:
            self.problems.add(node, "the script task has more than one script")
        message = check_script(scripts[0].text or "")
        if message:
            self.problems.add(node, f"the script is refused: {message}")

    def _check_business_rule(self, node: etree._Element) -> None:
        decision = _called_decision(node)
        if not decision:
            hint = ""
            if node.get(f"{{{CAMUNDA_NS}}}decisionRef"):
                hint = " (camunda:decisionRef is not read by flowdesk)"
            self.problems.add(
                node,
                f"the business rule task names no decision: set spiff:calledDecisionId{hint}",
            )
        elif decision not in self.known.decisions:
            self.problems.add(
                node,
                f"the business rule task calls the decision '{decision}', which is neither in "
                f"the files being deployed nor among the deployed decisions",
            )

    def _check_call_activity(self, node: etree._Element) -> None:
        called = (node.get("calledElement") or "").strip()
        if not called:
            self.problems.add(node, "the call activity names no process to call (calledElement)")
        elif called in self.known.executable:
            return
        elif called in self.known.non_executable:
            self.problems.add(
                node,
                f"the call activity calls the process '{called}', which is not marked executable",
            )
        else:
            self.problems.add(
                node,
                f"the call activity calls the process '{called}', which is neither in the files "
                f"being deployed nor among the deployed processes",
            )

    # -- gateways

    def _check_gateway(self, node: etree._Element, outgoing: list[etree._Element]) -> None:
        label = _label(_bpmn_local(node) or "")
        default = (node.get("default") or "").strip()
        flow_ids = {f.get("id") for f in outgoing}
        if default and default not in flow_ids:
            self.problems.add(
                node, f"the default flow '{default}' is not one of the flows leaving the {label}"
            )
        unconditioned = []
        for flow in outgoing:
            condition = _text(flow.find(f".//{_bpmn('conditionExpression')}"))
            if condition:
                message = check_expression(condition)
                if message:
                    self.problems.add(flow, f"the condition is not a valid expression: {message}")
            elif flow.get("id") != default:
                unconditioned.append(flow.get("id") or "?")
        if len(outgoing) > 1 and unconditioned:
            self.problems.add(
                node,
                f"the {label} has flows without a condition that are not its default flow "
                f"({', '.join(unconditioned)}); give each a condition or mark one as the default",
            )

    def _check_event_gateway(
        self, node: etree._Element, outgoing: list[etree._Element], nodes: dict[str, etree._Element]
    ) -> None:
        for flow in outgoing:
            target = nodes.get((flow.get("targetRef") or "").strip())
            if target is not None and _bpmn_local(target) not in (
                "intermediateCatchEvent",
                "receiveTask",
            ):
                self.problems.add(
                    node,
                    "an event-based gateway must lead only to catch events (message, signal or "
                    f"timer); '{target.get('id')}' is not one",
                )

    # -- events

    def _check_event(self, node: etree._Element, nodes: dict[str, etree._Element]) -> None:
        local = _bpmn_local(node) or ""
        label = _label(local)
        definitions = [
            child
            for child in node
            if (_bpmn_local(child) or "").endswith("EventDefinition")
            or _bpmn_local(child) == "eventDefinitionRef"
        ]
        allowed = ALLOWED_EVENT_DEFINITIONS[local]
        for definition in definitions:
            def_local = _bpmn_local(definition) or ""
            kind = def_local.removesuffix("EventDefinition")
            if def_local == "eventDefinitionRef" or kind not in KNOWN_EVENT_DEFINITIONS:
                self.problems.add(
                    node, f"the {label} uses an event definition flowdesk does not support"
                )
                continue
            if kind in ("compensate", "link"):
                self.problems.add(node, f"{kind} events are not supported by flowdesk")
                continue
            if kind not in allowed:
                self.problems.add(node, f"{_a(kind)} event cannot be used as {_a(label)}")
                continue
            getattr(self, f"_check_{kind}_definition", lambda *_: None)(node, definition)
        if local == "boundaryEvent":
            if not definitions:
                self.problems.add(
                    node,
                    "the boundary event has no trigger: make it a timer, message, signal, "
                    "error, escalation or conditional event",
                )
            attached = (node.get("attachedToRef") or "").strip()
            target = nodes.get(attached)
            if target is None or _bpmn_local(target) not in ACTIVITIES:
                self.problems.add(
                    node,
                    f"the boundary event is attached to '{attached}', which is not an activity "
                    "of the same process or subprocess",
                )
            elif _bpmn_local(target) != "transaction" and any(
                _bpmn_local(d) == "cancelEventDefinition" for d in definitions
            ):
                self.problems.add(node, "cancel events can only be attached to a transaction")

    def _check_message_definition(self, node: etree._Element, definition: etree._Element) -> None:
        ref = (definition.get("messageRef") or "").strip()
        if not ref:
            self.problems.add(
                node, "the message event names no message; choose or create a message for it"
            )
        elif ref not in self.messages:
            self.problems.add(
                node, f"the message event refers to message '{ref}', which the file does not define"
            )

    def _check_signal_definition(self, node: etree._Element, definition: etree._Element) -> None:
        self._check_ref(node, definition.get("signalRef"), self.signals, "signal")

    def _check_error_definition(self, node: etree._Element, definition: etree._Element) -> None:
        self._check_ref(node, definition.get("errorRef"), self.errors, "error")

    def _check_escalation_definition(
        self, node: etree._Element, definition: etree._Element
    ) -> None:
        self._check_ref(node, definition.get("escalationRef"), self.escalations, "escalation")

    def _check_ref(
        self, node: etree._Element, ref: str | None, defined: set[str], what: str
    ) -> None:
        if ref and ref.strip() not in defined:
            self.problems.add(
                node, f"the {what} event refers to {what} '{ref}', which the file does not define"
            )

    def _check_conditional_definition(
        self, node: etree._Element, definition: etree._Element
    ) -> None:
        condition = _text(definition.find(_bpmn("condition")))
        if not condition:
            self.problems.add(node, "the conditional event has no condition")
        else:
            self._expression(node, condition, "the event's condition")

    def _check_timer_definition(self, node: etree._Element, definition: etree._Element) -> None:
        times = [c for c in definition if _bpmn_local(c) in TIMER_WORDS]
        if not times:
            self.problems.add(node, "the timer has no time: set a date, a duration or a cycle")
            return
        if len(times) > 1:
            self.problems.add(
                node, "the timer sets more than one of date, duration and cycle; keep one"
            )
        kind = _bpmn_local(times[0]) or "timeDuration"
        message = _timer_problem(kind, _text(times[0]))
        if message:
            self.problems.add(node, message)


def _department_property_problem(value: str) -> str | None:
    """Return what is wrong with a `department` property expression, or None."""
    text = value.strip()
    if not text:
        return "the spiff property 'department' is empty"
    if department_for_lane(text) is not None:
        # A bare `engineering` is a variable name to the evaluator, not the department.
        return (
            f"the spiff property 'department' is an expression, so {text} is read as a "
            f'variable; quote the department: "{text}"'
        )
    message = check_expression(text)
    if message:
        return f"the spiff property 'department' is not a valid expression: {message}"
    is_literal, literal = _literal(text)
    if is_literal and (not isinstance(literal, str) or department_for_lane(literal) is None):
        return (
            f"the spiff property 'department' gives {literal!r}, which is not a department; "
            f"use {_department_hint()}"
        )
    return None


def _timer_problem(kind: str, text: str) -> str | None:
    """Return what is wrong with a timer expression, or None."""
    word = TIMER_WORDS[kind]
    example = TIMER_EXAMPLES[kind]
    if not text:
        return f"the timer's {word} is empty; give an expression such as {example}"
    if UNQUOTED_ISO.fullmatch(text):
        return (
            f"the timer {word} {text} is read as a Python expression, where it means nothing; "
            f'quote the {word}: "{text}"'
        )
    message = check_expression(text)
    if message:
        return f"the timer {word} is not a valid expression: {message}; for example {example}"
    is_literal, literal = _literal(text)
    if not is_literal:
        return None  # computed from process data; checked when the timer starts
    if not isinstance(literal, str):
        return f"the timer {word} must be text such as {example}, not {literal!r}"
    try:
        if kind == "timeDuration":
            TimerEventDefinition.parse_iso_duration(literal)
        elif kind == "timeCycle":
            TimerEventDefinition.parse_iso_recurring_interval(literal)
        elif not isinstance(TimerEventDefinition.parse_time_or_duration(literal), datetime):
            raise ValueError("not a date")
    except Exception:  # noqa: BLE001 - any failure means the text is not ISO 8601
        standard = {"date": "date and time", "duration": "duration", "cycle": "repeating interval"}
        return f'the timer {word} "{literal}" is not an ISO 8601 {standard[word]} such as {example}'
    return None


# --------------------------------------------------------------------------- DMN checks


def _check_dmn(doc: _Document, problems: _Problems) -> None:
    root = doc.root
    ns = etree.QName(root).namespace
    nsmap = root.nsmap
    if not (nsmap.get(None) == ns or (None not in nsmap and nsmap.get("dmn") == ns)):
        problems.add(
            root,
            "write the DMN namespace as the default namespace (xmlns=...) or with the prefix dmn",
        )

    def q(local: str) -> str:
        return f"{{{ns}}}{local}"

    decisions = root.findall(q("decision"))
    for nested in root.iter(q("decision")):
        if nested.getparent() is not root:
            problems.add(nested, "the decision must sit directly inside the DMN definitions")
    if not decisions:
        problems.add(root, "the DMN file defines no decision")
        return
    if len(decisions) > 1:
        names = ", ".join(d.get("id") or "?" for d in decisions)
        problems.add(
            root,
            f"flowdesk reads one decision per DMN file; this one has {len(decisions)} ({names}): "
            f"put each in a file of its own",
        )
    for decision in decisions:
        if not decision.get("id"):
            problems.add(decision, "the decision has no id")
        tables = decision.findall(q("decisionTable"))
        if not tables:
            problems.add(
                decision, "the decision has no decision table; flowdesk runs decision tables only"
            )
            continue
        for table in tables:
            _check_decision_table(table, q, problems)


def _entry_text(entry: etree._Element) -> str | None:
    """Return an entry's text as SpiffWorkflow reads it (the last `text` child), None if none."""
    texts = [child for child in entry if isinstance(child.tag, str) and child.tag.endswith("text")]
    return _text(texts[-1]) if texts else None


def _check_decision_table(table: etree._Element, q, problems: _Problems) -> None:  # type: ignore[no-untyped-def]
    policy = (table.get("hitPolicy") or "UNIQUE").strip().upper()
    if policy not in SUPPORTED_HIT_POLICIES:
        problems.add(
            table, f"the hit policy {policy} is not supported; use UNIQUE, FIRST, ANY or COLLECT"
        )
    if table.get("aggregation"):
        problems.add(table, f"the aggregation {table.get('aggregation')} is not supported")
    if not table.get("id"):
        problems.add(table, "the decision table has no id")
    inputs: list[etree._Element] = []
    outputs: list[etree._Element] = []
    rules: list[etree._Element] = []
    for child in table:
        if not isinstance(child.tag, str):
            continue
        local = etree.QName(child).localname
        if local in ("input", "output") and rules:
            # SpiffWorkflow reads the table top to bottom: a rule cannot use a later column.
            problems.add(child, "the columns of a decision table must come before its rules")
        if local == "input":
            inputs.append(child)
        elif local == "output":
            outputs.append(child)
        elif local == "rule":
            rules.append(child)
        else:
            problems.add(
                child, f"the decision table holds a {local} element, which flowdesk cannot read"
            )
    for column in inputs + outputs:
        if not column.get("id"):
            problems.add(column, "a column of the decision table has no id")
    for column in inputs:
        label = column.get("label") or column.get("id")
        expression = _text(column.find(f"{q('inputExpression')}/{q('text')}"))
        if not expression:
            problems.add_raw(column.get("id"), label, "the input column has no expression")
            continue
        message = check_expression(expression)
        if message:
            problems.add_raw(
                column.get("id"), label, f"the input expression is not valid: {message}"
            )
    for column in outputs:
        if not (column.get("name") or column.get("label")):
            problems.add(column, "the output column has no name: name the variable it sets")
    for number, rule in enumerate(rules, start=1):
        _check_rule(rule, f"rule {number}", inputs, outputs, problems)


def _check_rule(
    rule: etree._Element,
    where: str,
    inputs: list[etree._Element],
    outputs: list[etree._Element],
    problems: _Problems,
) -> None:
    if not rule.get("id"):
        problems.add(rule, f"{where} has no id")
    entries, results = [], []
    for child in rule:
        if isinstance(child.tag, str) and child.tag.endswith("inputEntry"):
            entries.append(child)
        elif isinstance(child.tag, str) and child.tag.endswith("outputEntry"):
            results.append(child)
    if len(entries) > len(inputs) or len(results) > len(outputs):
        problems.add(rule, f"{where} has more entries than the table has columns")
        return
    for entry, column in zip(entries, inputs, strict=False):
        label = column.get("label") or column.get("id")
        if not entry.get("id"):
            problems.add(rule, f"{where} has an input entry without an id")
        text = _entry_text(entry)
        if text is None:
            problems.add(rule, f"{where}, input '{label}': the entry has no text (use - for any)")
            continue
        message = _input_entry_problem(text)
        if message:
            problems.add(rule, f"{where}, input '{label}': {message}")
    for entry, column in zip(results, outputs, strict=False):
        label = column.get("name") or column.get("label") or column.get("id")
        if not entry.get("id"):
            problems.add(rule, f"{where} has an output entry without an id")
        text = _entry_text(entry)
        message = check_expression(text) if text else None
        if message:
            problems.add(rule, f"{where}, output '{label}': the value is not valid: {message}")


def _input_entry_problem(text: str) -> str | None:
    """Check a rule's input entry the ways SpiffWorkflow's DMN engine reads it."""
    if not text or text == "-":
        return None
    if "?" in text:
        # `4 < ? < 6`: the engine puts the input where the question mark is.
        message = check_expression(text.replace("?", "dmninputexpr"))
        return f"the test is not valid: {message}" if message else None
    if check_expression(text) is None or check_expression(f"dmninputexpr {text}") is None:
        return None
    return f"the test is not valid: {check_expression(text)}"


# --------------------------------------------------------------------------- entry point


def _load(filename: str, content: bytes, max_bytes: int, problems: _Problems) -> _Document | None:
    try:
        root = parse_xml(content, filename=filename, max_bytes=max_bytes)
    except InvalidBpmn as exc:
        problems.items.extend(exc.problems)
        return None
    kind = _kind_of(root)
    if kind is None:
        problems.add_raw(
            None,
            None,
            f"the file is not a BPMN 2.0 or DMN file: its root element is {_describe_root(root)}, "
            f"expected bpmn:definitions or a DMN definitions element",
        )
        return None
    _normalise_references(root)
    doc = _Document(filename=filename, content=content, root=root, kind=kind)
    _index_document(doc)
    return doc


def _library_documents(
    library: Iterable[tuple[str, bytes]], targets: Sequence[_Document], max_bytes: int
) -> list[_Document]:
    """Load the deployed files other processes may call, minus what the targets redefine."""
    taken_processes = {pid for d in targets for pid in d.process_ids + d.subprocess_ids}
    taken_decisions = {did for d in targets for did in d.decision_ids}
    loaded: list[_Document] = []
    for filename, content in library:
        doc = _load(filename, content, max_bytes, _Problems(filename))
        if doc is None:
            continue
        if doc.kind == "dmn":
            if not doc.decision_ids or set(doc.decision_ids) & taken_decisions:
                continue
            taken_decisions.update(doc.decision_ids)
            loaded.append(doc)
            continue
        replaced = set(doc.process_ids) & taken_processes
        if replaced:
            # The files being deployed bring new versions of these processes.
            doc.root = copy.deepcopy(doc.root)
            for process in _bpmn_children(doc.root, "process"):
                if process.get("id") in replaced:
                    doc.root.remove(process)
            doc.process_ids, doc.executable_ids, doc.subprocess_ids = [], [], []
            _index_document(doc)
        if set(doc.process_ids + doc.subprocess_ids) & taken_processes or not doc.process_ids:
            continue
        taken_processes.update(doc.process_ids + doc.subprocess_ids)
        loaded.append(doc)
    return loaded


def _check_cross_file_ids(targets: Sequence[_Document], problems: dict[str, _Problems]) -> None:
    owner: dict[str, str] = {}
    for doc in targets:
        for pid in doc.process_ids + doc.subprocess_ids + doc.decision_ids:
            if pid in owner and owner[pid] != doc.filename:
                problems[doc.filename].add_raw(
                    pid,
                    None,
                    f"the id '{pid}' is also a process, subprocess or decision of {owner[pid]}",
                )
            else:
                owner.setdefault(pid, doc.filename)


def _spiff_problem(
    exc: Exception, fallback_id: str | None, fallback_name: str | None
) -> BpmnProblem:
    """Turn anything SpiffWorkflow raised into a problem naming the element it blamed."""
    element_id, name = fallback_id, fallback_name
    if isinstance(exc, ValidationException) and exc.id:
        element_id, name = exc.id, exc.name or None
    if isinstance(exc, ValidationException):
        parts = [str(exc.args[0]) if exc.args else "", *getattr(exc, "notes", [])]
        detail = ". ".join(p.strip() for p in parts if p and p.strip()) or "invalid"
    else:
        detail = repr(exc)
    if "RecursionError" in detail or isinstance(exc, RecursionError):
        # SpiffWorkflow parses a chain of steps recursively, one stack frame set per step.
        element_id, name = fallback_id, fallback_name
        detail = (
            "the process has too many steps in a row for the parser (a few hundred at most); "
            "split it into call activities"
        )
    return BpmnProblem(element_id or None, _clean(name), f"cannot parse: {detail}")


def _process_name(doc: _Document, process_id: str) -> str:
    for process in _bpmn_children(doc.root, "process"):
        if process.get("id") == process_id and _clean(process.get("name")):
            return _clean(process.get("name")) or process_id
    for participant in doc.root.iter(_bpmn("participant")):
        if (participant.get("processRef") or "").strip() == process_id and _clean(
            participant.get("name")
        ):
            return _clean(participant.get("name")) or process_id
    return process_id


def _healthy(
    process_id: str,
    owner: dict[str, _Document],
    problems: dict[str, _Problems],
    decision_owner: dict[str, _Document],
    seen: set[str],
) -> bool:
    """Tell whether a process and every target process or decision it calls passed the walk."""
    if process_id in seen:
        return True
    seen.add(process_id)
    doc = owner.get(process_id)
    if doc is None:
        return True  # a library process: deployed before, so already validated
    if problems[doc.filename].file_level or problems[doc.filename].per_process[process_id]:
        return False
    for decision in doc.decisions_used.get(process_id, ()):
        dmn = decision_owner.get(decision)
        if dmn is not None and problems[dmn.filename].items:
            return False
    return all(
        _healthy(called, owner, problems, decision_owner, seen)
        for called in doc.calls.get(process_id, ())
    )


def parse_and_validate(
    files: list[tuple[str, bytes]],
    *,
    library: Sequence[tuple[str, bytes]] = (),
    max_bytes: int,
) -> tuple[list[ParsedFile], list[ParsedProcess]]:
    """Check BPMN/DMN files; return what is deployable or raise InvalidBpmn with every problem."""
    problems = {filename: _Problems(filename) for filename, _ in files}
    targets: list[_Document] = []
    for filename, content in files:
        doc = _load(filename, content, max_bytes, problems[filename])
        if doc is not None:
            targets.append(doc)
    _check_cross_file_ids(targets, problems)
    library_docs = _library_documents(library, targets, max_bytes)

    known = _Known()
    for doc in targets + library_docs:
        for pid in doc.process_ids:
            bucket = known.executable if pid in doc.executable_ids else known.non_executable
            bucket.setdefault(pid, doc.filename)
        for did in doc.decision_ids:
            known.decisions.setdefault(did, doc.filename)

    for doc in targets:
        try:
            if doc.kind == "bpmn":
                _BpmnChecker(doc, known, problems[doc.filename]).run()
            else:
                _check_dmn(doc, problems[doc.filename])
        except Exception as exc:  # noqa: BLE001 - a checker bug must not hide the file's problems
            problems[doc.filename].add_raw(None, None, f"cannot check the file: {exc!r}")

    processes = _build_specs(targets, library_docs, problems)

    found = _dedupe(p for filename, _ in files for p in problems[filename].items)
    if found:
        raise InvalidBpmn(found)
    parsed_files = [
        ParsedFile(
            filename=doc.filename,
            content=doc.content,
            kind=doc.kind,
            process_keys=list(doc.executable_ids),
            decision_ids=list(doc.decision_ids),
        )
        for doc in targets
    ]
    return parsed_files, processes


def _build_specs(
    targets: Sequence[_Document], library_docs: Sequence[_Document], problems: dict[str, _Problems]
) -> list[ParsedProcess]:
    """Let SpiffWorkflow build the specs of every process the walk found sound."""
    parser = SpiffBpmnParser()
    added: set[str] = set()
    target_ids = {id(doc) for doc in targets}
    for doc in list(targets) + list(library_docs):
        is_target = id(doc) in target_ids
        try:
            if doc.kind == "bpmn":
                parser.add_bpmn_xml(doc.root, filename=doc.filename)
            else:
                parser.add_dmn_xml(doc.root, filename=doc.filename)
            added.add(doc.filename)
        except Exception as exc:  # noqa: BLE001 - turned into a problem, never a traceback
            if is_target and not problems[doc.filename].items:
                problems[doc.filename].items.append(
                    _with_file(_spiff_problem(exc, None, None), doc.filename)
                )

    owner = {pid: doc for doc in targets if doc.kind == "bpmn" for pid in doc.process_ids}
    decision_owner = {did: doc for doc in targets if doc.kind == "dmn" for did in doc.decision_ids}
    processes: list[ParsedProcess] = []
    for doc in targets:
        if doc.filename not in added:
            continue
        file_problems = problems[doc.filename]
        if doc.kind == "dmn":
            if not file_problems.items:
                for decision_id in doc.decision_ids[:1]:
                    try:
                        parser.dmn_parsers[decision_id].parse()
                    except Exception as exc:  # noqa: BLE001
                        file_problems.items.append(
                            _with_file(_spiff_problem(exc, decision_id, None), doc.filename)
                        )
            continue
        for key in doc.executable_ids:
            name = _process_name(doc, key)
            if not _healthy(key, owner, problems, decision_owner, set()):
                continue
            try:
                spec = parser.get_spec(key)
                subprocess_specs = parser.get_subprocess_specs(key)
            except Exception as exc:  # noqa: BLE001 - turned into a problem, never a traceback
                file_problems.items.append(_with_file(_spiff_problem(exc, key, name), doc.filename))
                continue
            processes.append(ParsedProcess(key, name, doc.filename, spec, subprocess_specs))
    return processes


def _with_file(problem: BpmnProblem, filename: str) -> BpmnProblem:
    return BpmnProblem(problem.element_id, problem.element_name, problem.message, filename)


def _dedupe(found: Iterable[BpmnProblem]) -> list[BpmnProblem]:
    unique: dict[tuple, BpmnProblem] = {}
    for problem in found:
        unique.setdefault(
            (problem.file, problem.element_id, problem.element_name, problem.message), problem
        )
    return list(unique.values())
