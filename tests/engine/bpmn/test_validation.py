"""Validation reports every problem of every file at once, and parses what is sound."""

from __future__ import annotations

from pathlib import Path

import pytest
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.spiff.parser import SpiffBpmnParser

from engine.bpmn.validation import ParsedFile, ParsedProcess, parse_and_validate
from engine.errors import BpmnProblem, InvalidBpmn

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "bpmn"
LIMIT = 1_000_000
HEADER = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:spiff="http://spiffworkflow.org/bpmn/schema/1.0/core" '
    'id="defs" targetNamespace="http://flowdesk.example/test">\n'
)


def _fixture(name: str) -> tuple[str, bytes]:
    return name, (FIXTURES / name).read_bytes()


def _bpmn(body: str, *, key: str = "p", name: str = "Test", executable: str = "true") -> bytes:
    return (
        f'{HEADER}<bpmn:process id="{key}" name="{name}" isExecutable="{executable}">\n'
        f"{body}\n</bpmn:process>\n</bpmn:definitions>\n"
    ).encode()


def _one_task(
    task: str = '<bpmn:userTask id="t" name="Do it"/>',
    *,
    lane: str | None = "Sales",
    extra: str = "",
    key: str = "p",
) -> bytes:
    """A start event, one task `t` and an end event, all in one lane."""
    lane_xml = ""
    if lane is not None:
        lane_xml = (
            f'<bpmn:laneSet id="ls"><bpmn:lane id="lane" name="{lane}">'
            "<bpmn:flowNodeRef>s</bpmn:flowNodeRef><bpmn:flowNodeRef>t</bpmn:flowNodeRef>"
            "<bpmn:flowNodeRef>e</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>"
        )
    return _bpmn(
        f'{lane_xml}<bpmn:startEvent id="s"/>{task}<bpmn:endEvent id="e"/>'
        '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>'
        f'<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"/>{extra}',
        key=key,
    )


def _ok(
    files: list[tuple[str, bytes]], library: list[tuple[str, bytes]] | None = None
) -> tuple[list[ParsedFile], list[ParsedProcess]]:
    return parse_and_validate(files, library=library or [], max_bytes=LIMIT)


def _problems(
    files: list[tuple[str, bytes]], library: list[tuple[str, bytes]] | None = None
) -> list[BpmnProblem]:
    with pytest.raises(InvalidBpmn) as caught:
        parse_and_validate(files, library=library or [], max_bytes=LIMIT)
    problems = caught.value.problems
    assert problems
    for problem in problems:
        assert problem.message and problem.file
    assert len(set(problems)) == len(problems), "problems are deduplicated"
    return problems


def _messages_for(problems: list[BpmnProblem], element_id: str) -> list[str]:
    return [p.message for p in problems if p.element_id == element_id]


# --------------------------------------------------------------------------- sound files


def test_two_lane_process_with_gateway_and_loop_parses() -> None:
    parsed_files, processes = _ok([_fixture("two_lane_loop.bpmn")])
    [parsed_file] = parsed_files
    assert parsed_file.kind == "bpmn"
    assert parsed_file.process_keys == ["quote_review"]
    assert parsed_file.content == (FIXTURES / "two_lane_loop.bpmn").read_bytes()
    [process] = processes
    assert (process.key, process.name, process.filename) == (
        "quote_review",
        "Quote review",
        "two_lane_loop.bpmn",
    )
    assert isinstance(process.spec, BpmnProcessSpec)
    assert process.subprocess_specs == {}
    lanes = {
        spec.bpmn_id: spec.lane
        for spec in process.spec.task_specs.values()
        if getattr(spec, "bpmn_id", None)
    }
    # The lane of `check` is written across lines; it must still be found.
    assert lanes["prepare"] == "Sales"
    assert lanes["check"] == "成本合约部"


def test_name_falls_back_to_participant_then_key() -> None:
    pool = (
        HEADER + '<bpmn:collaboration id="c"><bpmn:participant id="pp" name="Pool name" '
        'processRef="unnamed"/></bpmn:collaboration>'
    )
    body = _one_task(key="unnamed").decode().replace(' name="Test"', "").replace(HEADER, pool)
    [process] = _ok([("pool.bpmn", body.encode())])[1]
    assert process.name == "Pool name"
    bare = _one_task(key="bare").decode().replace(' name="Test"', "")
    assert _ok([("bare.bpmn", bare.encode())])[1][0].name == "bare"


