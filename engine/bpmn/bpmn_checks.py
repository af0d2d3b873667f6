"""The checks of one BPMN document: every problem flowdesk can see in its XML, each
with the element's id and name and a plain-language message."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine.bpmn.document import (
    Document,
    KnownIds,
    Problems,
    a_or_an,
    are_numbers,
    bpmn_children,
    bpmn_local,
    bpmn_tag,
    called_decision,
    clean,
    department_hint,
    is_executable,
    is_true,
    label_of,
    literal_value,
    spiff_extensions,
    spiff_tag,
    text_of,
)
from engine.bpmn.script_engine import check_expression, check_script
from engine.bpmn.vocabulary import (
    ACTIVITIES,
    ALLOWED_EVENT_DEFINITIONS,
    ASSIGNMENT_PROPERTIES,
    BPMNDI_NS,
    CAMUNDA_NS,
    CONDITIONAL_GATEWAYS,
    DC_NS,
    DESCRIPTIVE_CHILDREN,
    EVENTS,
    FLOW_NODES,
    GATEWAYS,
    HUMAN_TASKS,
    KNOWN_EVENT_DEFINITIONS,
    SUBPROCESSES,
    TIMER_EXAMPLES,
    TIMER_WORDS,
    UNQUOTED_ISO,
    UNSUPPORTED_NODES,
)
from engine.departments import department_for_lane
from engine.sla.declarations import sla_problems

# --------------------------------------------------------------------------- BPMN checks


class BpmnChecker:
    """Walk one BPMN document and record every problem flowdesk can see in it."""

    def __init__(self, doc: Document, known: KnownIds, problems: Problems) -> None:
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
        processes = bpmn_children(self.root, "process")
        if not processes:
            self.problems.add(None, "the file defines no process")
        elif not any(is_executable(p) for p in processes):
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
            if bpmn_local(element) is None:
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
            if bounds is not None and not are_numbers(bounds.get("x", "0"), bounds.get("y", "0")):
                element_id = shape.get("bpmnElement")
                element = self.by_id.get(element_id or "")
                self.problems.add_raw(
                    element_id,
                    element.get("name") if element is not None else None,
                    "the diagram position of the element is not a number",
                )
        # As SpiffWorkflow does: the last lane listing a node (the innermost) owns it.
        for ref in self.root.iter(bpmn_tag("flowNodeRef")):
            node_id = text_of(ref)
            if node_id:
                self.lane_of[node_id] = ref.getparent()

    def _check_definitions(self) -> None:
        for child in self.root:
            local = bpmn_local(child)
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
                self.problems.add(child, f"{label_of(local)}s are not supported by flowdesk")
        for prop in self.root.iter(bpmn_tag("correlationProperty")):
            expressions = bpmn_children(prop, "correlationPropertyRetrievalExpression")
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
        for flow in self.root.iter(bpmn_tag("messageFlow")):
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
        for lane in process.iter(bpmn_tag("lane")):
            if any(bpmn_children(s, "lane") for s in bpmn_children(lane, "childLaneSet")):
                # A lane holding lanes only groups them; its child lanes own the tasks.
                continue
            name = clean(lane.get("name"))
            if name is None:
                self.problems.add(lane, key="bpmn_lane_unnamed", hint=department_hint())
                self.reported_lanes.add(lane)
            elif department_for_lane(name) is None:
                self.problems.add(
                    lane, key="bpmn_lane_no_department", name=name, hint=department_hint()
                )
                self.reported_lanes.add(lane)

    def _check_container(self, container: etree._Element, parent: etree._Element | None) -> None:
        """Check the flow nodes and sequence flows directly inside a process or subprocess."""
        container_local = bpmn_local(container)
        nodes: dict[str, etree._Element] = {}
        flows: list[etree._Element] = []
        for child in container:
            local = bpmn_local(child)
            if local is None:
                continue
            if local in FLOW_NODES:
                if not child.get("id"):
                    self.problems.add(child, f"{a_or_an(label_of(local))} has no id")
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
                self.problems.add(
                    child, f"{label_of(local)} elements are not supported by flowdesk"
                )
            elif local not in DESCRIPTIVE_CHILDREN:
                self.problems.add(
                    child, f"{label_of(local)} elements are not supported by flowdesk"
                )

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
            source_local = bpmn_local(nodes[source])
            if (
                text_of(flow.find(f".//{bpmn_tag('conditionExpression')}"))
                and source_local not in CONDITIONAL_GATEWAYS
            ):
                self.problems.add(
                    flow,
                    "the sequence flow has a condition, but flowdesk evaluates conditions only on "
                    "flows leaving an exclusive or inclusive gateway; route it through a gateway",
                )

        starts = [n for n in nodes.values() if bpmn_local(n) == "startEvent"]
        ends = [n for n in nodes.values() if bpmn_local(n) == "endEvent"]
        if container_local == "process":
            if not starts:
                self.problems.add(container, "the process has no start event")
        elif container_local in SUBPROCESSES:
            what = (
                "event subprocess"
                if is_true(container.get("triggeredByEvent"))
                else label_of(container_local)
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
            if bpmn_local(node) == "boundaryEvent" and node.get("attachedToRef"):
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
            local = bpmn_local(node)
            if (
                node_id in seen
                or local == "boundaryEvent"
                or is_true(node.get("isForCompensation"))
            ):
                continue
            if local == "subProcess" and is_true(node.get("triggeredByEvent")):
                continue
            self.problems.add(
                node,
                f"the {label_of(local or '')} cannot be reached: no path of sequence flows "
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
        local = bpmn_local(node) or ""
        label = label_of(local)
        if local in UNSUPPORTED_NODES:
            self.problems.add(node, UNSUPPORTED_NODES[local])
        if is_true(node.get("isForCompensation")):
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
            self.problems.add(node, f"{a_or_an(label)} cannot have incoming sequence flows")

        self._check_spiff_extensions(node)
        self._check_assignment_only_on_user_tasks(node, local)
        self._check_data_associations(node, container, parent)
        if local in ACTIVITIES:
            self._check_loops(node)

        if local in HUMAN_TASKS:
            self._check_department(node)
            self._check_assignee_variable(node)
            for key, params in sla_problems(self._spiff_properties(node)):
                self.problems.add(node, key=key, **params)
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
        if enclosing is not None and bpmn_local(enclosing) in SUBPROCESSES | {"adHocSubProcess"}:
            lane = self._effective_lane(enclosing)
            if lane is not None and lane.get("name") is not None:
                return lane
        return self.lane_of.get(node.get("id") or "")

    def _check_department(self, node: etree._Element) -> None:
        label = label_of(bpmn_local(node) or "")
        properties = self._spiff_properties(node)
        if "department" in properties:
            message = _department_property_problem(properties["department"])
            if message:
                self.problems.add(node, message)
            return
        lane = self._effective_lane(node)
        if lane is None or clean(lane.get("name")) is None:
            if lane is not None and lane in self.reported_lanes:
                return
            self.problems.add(node, key="bpmn_node_no_department", label=label)
            return
        if department_for_lane(lane.get("name")) is None and lane not in self.reported_lanes:
            self.problems.add(
                node, key="bpmn_node_lane_no_department", label=label, lane=clean(lane.get("name"))
            )

    def _check_assignee_variable(self, node: etree._Element) -> None:
        name = self._spiff_properties(node).get("assignee_variable")
        if name is not None and (not name.strip().isidentifier() or name.strip().startswith("_")):
            self.problems.add(
                node,
                f"the spiff property 'assignee_variable' is {name!r}; give the name of the "
                "case variable that follows the task's assignee (letters, digits and _, "
                "not starting with _ or a digit)",
            )

    def _check_assignment_only_on_user_tasks(self, node: etree._Element, local: str) -> None:
        if local in HUMAN_TASKS:
            return
        for name in sorted(ASSIGNMENT_PROPERTIES - {"department"}):
            if name in self._spiff_properties(node):
                self.problems.add(
                    node,
                    f"the spiff property '{name}' only means something on a user task",
                )

    def _spiff_properties(self, node: etree._Element) -> dict[str, str]:
        properties: dict[str, str] = {}
        for ext in spiff_extensions(node):
            if etree.QName(ext).localname == "properties":
                for prop in ext.iter(spiff_tag("property")):
                    if prop.get("name") is not None and prop.get("value") is not None:
                        properties[prop.get("name")] = prop.get("value")
        return properties

    def _check_spiff_extensions(self, node: etree._Element) -> None:
        for ext in spiff_extensions(node):
            kind = etree.QName(ext).localname
            if kind == "properties":
                for prop in ext.iter(spiff_tag("property")):
                    if prop.get("name") is None or prop.get("value") is None:
                        self.problems.add(node, "a spiff property needs both a name and a value")
            elif kind in ("preScript", "postScript") and text_of(ext):
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
            for assoc in bpmn_children(node, local)
            for ref in bpmn_children(assoc, end)
        ]
        if not ends:
            return
        scopes = [container] + ([parent] if parent is not None else [])
        available = {
            obj.get("id") for scope in scopes for obj in bpmn_children(scope, "dataObject")
        }
        for ref in ends:
            ref_id = text_of(ref)
            target = self.by_id.get(ref_id)
            target_local = bpmn_local(target) if target is not None else None
            if target_local == "dataStoreReference":
                self.problems.add(node, "data stores are not supported by flowdesk")
            elif target_local != "dataObjectReference":
                what = clean(target.get("name")) if target is not None else None
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
        for loop in bpmn_children(node, "standardLoopCharacteristics"):
            maximum = loop.get("loopMaximum")
            condition = text_of(loop.find(bpmn_tag("loopCondition")))
            if maximum is None and not condition:
                self.problems.add(node, "the loop needs a loop condition or a loop maximum")
            if maximum is not None and not maximum.strip().isdigit():
                self.problems.add(node, f"the loop maximum '{maximum}' is not a whole number")
            if condition:
                self._expression(node, condition, "the loop condition")
        for mi in bpmn_children(node, "multiInstanceLoopCharacteristics"):
            cardinality = mi.find(bpmn_tag("loopCardinality"))
            collection = mi.find(bpmn_tag("loopDataInputRef"))
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
                if not text_of(cardinality):
                    self.problems.add(
                        node, "the loop cardinality of the multi-instance activity is empty"
                    )
                else:
                    self._expression(node, text_of(cardinality), "the loop cardinality")
            for ref, what in (
                (collection, "input"),
                (mi.find(bpmn_tag("loopDataOutputRef")), "output"),
            ):
                if ref is not None and not text_of(ref).isidentifier():
                    self.problems.add(
                        node,
                        f"the {what} collection of the multi-instance activity must name a "
                        f"variable, not '{text_of(ref)}'",
                    )
            condition = text_of(mi.find(bpmn_tag("completionCondition")))
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
        scripts = node.findall(f".//{bpmn_tag('script')}")
        if not scripts or not text_of(scripts[0]):
            self.problems.add(node, "the script task has no script")
            return
        if len(scripts) > 1:
            self.problems.add(node, "the script task has more than one script")
        message = check_script(scripts[0].text or "")
        if message:
            self.problems.add(node, f"the script is refused: {message}")

    def _check_business_rule(self, node: etree._Element) -> None:
        decision = called_decision(node)
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
        label = label_of(bpmn_local(node) or "")
        default = (node.get("default") or "").strip()
        flow_ids = {f.get("id") for f in outgoing}
        if default and default not in flow_ids:
            self.problems.add(
                node, f"the default flow '{default}' is not one of the flows leaving the {label}"
            )
        unconditioned = []
        for flow in outgoing:
            condition = text_of(flow.find(f".//{bpmn_tag('conditionExpression')}"))
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
            if target is not None and bpmn_local(target) not in (
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
        local = bpmn_local(node) or ""
        label = label_of(local)
        definitions = [
            child
            for child in node
            if (bpmn_local(child) or "").endswith("EventDefinition")
            or bpmn_local(child) == "eventDefinitionRef"
        ]
        allowed = ALLOWED_EVENT_DEFINITIONS[local]
        for definition in definitions:
            def_local = bpmn_local(definition) or ""
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
                self.problems.add(node, f"{a_or_an(kind)} event cannot be used as {a_or_an(label)}")
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
            if target is None or bpmn_local(target) not in ACTIVITIES:
                self.problems.add(
                    node,
                    f"the boundary event is attached to '{attached}', which is not an activity "
                    "of the same process or subprocess",
                )
            elif bpmn_local(target) != "transaction" and any(
                bpmn_local(d) == "cancelEventDefinition" for d in definitions
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
        condition = text_of(definition.find(bpmn_tag("condition")))
        if not condition:
            self.problems.add(node, "the conditional event has no condition")
        else:
            self._expression(node, condition, "the event's condition")

    def _check_timer_definition(self, node: etree._Element, definition: etree._Element) -> None:
        times = [c for c in definition if bpmn_local(c) in TIMER_WORDS]
        if not times:
            self.problems.add(node, "the timer has no time: set a date, a duration or a cycle")
            return
        if len(times) > 1:
            self.problems.add(
                node, "the timer sets more than one of date, duration and cycle; keep one"
            )
        kind = bpmn_local(times[0]) or "timeDuration"
        message = _timer_problem(kind, text_of(times[0]))
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
    is_literal, literal = literal_value(text)
    if is_literal and (not isinstance(literal, str) or department_for_lane(literal) is None):
        return (
            f"the spiff property 'department' gives {literal!r}, which is not a department; "
            f"use {department_hint()}"
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
    is_literal, literal = literal_value(text)
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
