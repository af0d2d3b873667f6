"""Validating BPMN/DMN files for deployment: every problem of every file at once
(the entry point; the checks are in bpmn_checks.py and dmn_checks.py, over document.py
and vocabulary.py).

SpiffWorkflow's parser stops at the first problem and follows only what is
reachable from a start event, so this module first walks the XML itself and
collects every problem it can see (each with the element's id and name and a
plain-language message), then lets SpiffWorkflow build the specs of the
processes that passed, turning anything it still raises into a problem.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.spiff.parser import SpiffBpmnParser

from engine.bpmn.bpmn_checks import BpmnChecker
from engine.bpmn.dmn_checks import check_dmn
from engine.bpmn.document import (
    Document,
    KnownIds,
    Problems,
    bpmn_children,
    bpmn_tag,
    clean,
    describe_root,
    index_document,
    kind_of,
    normalise_references,
)
from engine.bpmn.safe_xml import parse_xml
from engine.errors import BpmnProblem, InvalidBpmn


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


# --------------------------------------------------------------------------- entry point


def _load(filename: str, content: bytes, max_bytes: int, problems: Problems) -> Document | None:
    try:
        root = parse_xml(content, filename=filename, max_bytes=max_bytes)
    except InvalidBpmn as exc:
        problems.items.extend(exc.problems)
        return None
    kind = kind_of(root)
    if kind is None:
        problems.add_raw(None, None, key="bpmn_p_not_bpmn", root=describe_root(root))
        return None
    normalise_references(root)
    doc = Document(filename=filename, content=content, root=root, kind=kind)
    index_document(doc)
    return doc


def _library_documents(
    library: Iterable[tuple[str, bytes]], targets: Sequence[Document], max_bytes: int
) -> list[Document]:
    """Load the deployed files other processes may call, minus what the targets redefine."""
    taken_processes = {pid for d in targets for pid in d.process_ids + d.subprocess_ids}
    taken_decisions = {did for d in targets for did in d.decision_ids}
    loaded: list[Document] = []
    for filename, content in library:
        doc = _load(filename, content, max_bytes, Problems(filename))
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
            for process in bpmn_children(doc.root, "process"):
                if process.get("id") in replaced:
                    doc.root.remove(process)
            doc.process_ids, doc.executable_ids, doc.subprocess_ids = [], [], []
            index_document(doc)
        if set(doc.process_ids + doc.subprocess_ids) & taken_processes or not doc.process_ids:
            continue
        taken_processes.update(doc.process_ids + doc.subprocess_ids)
        loaded.append(doc)
    return loaded


def _check_cross_file_ids(targets: Sequence[Document], problems: dict[str, Problems]) -> None:
    owner: dict[str, str] = {}
    for doc in targets:
        for pid in doc.process_ids + doc.subprocess_ids + doc.decision_ids:
            if pid in owner and owner[pid] != doc.filename:
                problems[doc.filename].add_raw(
                    pid, None, key="bpmn_p_id_in_other_file", id=pid, file=owner[pid]
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
        return BpmnProblem(element_id or None, clean(name), key="bpmn_p_too_deep")
    return BpmnProblem(
        element_id or None, clean(name), key="bpmn_p_cannot_parse", params={"detail": detail}
    )


def _process_name(doc: Document, process_id: str) -> str:
    for process in bpmn_children(doc.root, "process"):
        if process.get("id") == process_id and clean(process.get("name")):
            return clean(process.get("name")) or process_id
    for participant in doc.root.iter(bpmn_tag("participant")):
        if (participant.get("processRef") or "").strip() == process_id and clean(
            participant.get("name")
        ):
            return clean(participant.get("name")) or process_id
    return process_id


def _healthy(
    process_id: str,
    owner: dict[str, Document],
    problems: dict[str, Problems],
    decision_owner: dict[str, Document],
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
    problems = {filename: Problems(filename) for filename, _ in files}
    targets: list[Document] = []
    for filename, content in files:
        doc = _load(filename, content, max_bytes, problems[filename])
        if doc is not None:
            targets.append(doc)
    _check_cross_file_ids(targets, problems)
    library_docs = _library_documents(library, targets, max_bytes)

    known = KnownIds()
    for doc in targets + library_docs:
        for pid in doc.process_ids:
            bucket = known.executable if pid in doc.executable_ids else known.non_executable
            bucket.setdefault(pid, doc.filename)
        for did in doc.decision_ids:
            known.decisions.setdefault(did, doc.filename)

    for doc in targets:
        try:
            if doc.kind == "bpmn":
                BpmnChecker(doc, known, problems[doc.filename]).run()
            else:
                check_dmn(doc, problems[doc.filename])
        except Exception as exc:  # noqa: BLE001 - a checker bug must not hide the file's problems
            problems[doc.filename].add_raw(None, None, key="bpmn_p_cannot_check", detail=repr(exc))

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
    targets: Sequence[Document], library_docs: Sequence[Document], problems: dict[str, Problems]
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
    return replace(problem, file=filename)


def _dedupe(found: Iterable[BpmnProblem]) -> list[BpmnProblem]:
    unique: dict[tuple, BpmnProblem] = {}
    for problem in found:
        unique.setdefault(
            (problem.file, problem.element_id, problem.element_name, problem.message), problem
        )
    return list(unique.values())