@pytest.mark.parametrize(
    "lane", ["customer_service", "客服部", "Customer Service", "  customer   service "]
)
def test_lane_names_department_by_code_zh_or_en(lane: str) -> None:
    [process] = _ok([("lane.bpmn", _one_task(lane=lane))])[1]
    assert process.spec.task_specs["t"].lane == lane


def test_department_property_replaces_the_lane() -> None:
    task = (
        '<bpmn:userTask id="t" name="Fix"><bpmn:extensionElements><spiff:properties>'
        '<spiff:property name="department" value="responsible"/>'
        "</spiff:properties></bpmn:extensionElements></bpmn:userTask>"
    )
    [process] = _ok([("prop.bpmn", _one_task(task, lane=None))])[1]
    extensions = process.spec.task_specs["t"].extensions
    assert extensions["properties"]["department"] == "responsible"


def test_user_task_in_subprocess_takes_the_subprocess_lane() -> None:
    sub = (
        '<bpmn:subProcess id="t" name="Inner"><bpmn:startEvent id="is"/>'
        '<bpmn:userTask id="inner" name="Inner task"/><bpmn:endEvent id="ie"/>'
        '<bpmn:sequenceFlow id="i1" sourceRef="is" targetRef="inner"/>'
        '<bpmn:sequenceFlow id="i2" sourceRef="inner" targetRef="ie"/></bpmn:subProcess>'
    )
    [process] = _ok([("sub.bpmn", _one_task(sub, lane="工程部"))])[1]
    assert process.subprocess_specs["t"].task_specs["inner"].lane == "工程部"


def test_dmn_and_business_rule_task_parse_together() -> None:
    parsed_files, processes = _ok([_fixture("route_decision.dmn"), _fixture("decide_route.bpmn")])
    assert [(f.kind, f.decision_ids, f.process_keys) for f in parsed_files] == [
        ("dmn", ["route_by_category"], []),
        ("bpmn", [], ["decide_route"]),
    ]
    [process] = processes
    assert process.spec.task_specs["route"].extensions["calledDecisionId"] == "route_by_category"


def test_business_rule_task_finds_decision_in_library() -> None:
    [process] = _ok([_fixture("decide_route.bpmn")], library=[_fixture("route_decision.dmn")])[1]
    assert process.key == "decide_route"


def test_call_activity_resolves_through_library() -> None:
    caller = _one_task('<bpmn:callActivity id="t" name="Review" calledElement="callee"/>')
    callee = _one_task(key="callee")
    [process] = _ok([("caller.bpmn", caller)], library=[("callee.bpmn", callee)])[1]
    assert set(process.subprocess_specs) == {"callee"}

    problems = _problems([("caller.bpmn", caller)])
    assert "'callee'" in _messages_for(problems, "t")[0]


def test_library_copy_of_the_file_being_deployed_does_not_collide() -> None:
    old = _one_task(key="p")
    new = _one_task('<bpmn:manualTask id="t" name="Changed"/>', key="p")
    [process] = _ok([("p.bpmn", new)], library=[("p.bpmn", old), ("other.bpmn", old)])[1]
    assert process.spec.task_specs["t"].bpmn_name == "Changed"


def test_problems_in_library_files_are_not_reported() -> None:
    broken = _one_task(lane="Nobody", key="elsewhere")
    _ok([("p.bpmn", _one_task())], library=[("broken.bpmn", broken), ("junk.bpmn", b"<a")])


# --------------------------------------------------------------------------- every problem at once


def test_file_with_many_problems_reports_all_of_them_at_once() -> None:
    problems = _problems([_fixture("many_problems.bpmn")])
    by_id = {p.element_id: p for p in problems}
    assert by_id["lane_legal"].element_name == "Legal"
    assert "does not name a department" in by_id["lane_legal"].message
    assert by_id["f2"].element_name == "legal"
    assert "__import__" in by_id["f2"].message
    assert by_id["route"].element_name == "Which way?"
    assert "f3" in by_id["route"].message and "default" in by_id["route"].message
    assert by_id["notify"].message.startswith("service tasks are not supported by flowdesk")
    assert 'quote the duration: "PT2H"' in by_id["wait"].message
    assert by_id["wait"].element_name == "Wait two hours"
    assert "no script" in by_id["compute"].message
    orphan = _messages_for(problems, "orphan")
    assert any("no department" in m for m in orphan)
    assert any("cannot be reached" in m for m in orphan)
    assert {p.file for p in problems} == {"many_problems.bpmn"}
    # The task in the unknown lane is covered by the lane's own problem.
    assert not _messages_for(problems, "review")


