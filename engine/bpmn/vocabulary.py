"""The BPMN and DMN vocabulary flowdesk checks against: namespaces, the elements and
event definitions it runs, the timer forms it accepts, the hit policies of decisions."""

from __future__ import annotations

import re

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

# Extension properties on a user or manual task that decide who works it (the SLA's are
# engine/sla/declarations.py's):
# - `department`: an expression giving the owning department (instead of the lane);
# - `assignee`: an expression giving the username the new task is assigned to;
# - `assignee_variable`: the name of a case variable that follows the task's assignee
#   (reassigning the task sets it, so later tasks assigned from it follow too).
ASSIGNMENT_PROPERTIES = frozenset({"department", "assignee", "assignee_variable"})

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
