"""Every problem a deploy check finds reads in Chinese on the designer's pages: it comes
from a catalogue key (engine/texts.py `_BPMN_PROBLEMS`), and no check adds an English-only
problem."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine import texts
from engine.bpmn.validation import parse_and_validate
from engine.errors import BpmnProblem, InvalidBpmn
from tests.engine.bpmn.test_validation import HEADER, _bpmn, _fixture, _one_task

ROOT = Path(__file__).resolve().parents[3]
DMN_NS = "https://www.omg.org/spec/DMN/20191111/MODEL/"

# Code words a designer types in the diagram's XML or properties: allowed in the Chinese.
CODE_WORDS = {"Python", "ISO", "BPMN", "DMN", "UNIQUE", "FIRST", "ANY", "COLLECT", "xmlns"}


def _dmn(body: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<definitions xmlns="{DMN_NS}" id="d" '
        f'name="D" namespace="http://flowdesk.example/test">{body}</definitions>\n'
    ).encode()


RULE_TABLE = (
    '<decision id="route" name="Route"><decisionTable hitPolicy="PRIORITY" aggregation="SUM">'
    '<input id="i1" label="Kind"><inputExpression id="ie1"><text>kind ==</text>'
    "</inputExpression></input>"
    '<input label="Empty"><inputExpression id="ie2"/></input>'
    '<output id="o1"/>'
    "<rule><inputEntry><text>1</text></inputEntry><inputEntry id='e2'><text>2</text>"
    "</inputEntry><inputEntry id='e3'><text>3</text></inputEntry>"
    "<outputEntry><text>1</text></outputEntry></rule>"
    '<rule id="r2"><inputEntry><text>"a"</text></inputEntry><inputEntry id="e4">'
    "<text>-</text></inputEntry><outputEntry><text>1</text></outputEntry></rule>"
    '<output id="o2" name="late"/><annotation id="x"/>'
    "</decisionTable></decision>"
)

CASES = {
    "many problems": [_fixture("many_problems.bpmn")],
    "not executable": [("p.bpmn", _bpmn('<bpmn:startEvent id="s"/>', executable="false"))],
    "no process": [("p.bpmn", f"{HEADER}</bpmn:definitions>".encode())],
    "not bpmn": [("p.bpmn", b"<html/>")],
    "flows and gateways": [
        (
            "p.bpmn",
            _one_task(
                '<bpmn:userTask id="t" name="Do it"/><bpmn:serviceTask id="svc"/>'
                '<bpmn:exclusiveGateway id="g" default="nope"/><bpmn:endEvent id="e2">'
                "<bpmn:outgoing>f9</bpmn:outgoing></bpmn:endEvent>"
                '<bpmn:eventBasedGateway id="eg"/><bpmn:scriptTask id="sc" scriptFormat="js"/>'
                '<bpmn:businessRuleTask id="br"/><bpmn:callActivity id="ca" calledElement="zz"/>'
                '<bpmn:callActivity id="cb"/><bpmn:complexGateway id="cx"/>'
                '<bpmn:dataStoreReference id="ds"/>',
                extra='<bpmn:sequenceFlow id="f3" sourceRef="t" targetRef="g"/>'
                '<bpmn:sequenceFlow id="f4" sourceRef="g" targetRef="e"/>'
                '<bpmn:sequenceFlow id="f5" sourceRef="g" targetRef="svc"/>'
                '<bpmn:sequenceFlow id="f6" sourceRef="e" targetRef="ghost"/>'
                '<bpmn:sequenceFlow id="f7" sourceRef="t" targetRef="e">'
                "<bpmn:conditionExpression>x ==</bpmn:conditionExpression></bpmn:sequenceFlow>"
                '<bpmn:sequenceFlow id="f8" sourceRef="eg" targetRef="t"/>'
                '<bpmn:sequenceFlow id="f10"/><bpmn:sequenceFlow id="f9" sourceRef="e2" '
                'targetRef="e"/>',
            ),
        )
    ],
    "events and loops": [
        (
            "p.bpmn",
            _one_task(
                '<bpmn:userTask id="t" name="Do it"><bpmn:standardLoopCharacteristics>'
                "<bpmn:loopMaximum>many</bpmn:loopMaximum></bpmn:standardLoopCharacteristics>"
                "</bpmn:userTask>"
                '<bpmn:task id="mi"><bpmn:multiInstanceLoopCharacteristics/></bpmn:task>'
                '<bpmn:task id="mj"><bpmn:multiInstanceLoopCharacteristics>'
                "<bpmn:loopCardinality>3 +</bpmn:loopCardinality>"
                "<bpmn:loopDataInputRef>a b</bpmn:loopDataInputRef>"
                "</bpmn:multiInstanceLoopCharacteristics></bpmn:task>"
                '<bpmn:boundaryEvent id="b1" attachedToRef="nowhere"/>'
                '<bpmn:boundaryEvent id="b2" attachedToRef="t"><bpmn:timerEventDefinition>'
                "<bpmn:timeDuration>PT2H</bpmn:timeDuration><bpmn:timeCycle>R</bpmn:timeCycle>"
                "</bpmn:timerEventDefinition></bpmn:boundaryEvent>"
                '<bpmn:boundaryEvent id="b3" attachedToRef="t"><bpmn:timerEventDefinition/>'
                "</bpmn:boundaryEvent>"
                '<bpmn:boundaryEvent id="b4" attachedToRef="t"><bpmn:cancelEventDefinition/>'
                "</bpmn:boundaryEvent>"
                '<bpmn:intermediateCatchEvent id="m1"><bpmn:messageEventDefinition/>'
                "</bpmn:intermediateCatchEvent>"
                '<bpmn:intermediateCatchEvent id="m2"><bpmn:signalEventDefinition '
                'signalRef="nos"/></bpmn:intermediateCatchEvent>'
                '<bpmn:intermediateCatchEvent id="m3"><bpmn:conditionalEventDefinition/>'
                "</bpmn:intermediateCatchEvent>"
                '<bpmn:intermediateCatchEvent id="m4"><bpmn:timerEventDefinition>'
                '<bpmn:timeDate>"tomorrow"</bpmn:timeDate></bpmn:timerEventDefinition>'
                "</bpmn:intermediateCatchEvent>"
                '<bpmn:intermediateThrowEvent id="m5"><bpmn:linkEventDefinition/>'
                "</bpmn:intermediateThrowEvent>",
            ),
        )
    ],
    "properties": [
        (
            "p.bpmn",
            _one_task(
                '<bpmn:scriptTask id="t" name="Do it"><bpmn:extensionElements>'
                '<spiff:properties><spiff:property name="assignee_variable" value="1x"/>'
                '<spiff:property name="department" value="engineering"/>'
                '<spiff:property name="x"/></spiff:properties>'
                "</bpmn:extensionElements><bpmn:script>import os</bpmn:script></bpmn:scriptTask>",
                lane=None,
            ),
        )
    ],
    "decision table": [("route.dmn", _dmn(RULE_TABLE))],
    "two decisions": [("two.dmn", _dmn('<decision id="a"/><decision id="b"/>'))],
}


def _problems(files: list[tuple[str, bytes]]) -> list[BpmnProblem]:
    with pytest.raises(InvalidBpmn) as caught:
        parse_and_validate(files, library=[], max_bytes=1_000_000)
    return caught.value.problems


def _english_words(problem: BpmnProblem, chinese: str) -> list[str]:
    """The words of `chinese` that are English, leaving out what the problem quotes from
    the file (its parameters: ids, names, expressions, the parser's own words) and code."""
    rest = chinese
    values = [str(v) for v in problem.params.values()] + [problem.element_id or ""]
    for value in sorted(values, key=len, reverse=True):
        if value:
            rest = rest.replace(value, " ")
    rest = re.sub(r"“[^”]*”|\"[^\"]*\"", " ", rest)
    words = re.findall(r"[A-Za-z][\w:.=-]*", rest)
    return [
        w
        for w in words
        if w not in CODE_WORDS and not re.search(r"[:_=.]|[a-z][A-Z]", w)  # code identifiers
    ]


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_problem_reads_in_chinese(case: str) -> None:
    problems = _problems(CASES[case])
    assert problems
    for problem in problems:
        assert problem.key, f"English-only problem: {problem.message}"
        assert texts.has_text(problem.key), problem.key
        assert problem.text_in("en") == problem.message
        chinese = problem.text_in("zh-CN")
        assert re.search(r"[\u4e00-\u9fff]", chinese), (problem.key, chinese)
        assert not _english_words(problem, chinese), (problem.key, chinese)


def test_the_cases_cover_most_checks() -> None:
    keys = {p.key for files in CASES.values() for p in _problems(files)}
    assert len(keys) >= 50, sorted(keys)


def test_english_is_what_the_api_always_said() -> None:
    by_key = {p.key: p.message for p in _problems(CASES["flows and gateways"])}
    assert by_key["bpmn_p_unsupported_serviceTask"] == (
        "service tasks are not supported by flowdesk: it has no service connectors; "
        "use a user task or a script task"
    )
    assert by_key["bpmn_p_default_flow"] == (
        "the default flow 'nope' is not one of the flows leaving the exclusive gateway"
    )
    assert texts.text("bpmn_p_default_flow", "zh-CN", default="nope", label="x") == (
        "默认顺序流“nope”不是离开此网关的顺序流之一"
    )


def test_no_check_adds_an_english_only_problem() -> None:
    """A new check must give a catalogue key, so that the designer reads it in Chinese."""
    calls = re.compile(r"\bproblems(?:\[[^\]]*\])?\.add(?:_raw)?\(")
    missing = []
    for path in sorted((ROOT / "engine" / "bpmn").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        for match in calls.finditer(source):
            depth, end = 0, match.end() - 1
            for end in range(match.end() - 1, len(source)):
                depth += {"(": 1, ")": -1}.get(source[end], 0)
                if depth == 0:
                    break
            if "key=" not in source[match.start() : end]:
                line = source.count("\n", 0, match.start()) + 1
                missing.append(f"{path.name}:{line}")
    assert not missing, missing


def test_every_problem_text_has_chinese_that_fills_from_the_same_parameters() -> None:
    """Also the checks the cases above do not reach: Chinese, and no parameter the
    English does not get (save the Chinese-only words the checks pass beside it)."""
    fields = re.compile(r"{(\w+)}")
    for key, (chinese, english) in texts._BPMN_PROBLEMS.items():
        assert re.search(r"[\u4e00-\u9fff]", chinese), key
        extra = set(fields.findall(chinese)) - set(fields.findall(english))
        assert extra <= {"hint_zh", "word_zh", "number"}, (key, extra)