def test_problems_of_several_files_come_together() -> None:
    problems = _problems(
        [
            ("good.bpmn", _one_task()),
            ("a.bpmn", _one_task(lane="Marketing", key="a")),
            ("b.bpmn", _one_task('<bpmn:serviceTask id="t"/>', key="b")),
            ("c.bpmn", b"<definitions"),
        ]
    )
    assert {p.file for p in problems} == {"a.bpmn", "b.bpmn", "c.bpmn"}


def test_unknown_lane_names_lane_id_and_name() -> None:
    problems = _problems([("lane.bpmn", _one_task(lane="Finance"))])
    [problem] = problems
    assert (problem.element_id, problem.element_name) == ("lane", "Finance")
    assert "customer_service" in problem.message


def test_unnamed_lane_is_a_problem() -> None:
    problems = _problems([("lane.bpmn", _one_task(lane=""))])
    assert "the lane has no name" in _messages_for(problems, "lane")[0]


def test_user_task_without_lane_or_department_property() -> None:
    problems = _problems([("nolane.bpmn", _one_task(lane=None))])
    assert _messages_for(problems, "t") == [
        "the user task has no department: put it in a lane named after a department "
        "or give it a spiff property 'department'"
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("engineering", 'quote the department: "engineering"'),
        ("'Legal'", "is not a department"),
        ("dept.__class__", "starts with"),
        ("", "is empty"),
    ],
)
def test_bad_department_property(value: str, expected: str) -> None:
    task = (
        '<bpmn:userTask id="t"><bpmn:extensionElements><spiff:properties>'
        f'<spiff:property name="department" value="{value}"/>'
        "</spiff:properties></bpmn:extensionElements></bpmn:userTask>"
    )
    problems = _problems([("prop.bpmn", _one_task(task, lane=None))])
    assert expected in _messages_for(problems, "t")[0]


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("timeDuration", "PT2H", 'quote the duration: "PT2H"'),
        ("timeDuration", "P3D", 'quote the duration: "P3D"'),
        ("timeDuration", '"2 hours"', "is not an ISO 8601 duration"),
        ("timeDate", "2025-01-31T09:00:00", 'quote the date: "2025-01-31T09:00:00"'),
        ("timeDate", '"tomorrow"', "is not an ISO 8601 date"),
        ("timeCycle", "R3/PT1H", 'quote the cycle: "R3/PT1H"'),
        ("timeDuration", "", "is empty"),
        ("timeDuration", "__import__('os')", "starts with"),
    ],
)
def test_bad_timer(kind: str, text: str, expected: str) -> None:
    timer = (
        '<bpmn:intermediateCatchEvent id="t" name="Wait"><bpmn:timerEventDefinition>'
        f"<bpmn:{kind}>{text}</bpmn:{kind}></bpmn:timerEventDefinition>"
        "</bpmn:intermediateCatchEvent>"
    )
    problems = _problems([("timer.bpmn", _one_task(timer))])
    [message] = _messages_for(problems, "t")
    assert expected in message


@pytest.mark.parametrize(
    "text", ['"PT2H"', "wait_for", "P", '"2025-01-31T09:00:00+08:00"', "'P' + str(days) + 'D'"]
)
def test_good_timer(text: str) -> None:
    kind = "timeDate" if "2025" in text else "timeDuration"
    timer = (
        '<bpmn:intermediateCatchEvent id="t"><bpmn:timerEventDefinition>'
        f"<bpmn:{kind}>{text}</bpmn:{kind}></bpmn:timerEventDefinition>"
        "</bpmn:intermediateCatchEvent>"
    )
    _ok([("timer.bpmn", _one_task(timer))])


def test_empty_timer_definition() -> None:
    timer = (
        '<bpmn:intermediateCatchEvent id="t"><bpmn:timerEventDefinition id="td"/>'
        "</bpmn:intermediateCatchEvent>"
    )
    problems = _problems([("timer.bpmn", _one_task(timer))])
    assert "the timer has no time" in _messages_for(problems, "t")[0]


