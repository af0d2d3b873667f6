"""A BPMN/DMN file as validation reads it: the parsed document, what it defines and
calls, small XML helpers, and the problems found in it."""

from __future__ import annotations

import ast
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from engine.bpmn.vocabulary import BPMN_NS, DMN_NAMESPACES, LABELS, SPIFF_NS
from engine.departments import DEPARTMENTS
from engine.errors import BpmnProblem


@dataclass
class Document:
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
class KnownIds:
    executable: dict[str, str] = field(default_factory=dict)  # process id -> filename
    non_executable: dict[str, str] = field(default_factory=dict)
    decisions: dict[str, str] = field(default_factory=dict)  # decision id -> filename


# --------------------------------------------------------------------------- helpers


def bpmn_tag(local: str) -> str:
    return f"{{{BPMN_NS}}}{local}"


def spiff_tag(local: str) -> str:
    return f"{{{SPIFF_NS}}}{local}"


def bpmn_local(element: etree._Element) -> str | None:
    """Return the local name of a BPMN model element, None for anything else."""
    tag = element.tag
    if not isinstance(tag, str) or not tag.startswith(f"{{{BPMN_NS}}}"):
        return None
    return tag[len(BPMN_NS) + 2 :]


def bpmn_children(element: etree._Element, local: str) -> list[etree._Element]:
    return element.findall(bpmn_tag(local))


def clean(text: str | None) -> str | None:
    """Collapse whitespace (names often hold line breaks); None for blank."""
    if text is None:
        return None
    collapsed = " ".join(text.split())
    return collapsed or None


def text_of(element: etree._Element | None) -> str:
    if element is None:
        return ""
    return (element.text or "").strip()


def label_of(local: str) -> str:
    if local in LABELS:
        return LABELS[local]
    return re.sub(r"(?<!^)([A-Z])", r" \1", local).lower()


def is_executable(process: etree._Element) -> bool:
    return (process.get("isExecutable") or "").strip().lower() == "true"


def department_hint() -> str:
    codes = ", ".join(d.code for d in DEPARTMENTS[:-1]) + f" or {DEPARTMENTS[-1].code}"
    return f"{codes}, or a department's Chinese or English name"


def a_or_an(word: str) -> str:
    return f"an {word}" if word[:1].lower() in "aeiou" else f"a {word}"


def are_numbers(*values: str) -> bool:
    try:
        for value in values:
            float(value)
    except ValueError:
        return False
    return True


def is_true(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


def literal_value(text: str) -> tuple[bool, object]:
    """Return (True, value) when the expression is a plain Python literal."""
    try:
        return True, ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False, None


def spiff_extensions(element: etree._Element) -> list[etree._Element]:
    """Return the spiff extension elements of a node, as SpiffWorkflow reads them."""
    found: list[etree._Element] = []
    for ext in bpmn_children(element, "extensionElements"):
        found.extend(
            child
            for child in ext
            if isinstance(child.tag, str) and child.tag.startswith(f"{{{SPIFF_NS}}}")
        )
    return found


def normalise_references(root: etree._Element) -> None:
    """Strip whitespace around id references, which SpiffWorkflow compares verbatim.

    Pretty-printing tools write `<flowNodeRef>\n  Task_1\n</flowNodeRef>`; without
    this the task would silently lose its lane, and so its department.
    """
    reference_tags = {
        bpmn_tag(local)
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
    reference_tags.add(spiff_tag("calledDecisionId"))
    for element in root.iter(*reference_tags):
        if element.text and element.text != element.text.strip():
            element.text = element.text.strip()


def kind_of(root: etree._Element) -> str | None:
    qname = etree.QName(root)
    if qname.localname == "definitions" and qname.namespace == BPMN_NS:
        return "bpmn"
    if qname.localname == "definitions" and qname.namespace in DMN_NAMESPACES:
        return "dmn"
    return None


def describe_root(root: etree._Element) -> str:
    qname = etree.QName(root)
    if qname.namespace == BPMN_NS:
        return f"bpmn:{qname.localname}"
    if qname.namespace:
        return f"{qname.localname} (namespace {qname.namespace})"
    return f"{qname.localname} (no namespace)"


def index_document(doc: Document) -> None:
    """Fill the ids a document defines: processes, embedded subprocesses, decisions."""
    if doc.kind == "bpmn":
        for process in bpmn_children(doc.root, "process"):
            process_id = process.get("id")
            if not process_id:
                continue
            doc.process_ids.append(process_id)
            if is_executable(process):
                doc.executable_ids.append(process_id)
            calls: set[str] = set()
            decisions: set[str] = set()
            for element in process.iter(bpmn_tag("callActivity"), bpmn_tag("businessRuleTask")):
                if element.tag == bpmn_tag("callActivity"):
                    if element.get("calledElement"):
                        calls.add(element.get("calledElement").strip())
                else:
                    decision = called_decision(element)
                    if decision:
                        decisions.add(decision)
            doc.calls[process_id] = calls
            doc.decisions_used[process_id] = decisions
            for sub in process.iter(
                *(bpmn_tag(s) for s in ("subProcess", "transaction", "adHocSubProcess"))
            ):
                if sub.get("id"):
                    doc.subprocess_ids.append(sub.get("id"))
    else:
        ns = etree.QName(doc.root).namespace
        doc.decision_ids = [
            d.get("id") for d in doc.root.findall(f"{{{ns}}}decision") if d.get("id")
        ]


def called_decision(element: etree._Element) -> str | None:
    for ext in spiff_extensions(element):
        if etree.QName(ext).localname == "calledDecisionId":
            return text_of(ext) or None
    return None


# --------------------------------------------------------------------------- problems


class Problems:
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

    def add(
        self,
        element: etree._Element | None,
        message: str = "",
        *,
        key: str | None = None,
        **params: Any,
    ) -> None:
        """Add a problem of `element`: an English message, or a catalogue key (and its
        parameters) that gives it in every language."""
        element_id = element.get("id") if element is not None else None
        name = clean(element.get("name")) if element is not None else None
        self.items.append(
            BpmnProblem(element_id or None, name, message, self.filename, key=key, params=params)
        )
        self._count()

    def add_raw(
        self,
        element_id: str | None,
        name: str | None,
        message: str = "",
        *,
        key: str | None = None,
        **params: Any,
    ) -> None:
        self.items.append(
            BpmnProblem(
                element_id or None, clean(name), message, self.filename, key=key, params=params
            )
        )
        self._count()
