"""The checks of one BPMN document: every problem flowdesk can see in its XML, each
with the element's id and name and a plain-language message."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

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
            self.problems.add(None, key="bpmn_p_no_process")
        elif not any(is_executable(p) for p in processes):
            for process in processes:
                self.problems.add(process, key="bpmn_p_not_executable")
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
                self.problems.add(element, key="bpmn_p_duplicate_id", id=element_id)
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
                    key="bpmn_p_diagram_position",
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
                    self.problems.add(child, key="bpmn_p_message_no_id")
                else:
                    self.messages.add(child.get("id"))
            elif local == "signal" and child.get("id"):
                self.signals.add(child.get("id"))
            elif local == "error" and child.get("id"):
                self.errors.add(child.get("id"))
            elif local == "escalation" and child.get("id"):
                self.escalations.add(child.get("id"))
            elif local == "dataStore":
                self.problems.add(child, key="bpmn_p_data_store")
            elif local in ("choreography", "globalConversation"):
                self.problems.add(child, key="bpmn_p_unsupported_kinds", label=label_of(local))
        for prop in self.root.iter(bpmn_tag("correlationProperty")):
            expressions = bpmn_children(prop, "correlationPropertyRetrievalExpression")
            if not expressions:
                self.problems.add(prop, key="bpmn_p_correlation_no_expression")
            for expression in expressions:
                if not expression.get("messageRef"):
                    self.problems.add(prop, key="bpmn_p_correlation_no_message")

    def _check_collaborations(self) -> None:
        for flow in self.root.iter(bpmn_tag("messageFlow")):
            ref = flow.get("messageRef")
            if ref and ref.strip() not in self.messages:
                self.problems.add(flow, key="bpmn_p_message_flow_unknown", ref=ref)

    # -- processes and subprocesses

    def _check_process(self, process: etree._Element) -> None:
        if not process.get("id"):
            self.problems.add(process, key="bpmn_p_process_no_id")
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
                    self.problems.add(
                        child, key="bpmn_p_node_no_id", a_label=a_or_an(label_of(local))
                    )
                else:
                    nodes[child.get("id")] = child
            elif local == "sequenceFlow":
                flows.append(child)
            elif local == "dataStoreReference":
                self.problems.add(child, key="bpmn_p_data_store")
            elif local in (
                "implicitThrowEvent",
                "callChoreography",
                "subChoreography",
                "choreographyTask",
            ):
                self.problems.add(child, key="bpmn_p_unsupported_element", label=label_of(local))
            elif local not in DESCRIPTIVE_CHILDREN:
                self.problems.add(child, key="bpmn_p_unsupported_element", label=label_of(local))

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
                        key="bpmn_p_flow_no_source"
                        if end == "starts at"
                        else "bpmn_p_flow_no_target",
                    )
                    broken = True
                elif ref not in nodes:
                    self.problems.add(
                        flow,
                        key="bpmn_p_flow_bad_source"
                        if end == "starts at"
                        else "bpmn_p_flow_bad_target",
                        end=end,
                        ref=ref,
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
                self.problems.add(flow, key="bpmn_p_condition_outside_gateway")

        starts = [n for n in nodes.values() if bpmn_local(n) == "startEvent"]
        ends = [n for n in nodes.values() if bpmn_local(n) == "endEvent"]
        if container_local == "process":
            if not starts:
                self.problems.add(container, key="bpmn_p_no_start")
        elif container_local in SUBPROCESSES:
            what = (
                "event subprocess"
                if is_true(container.get("triggeredByEvent"))
                else label_of(container_local)
            )
            if len(starts) != 1:
                self.problems.add(
                    container, key="bpmn_p_subprocess_starts", what=what, count=len(starts)
                )
            if not ends:
                self.problems.add(container, key="bpmn_p_subprocess_no_end", what=what)

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
            self.problems.add(node, key="bpmn_p_unreachable", label=label_of(local or ""))

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
            self.problems.add(node, key=f"bpmn_p_unsupported_{local}")
        if is_true(node.get("isForCompensation")):
            self.problems.add(node, key="bpmn_p_compensation")
        if len(outgoing) > 1 and local not in GATEWAYS and local != "startEvent":
            self.problems.add(
                node, key="bpmn_p_split_without_gateway", label=label, count=len(outgoing)
            )
        if local == "endEvent" and outgoing:
            self.problems.add(node, key="bpmn_p_end_outgoing")
        if local in ("startEvent", "boundaryEvent") and incoming:
            self.problems.add(node, key="bpmn_p_incoming", a_label=a_or_an(label))

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
            problem = _department_property_problem(properties["department"])
            if problem:
                self.problems.add(node, key=problem[0], **problem[1])
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
            self.problems.add(node, key="bpmn_p_assignee_variable", value=repr(name))

    def _check_assignment_only_on_user_tasks(self, node: etree._Element, local: str) -> None:
        if local in HUMAN_TASKS:
            return
        for name in sorted(ASSIGNMENT_PROPERTIES - {"department"}):
            if name in self._spiff_properties(node):
                self.problems.add(node, key="bpmn_p_user_task_property", name=name)

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
                        self.problems.add(node, key="bpmn_p_property_incomplete")
            elif kind in ("preScript", "postScript") and text_of(ext):
                message = check_script(ext.text or "")
                if message:
                    what = "pre-script" if kind == "preScript" else "post-script"
                    self.problems.add(
                        node, key=f"bpmn_p_{kind.lower()}_refused", what=what, detail=message
                    )

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
                self.problems.add(node, key="bpmn_p_data_store")
            elif target_local != "dataObjectReference":
                what = clean(target.get("name")) if target is not None else None
                self.problems.add(node, key="bpmn_p_not_data_object", ref=what or ref_id)
            elif target is None or (target.get("dataObjectRef") or "").strip() not in available:
                self.problems.add(node, key="bpmn_p_data_object_unknown", ref=ref_id)

    # -- loops

    def _check_loops(self, node: etree._Element) -> None:
        for loop in bpmn_children(node, "standardLoopCharacteristics"):
            maximum = loop.get("loopMaximum")
            condition = text_of(loop.find(bpmn_tag("loopCondition")))
            if maximum is None and not condition:
                self.problems.add(node, key="bpmn_p_loop_no_limit")
            if maximum is not None and not maximum.strip().isdigit():
                self.problems.add(node, key="bpmn_p_loop_maximum", value=maximum)
            if condition:
                self._expression(node, condition, "the loop condition")
        for mi in bpmn_children(node, "multiInstanceLoopCharacteristics"):
            cardinality = mi.find(bpmn_tag("loopCardinality"))
            collection = mi.find(bpmn_tag("loopDataInputRef"))
            if cardinality is None and collection is None:
                hint = hint_zh = ""
                if mi.get(f"{{{CAMUNDA_NS}}}collection"):
                    hint = " (camunda:collection is not read by flowdesk)"
                    hint_zh = "（本平台不读取 camunda:collection）"
                self.problems.add(node, key="bpmn_p_mi_no_count", hint=hint, hint_zh=hint_zh)
            elif cardinality is not None and collection is not None:
                self.problems.add(node, key="bpmn_p_mi_both")
            if cardinality is not None:
                if not text_of(cardinality):
                    self.problems.add(node, key="bpmn_p_mi_cardinality_empty")
                else:
                    self._expression(node, text_of(cardinality), "the loop cardinality")
            for ref, what in (
                (collection, "input"),
                (mi.find(bpmn_tag("loopDataOutputRef")), "output"),
            ):
                if ref is not None and not text_of(ref).isidentifier():
                    self.problems.add(
                        node, key=f"bpmn_p_mi_{what}_collection", what=what, value=text_of(ref)
                    )
            condition = text_of(mi.find(bpmn_tag("completionCondition")))
            if condition:
                self._expression(node, condition, "the completion condition")

    def _expression(self, element: etree._Element, source: str, what: str) -> None:
        message = check_expression(source)
        if message:
            self.problems.add(element, key=EXPRESSION_KEYS[what], what=what, detail=message)

    # -- task kinds

    def _check_script_task(self, node: etree._Element) -> None:
        script_format = (node.get("scriptFormat") or "").strip()
        if script_format and "python" not in script_format.lower():
            self.problems.add(node, key="bpmn_p_script_format", format=script_format)
        scripts = node.findall(f".//{bpmn_tag('script')}")
        if not scripts or not text_of(scripts[0]):
            self.problems.add(node, key="bpmn_p_no_script")
            return
        if len(scripts) > 1:
            self.problems.add(node, key="bpmn_p_many_scripts")
        message = check_script(scripts[0].text or "")
        if message:
            self.problems.add(node, key="bpmn_p_script_refused", detail=message)

    def _check_business_rule(self, node: etree._Element) -> None:
        decision = called_decision(node)
        if not decision:
            hint = hint_zh = ""
            if node.get(f"{{{CAMUNDA_NS}}}decisionRef"):
                hint = " (camunda:decisionRef is not read by flowdesk)"
                hint_zh = "（本平台不读取 camunda:decisionRef）"
            self.problems.add(node, key="bpmn_p_no_decision", hint=hint, hint_zh=hint_zh)
        elif decision not in self.known.decisions:
            self.problems.add(node, key="bpmn_p_unknown_decision", decision=decision)

    def _check_call_activity(self, node: etree._Element) -> None:
        called = (node.get("calledElement") or "").strip()
        if not called:
            self.problems.add(node, key="bpmn_p_call_nothing")
        elif called in self.known.executable:
            return
        elif called in self.known.non_executable:
            self.problems.add(node, key="bpmn_p_call_not_executable", called=called)
        else:
            self.problems.add(node, key="bpmn_p_call_unknown", called=called)

    # -- gateways

    def _check_gateway(self, node: etree._Element, outgoing: list[etree._Element]) -> None:
        label = label_of(bpmn_local(node) or "")
        default = (node.get("default") or "").strip()
        flow_ids = {f.get("id") for f in outgoing}
        if default and default not in flow_ids:
            self.problems.add(node, key="bpmn_p_default_flow", default=default, label=label)
        unconditioned = []
        for flow in outgoing:
            condition = text_of(flow.find(f".//{bpmn_tag('conditionExpression')}"))
            if condition:
                message = check_expression(condition)
                if message:
                    self.problems.add(flow, key="bpmn_p_condition_invalid", detail=message)
            elif flow.get("id") != default:
                unconditioned.append(flow.get("id") or "?")
        if len(outgoing) > 1 and unconditioned:
            self.problems.add(
                node, key="bpmn_p_unconditioned", label=label, flows=", ".join(unconditioned)
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
                self.problems.add(node, key="bpmn_p_event_gateway_target", target=target.get("id"))

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
                self.problems.add(node, key="bpmn_p_event_definition", label=label)
                continue
            if kind in ("compensate", "link"):
                self.problems.add(node, key=f"bpmn_p_{kind}_events", kind=kind)
                continue
            if kind not in allowed:
                self.problems.add(
                    node, key="bpmn_p_event_misplaced", a_kind=a_or_an(kind), a_label=a_or_an(label)
                )
                continue
            getattr(self, f"_check_{kind}_definition", lambda *_: None)(node, definition)
        if local == "boundaryEvent":
            if not definitions:
                self.problems.add(node, key="bpmn_p_boundary_no_trigger")
            attached = (node.get("attachedToRef") or "").strip()
            target = nodes.get(attached)
            if target is None or bpmn_local(target) not in ACTIVITIES:
                self.problems.add(node, key="bpmn_p_boundary_attached", attached=attached)
            elif bpmn_local(target) != "transaction" and any(
                bpmn_local(d) == "cancelEventDefinition" for d in definitions
            ):
                self.problems.add(node, key="bpmn_p_cancel_outside_transaction")

    def _check_message_definition(self, node: etree._Element, definition: etree._Element) -> None:
        ref = (definition.get("messageRef") or "").strip()
        if not ref:
            self.problems.add(node, key="bpmn_p_message_event_no_message")
        elif ref not in self.messages:
            self.problems.add(node, key="bpmn_p_message_event_unknown", ref=ref)

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
            self.problems.add(node, key=f"bpmn_p_{what}_unknown", what=what, ref=ref)

    def _check_conditional_definition(
        self, node: etree._Element, definition: etree._Element
    ) -> None:
        condition = text_of(definition.find(bpmn_tag("condition")))
        if not condition:
            self.problems.add(node, key="bpmn_p_conditional_no_condition")
        else:
            self._expression(node, condition, "the event's condition")

    def _check_timer_definition(self, node: etree._Element, definition: etree._Element) -> None:
        times = [c for c in definition if bpmn_local(c) in TIMER_WORDS]
        if not times:
            self.problems.add(node, key="bpmn_p_timer_no_time")
            return
        if len(times) > 1:
            self.problems.add(node, key="bpmn_p_timer_many")
        kind = bpmn_local(times[0]) or "timeDuration"
        problem = _timer_problem(kind, text_of(times[0]))
        if problem:
            self.problems.add(node, key=problem[0], **problem[1])


EXPRESSION_KEYS = {
    "the loop condition": "bpmn_p_loop_condition_invalid",
    "the loop cardinality": "bpmn_p_loop_cardinality_invalid",
    "the completion condition": "bpmn_p_completion_condition_invalid",
    "the event's condition": "bpmn_p_event_condition_invalid",
}


def _department_property_problem(value: str) -> tuple[str, dict[str, Any]] | None:
    """Return what is wrong with a `department` property expression (a text key and its
    parameters), or None."""
    text = value.strip()
    if not text:
        return "bpmn_p_department_empty", {}
    if department_for_lane(text) is not None:
        # A bare `engineering` is a variable name to the evaluator, not the department.
        return "bpmn_p_department_unquoted", {"text": text}
    message = check_expression(text)
    if message:
        return "bpmn_p_department_invalid", {"detail": message}
    is_literal, literal = literal_value(text)
    if is_literal and (not isinstance(literal, str) or department_for_lane(literal) is None):
        return "bpmn_p_department_unknown", {"value": repr(literal), "hint": department_hint()}
    return None


def _timer_problem(kind: str, text: str) -> tuple[str, dict[str, Any]] | None:
    """Return what is wrong with a timer expression (a text key and its parameters), or None."""
    word = TIMER_WORDS[kind]
    params: dict[str, Any] = {
        "word": word,
        "word_zh": {"date": "日期", "duration": "时长", "cycle": "周期"}[word],
        "example": TIMER_EXAMPLES[kind],
        "text": text,
    }
    if not text:
        return "bpmn_p_timer_empty", params
    if UNQUOTED_ISO.fullmatch(text):
        return "bpmn_p_timer_unquoted", params
    message = check_expression(text)
    if message:
        return "bpmn_p_timer_invalid", {**params, "detail": message}
    is_literal, literal = literal_value(text)
    if not is_literal:
        return None  # computed from process data; checked when the timer starts
    if not isinstance(literal, str):
        return "bpmn_p_timer_not_text", {**params, "value": repr(literal)}
    try:
        if kind == "timeDuration":
            TimerEventDefinition.parse_iso_duration(literal)
        elif kind == "timeCycle":
            TimerEventDefinition.parse_iso_recurring_interval(literal)
        elif not isinstance(TimerEventDefinition.parse_time_or_duration(literal), datetime):
            raise ValueError("not a date")
    except Exception:  # noqa: BLE001 - any failure means the text is not ISO 8601
        standard = {"date": "date and time", "duration": "duration", "cycle": "repeating interval"}
        return "bpmn_p_timer_not_iso", {**params, "value": literal, "standard": standard[word]}
    return None