@pytest.mark.parametrize(
    "condition",
    [
        "__import__('os').system('id') == 0",
        "().__class__.__base__.__subclasses__()",
        "amount >",
    ],
)
def test_bad_condition_is_refused(condition: str) -> None:
    body = (
        '<bpmn:laneSet id="ls"><bpmn:lane id="lane" name="sales">'
        "<bpmn:flowNodeRef>t</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>"
        '<bpmn:startEvent id="s"/><bpmn:exclusiveGateway id="g" name="Big?" default="f3"/>'
        '<bpmn:userTask id="t"/><bpmn:endEvent id="e"/>'
        '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="g"/>'
        f'<bpmn:sequenceFlow id="f2" name="big" sourceRef="g" targetRef="t">'
        f"<bpmn:conditionExpression><![CDATA[{condition}]]></bpmn:conditionExpression>"
        "</bpmn:sequenceFlow>"
        '<bpmn:sequenceFlow id="f3" sourceRef="g" targetRef="e"/>'
        '<bpmn:sequenceFlow id="f4" sourceRef="t" targetRef="e"/>'
    )
    problems = _problems([("cond.bpmn", _bpmn(body))])
    [problem] = problems
    assert (problem.element_id, problem.element_name) == ("f2", "big")
    assert problem.message.startswith("the condition is not a valid expression")


def test_escaping_script_is_refused() -> None:
    script = (
        '<bpmn:scriptTask id="t" name="Run"><bpmn:script>'
        "x = [c for c in ().__class__.__base__.__subclasses__()]</bpmn:script></bpmn:scriptTask>"
    )
    problems = _problems([("script.bpmn", _one_task(script))])
    assert "refused" in _messages_for(problems, "t")[0]


def test_multi_instance_expressions_are_checked() -> None:
    task = (
        '<bpmn:userTask id="t"><bpmn:multiInstanceLoopCharacteristics>'
        "<bpmn:loopCardinality>len(__builtins__)</bpmn:loopCardinality>"
        "<bpmn:completionCondition>done ==</bpmn:completionCondition>"
        "</bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>"
    )
    messages = _messages_for(_problems([("mi.bpmn", _one_task(task))]), "t")
    assert any(m.startswith("the loop cardinality is not a valid expression") for m in messages)
    assert any(m.startswith("the completion condition is not a valid expression") for m in messages)


def test_unsupported_elements_are_problems_not_tracebacks() -> None:
    body = (
        '<bpmn:laneSet id="ls"><bpmn:lane id="lane" name="sales"/></bpmn:laneSet>'
        '<bpmn:startEvent id="s"/><bpmn:complexGateway id="g" name="Complex"/>'
        '<bpmn:sendTask id="send"/><bpmn:receiveTask id="recv"/>'
        '<bpmn:adHocSubProcess id="adhoc"/><bpmn:endEvent id="e"/>'
        '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="g"/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="g" targetRef="send"/>'
        '<bpmn:sequenceFlow id="f3" sourceRef="send" targetRef="recv"/>'
        '<bpmn:sequenceFlow id="f4" sourceRef="recv" targetRef="adhoc"/>'
        '<bpmn:sequenceFlow id="f5" sourceRef="adhoc" targetRef="e"/>'
        '<bpmn:sequenceFlow id="f6" sourceRef="e" targetRef="nowhere"/>'
    )
    problems = _problems([("unsupported.bpmn", _bpmn(body))])
    assert "complex gateways are not supported" in _messages_for(problems, "g")[0]
    assert "send tasks" in _messages_for(problems, "send")[0]
    assert "receive tasks" in _messages_for(problems, "recv")[0]
    assert "ad-hoc" in _messages_for(problems, "adhoc")[0]
    assert "nowhere" in _messages_for(problems, "f6")[0]


def test_message_event_without_message() -> None:
    catch = (
        '<bpmn:intermediateCatchEvent id="t" name="Reply"><bpmn:messageEventDefinition/>'
        "</bpmn:intermediateCatchEvent>"
    )
    problems = _problems([("msg.bpmn", _one_task(catch))])
    assert "names no message" in _messages_for(problems, "t")[0]


def test_business_rule_task_with_unknown_decision() -> None:
    task = (
        '<bpmn:businessRuleTask id="t" name="Decide"><bpmn:extensionElements>'
        "<spiff:calledDecisionId>nope</spiff:calledDecisionId>"
        "</bpmn:extensionElements></bpmn:businessRuleTask>"
    )
    problems = _problems([("brt.bpmn", _one_task(task))])
    assert "'nope'" in _messages_for(problems, "t")[0]


def test_task_splitting_without_gateway() -> None:
    extra = '<bpmn:sequenceFlow id="f3" sourceRef="t" targetRef="e"/>'
    problems = _problems([("split.bpmn", _one_task(extra=extra))])
    assert "2 outgoing sequence flows" in _messages_for(problems, "t")[0]


def test_file_without_executable_process_names_each_process() -> None:
    data = _one_task().decode().replace('isExecutable="true"', 'isExecutable="false"')
    [problem] = _problems([("draft.bpmn", data.encode())])
    assert (problem.element_id, problem.element_name) == ("p", "Test")
    assert "not marked executable" in problem.message


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b'<process xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="p"/>', "bpmn:process"),
        (b"<html><body/></html>", "html"),
        (b"<a><b></a>", "not well-formed"),
    ],
)
def test_not_a_bpmn_file(data: bytes, expected: str) -> None:
    [problem] = _problems([("odd.bpmn", data)])
    assert expected in problem.message


def test_dmn_with_two_decisions_and_bad_entries() -> None:
    dmn = (FIXTURES / "route_decision.dmn").read_text()
    dmn = dmn.replace('"quality"', "[1..5]").replace(
        "</definitions>", '<decision id="second"/></definitions>'
    )
    problems = _problems([("two.dmn", dmn.encode())])
    messages = [p.message for p in problems]
    assert any("one decision per DMN file" in m for m in messages)
    assert any(m.startswith("rule 1, input 'Category'") for m in messages)


def test_duplicate_process_across_files() -> None:
    problems = _problems([("one.bpmn", _one_task()), ("two.bpmn", _one_task())])
    assert any("also a process" in p.message and p.file == "two.bpmn" for p in problems)


def test_data_object_out_of_reach_is_refused_not_looped() -> None:
    # SpiffWorkflow loops forever resolving this one; the walk must refuse it first.
    sub = (
        '<bpmn:subProcess id="t"><bpmn:startEvent id="s2"/>'
        '<bpmn:subProcess id="t2"><bpmn:startEvent id="s3"/>'
        '<bpmn:dataObjectReference id="ref" dataObjectRef="obj"/>'
        '<bpmn:manualTask id="inner"><bpmn:dataInputAssociation id="da">'
        "<bpmn:sourceRef>ref</bpmn:sourceRef></bpmn:dataInputAssociation></bpmn:manualTask>"
        '<bpmn:endEvent id="e3"/>'
        '<bpmn:sequenceFlow id="a1" sourceRef="s3" targetRef="inner"/>'
        '<bpmn:sequenceFlow id="a2" sourceRef="inner" targetRef="e3"/></bpmn:subProcess>'
        '<bpmn:endEvent id="e2"/><bpmn:sequenceFlow id="b1" sourceRef="s2" targetRef="t2"/>'
        '<bpmn:sequenceFlow id="b2" sourceRef="t2" targetRef="e2"/></bpmn:subProcess>'
    )
    data = _one_task(sub, extra='<bpmn:dataObject id="obj"/>')
    problems = _problems([("data.bpmn", data)])
    assert "data object" in _messages_for(problems, "inner")[0]


def test_parser_failure_becomes_a_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(self: SpiffBpmnParser, process_id: str, required: bool = True) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(SpiffBpmnParser, "get_spec", explode)
    [problem] = _problems([("p.bpmn", _one_task())])
    assert (problem.element_id, problem.element_name) == ("p", "Test")
    assert problem.message.startswith("cannot parse:") and "boom" in problem.message


def test_broken_diagram_position_is_a_problem() -> None:
    data = (
        _one_task()
        .decode()
        .replace(
            "</bpmn:definitions>",
            '<bpmndi:BPMNDiagram xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
            'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" id="dia">'
            '<bpmndi:BPMNPlane id="plane" bpmnElement="p">'
            '<bpmndi:BPMNShape id="t_di" bpmnElement="t"><dc:Bounds x="left" y="10" '
            'width="100" height="80"/></bpmndi:BPMNShape></bpmndi:BPMNPlane>'
            "</bpmndi:BPMNDiagram></bpmn:definitions>",
        )
    )
    [problem] = _problems([("di.bpmn", data.encode())])
    assert (problem.element_id, problem.element_name) == ("t", "Do it")
    assert "diagram position" in problem.message
