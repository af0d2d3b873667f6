"""The restricted evaluator: ordinary BPMN code runs, every escape is refused before it runs."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from RestrictedPython import compile_restricted_eval, compile_restricted_exec
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.parser import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer import DEFAULT_CONFIG
from SpiffWorkflow.util.task import TaskState

from engine.bpmn import script_engine
from engine.bpmn.script_engine import (
    RestrictedEnvironment,
    ScriptRefused,
    acting_user,
    check_expression,
    check_script,
    restricted_script_engine,
)
from engine.bpmn.script_limits import Budget

ENV = RestrictedEnvironment()

# --------------------------------------------------------------------------- fixtures

PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  id="defs" targetNamespace="http://flowdesk.example/test">
  <bpmn:process id="routing" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:userTask id="enter" name="Enter items"/>
    <bpmn:scriptTask id="compute" name="Compute total"><bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:exclusiveGateway id="gw" name="Big?" default="to_small"/>
    <bpmn:scriptTask id="big"><bpmn:script>route = 'big'</bpmn:script></bpmn:scriptTask>
    <bpmn:scriptTask id="small"><bpmn:script>route = 'small'</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="enter"/>
    <bpmn:sequenceFlow id="f2" sourceRef="enter" targetRef="compute"/>
    <bpmn:sequenceFlow id="f3" sourceRef="compute" targetRef="gw"/>
    <bpmn:sequenceFlow id="to_big" sourceRef="gw" targetRef="big">
      <bpmn:conditionExpression><![CDATA[{condition}]]></bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="to_small" sourceRef="gw" targetRef="small"/>
    <bpmn:sequenceFlow id="f4" sourceRef="big" targetRef="end"/>
    <bpmn:sequenceFlow id="f5" sourceRef="small" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>"""

DECISION_PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="defs" targetNamespace="http://flowdesk.example/test">
  <bpmn:process id="deciding" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:scriptTask id="seed"><bpmn:script>{script}</bpmn:script></bpmn:scriptTask>
    <bpmn:businessRuleTask id="decide"><bpmn:extensionElements>
      <spiffworkflow:calledDecisionId>size</spiffworkflow:calledDecisionId>
    </bpmn:extensionElements></bpmn:businessRuleTask>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="seed"/>
    <bpmn:sequenceFlow id="f2" sourceRef="seed" targetRef="decide"/>
    <bpmn:sequenceFlow id="f3" sourceRef="decide" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>"""

DECISION = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="dd" name="d" namespace="t">
  <decision id="size" name="Size">
    <decisionTable id="dt" hitPolicy="FIRST">
      <input id="i1" label="Amount">
        <inputExpression id="ie1" typeRef="number"><text>amount</text></inputExpression>
      </input>
      <input id="i2" label="Category">
        <inputExpression id="ie2" typeRef="string"><text>category</text></inputExpression>
      </input>
      <output id="o1" name="size" typeRef="string"/>
      <rule id="r1">
        <inputEntry id="e11"><text>&gt; 100</text></inputEntry>
        <inputEntry id="e12"><text>'quality'</text></inputEntry>
        <outputEntry id="o11"><text>'big ' + category</text></outputEntry>
      </rule>
      <rule id="r2">
        <inputEntry id="e21"><text>10 &lt; ? &lt;= 100</text></inputEntry>
        <inputEntry id="e22"><text></text></inputEntry>
        <outputEntry id="o21"><text>'medium'</text></outputEntry>
      </rule>
      <rule id="r3">
        <inputEntry id="e31"><text></text></inputEntry>
        <inputEntry id="e32"><text></text></inputEntry>
        <outputEntry id="o31"><text>'small'</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>"""

SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(DEFAULT_CONFIG))


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _start(script: str = "total = sum(items)", condition: str = "total > 100") -> BpmnWorkflow:
    """Start the routing process on the restricted engine; it waits at 'enter'."""
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(PROCESS.format(script=_xml_escape(script), condition=condition).encode())
    workflow = BpmnWorkflow(parser.get_spec("routing"), script_engine=restricted_script_engine())
    workflow.do_engine_steps()
    return workflow


def _round_trip(workflow: BpmnWorkflow) -> BpmnWorkflow:
    restored = SERIALIZER.deserialize_json(SERIALIZER.serialize_json(workflow))
    # A restored workflow gets SpiffWorkflow's unrestricted engine unless told otherwise.
    restored.script_engine = restricted_script_engine()
    return restored


def _enter(workflow: BpmnWorkflow, **data: Any) -> None:
    [task] = workflow.get_tasks(state=TaskState.READY, manual=True)
    task.set_data(**data)
    task.run()
    workflow.do_engine_steps()


def _waiting_task(data: dict[str, Any] | None = None) -> Any:
    """Return a real SpiffWorkflow task for calling the engine directly."""
    [task] = _start().get_tasks(state=TaskState.READY, manual=True)
    task.set_data(**(data or {}))
    return task


# --------------------------------------------------------------------------- ordinary code

ORDINARY_EXPRESSIONS = [
    ("amount > 100 and category == 'quality'", {"amount": 150, "category": "quality"}, True),
    ("amount > 100 and category == 'quality'", {"amount": 50, "category": "quality"}, False),
    ("x in ['a', 'b']", {"x": "b"}, True),
    ("x in ['a', 'b']", {"x": "c"}, False),
    ("[i * 2 for i in items if i > 1]", {"items": [1, 2, 3]}, [4, 6]),
    ("{k: v for k, v in d.items() if v}", {"d": {"a": 1, "b": 0}}, {"a": 1}),
    ("sum(x for x in items) == 6", {"items": [1, 2, 3]}, True),
    ("any(i > 2 for i in items) and all(i > 0 for i in items)", {"items": [1, 3]}, True),
    ("len(name.strip().upper()) == 3", {"name": " bob "}, True),
    ("order['lines'][0]['qty'] * 2", {"order": {"lines": [{"qty": 4}]}}, 8),
    ("sorted(set(tags))[-1]", {"tags": ["b", "a", "b"]}, "b"),
    ("round(max(a, b) / 3, 2)", {"a": 1, "b": 10}, 3.33),
    ("f'{n:03d}-{name}'", {"n": 7, "name": "x"}, "007-x"),
    ("'%s/%d' % (name, n)", {"n": 7, "name": "x"}, "x/7"),
    ("isinstance(n, int) and not isinstance(n, bool)", {"n": 7}, True),
    ("[a + b for a, b in zip(xs, ys)]", {"xs": [1, 2], "ys": [10, 20]}, [11, 22]),
    ("list(enumerate('ab'))", {}, [(0, "a"), (1, "b")]),
    ("(lambda v: v + 1)(n)", {"n": 1}, 2),
    ("max(*items)", {"items": [3, 9]}, 9),
    ("\n    amount >= 10\n  ", {"amount": 10}, True),  # indented, as in BPMN XML
]


@pytest.mark.parametrize(("expression", "data", "expected"), ORDINARY_EXPRESSIONS)
def test_ordinary_expression_passes_the_check_and_evaluates(
    expression: str, data: dict[str, Any], expected: Any
) -> None:
    assert check_expression(expression) is None
    assert ENV.evaluate(expression, dict(data)) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("(datetime(2025, 1, 31, 9) + timedelta(hours=2)).isoformat()", "2025-01-31T11:00:00"),
        ("date(2025, 1, 31).strftime('%d/%m/%Y')", "31/01/2025"),
        ("datetime.strptime('2025-02-03', '%Y-%m-%d').day", 3),
        ("date.today() > date(2000, 1, 1)", True),
        ("str(timedelta(days=1, hours=2))", "1 day, 2:00:00"),
        ("due.isoformat()", "2025-03-01"),
    ],
)
def test_date_names_serve_timer_and_date_expressions(expression: str, expected: Any) -> None:
    # strftime, strptime and today() import modules inside C code; that must still work.
    assert ENV.evaluate(expression, {"due": date(2025, 3, 1)}) == expected


def test_task_data_shadows_the_date_names() -> None:
    assert ENV.evaluate("date", {"date": "2025-01-31"}) == "2025-01-31"
    context = {"date": "2025-01-31"}
    ENV.execute("date = date + 'T09:00'", context)
    assert context == {"date": "2025-01-31T09:00"}


def test_current_user_is_who_acts_and_task_data_cannot_pose_as_them() -> None:
    assert ENV.evaluate("current_user()", {}) is None  # outside any engine run
    with acting_user("eng1"):
        assert ENV.evaluate("current_user()", {"current_user": "forged"}) == "eng1"
        context: dict[str, Any] = {"solution": "换管"}
        ENV.execute("record = {'solution': solution, 'by': current_user()}", context)
        with acting_user("prop1"):
            assert ENV.evaluate("current_user()", {}) == "prop1"
        assert ENV.evaluate("current_user()", {}) == "eng1"
    assert context == {"solution": "换管", "record": {"solution": "换管", "by": "eng1"}}
    assert ENV.evaluate("current_user()", {}) is None


def test_evaluation_sees_external_context_under_task_data() -> None:
    assert ENV.evaluate("x + y", {"x": 1}, {"y": 10, "x": 100}) == 11


@pytest.mark.parametrize(
    ("script", "data", "expected"),
    [
        ("total = sum(items)", {"items": [1, 2, 3]}, {"total": 6}),
        ("y = [i * 2 for i in range(3)]", {}, {"y": [0, 2, 4]}),
        ("n = 1\nn += 2\nn *= 5\nn -= 1", {}, {"n": 14}),
        ("a, (b, c) = 1, (2, 3)", {}, {"a": 1, "b": 2, "c": 3}),
        ("first, *rest = items", {"items": [1, 2, 3]}, {"first": 1, "rest": [2, 3]}),
        (
            "pairs = []\nfor k, v in sorted(d.items()):\n    pairs.append(k + str(v))",
            {"d": {"b": 2, "a": 1}},
            {"pairs": ["a1", "b2"], "k": "b", "v": 2},  # loop variables stay, as in Python
        ),
        ("d['b'] = 2\nd['a'] = d['a'] + 1", {"d": {"a": 1}}, {"d": {"a": 2, "b": 2}}),
        ("items[0] = 9\nitems[1:] = [8]", {"items": [1, 2, 3]}, {"items": [9, 8]}),
        ("def double(v):\n    return v * 2\n\nz = double(4)", {}, {"z": 8}),
        (
            "if amount > 100:\n    level = 'high'\nelse:\n    level = 'low'",
            {"amount": 101},
            {"level": "high"},
        ),
        ("try:\n    r = 1 / 0\nexcept ZeroDivisionError:\n    r = None", {}, {"r": None}),
        ("print('debugging', amount)\nok = True", {"amount": 1}, {"ok": True}),
        ("    x = 1\n    y = x + 1\n", {}, {"x": 1, "y": 2}),  # indented, as in BPMN XML
    ],
)
def test_script_sets_task_data(script: str, data: dict[str, Any], expected: dict[str, Any]) -> None:
    assert check_script(script) is None
    context = dict(data)
    assert ENV.execute(script, context) is True
    assert {k: v for k, v in context.items() if k not in data or k in expected} == expected


def test_augmented_assignment_keeps_python_meaning() -> None:
    items = [1]
    context: dict[str, Any] = {"items": items}
    ENV.execute("items += [2]", context)
    assert context["items"] is items and items == [1, 2]


def test_execute_updates_the_task_data_dict_in_place_and_leaves_only_values() -> None:
    context: dict[str, Any] = {"kept": 1, "changed": 1, "gone": 1}
    same = context
    ENV.execute(
        "changed = 2\nadded = [3]\ndel gone\n"
        "def helper():\n    return 1\n"
        "when = datetime(2025, 1, 1)\nalias = datetime\nprint('x')",
        context,
    )
    assert context is same
    assert context == {
        "kept": 1,
        "changed": 2,
        "added": [3],
        "when": datetime(2025, 1, 1),
    }


def test_execute_keeps_what_a_failing_script_set_before_the_failure() -> None:
    # SpiffWorkflow runs scripts in the task data itself, so it behaves this way too.
    context: dict[str, Any] = {}
    with pytest.raises(ZeroDivisionError):
        ENV.execute("before = 1\nboom = 1 / 0\nafter = 2", context)
    assert context == {"before": 1}


def test_external_context_is_readable_but_not_written_to_task_data() -> None:
    context: dict[str, Any] = {"x": 1}
    ENV.execute("y = x + offset", context, {"offset": 10})
    assert context == {"x": 1, "y": 11}


def test_task_data_overwriting_external_context_fails_fast_as_in_spiffworkflow() -> None:
    with pytest.raises(ValueError, match="overwrites a predefined"):
        ENV.execute("y = 1", {"offset": 1}, {"offset": 10})


def test_task_data_cannot_replace_the_guards() -> None:
    context: dict[str, Any] = {"_getattr_": "not a guard", "__builtins__": {}, "n": 1}
    assert ENV.evaluate("len([n])", context) == 1
    with pytest.raises(ScriptRefused, match="starts with '_'"):
        ENV.evaluate("n.__class__", context)
    ENV.execute("m = n + 1", context)
    assert context == {"_getattr_": "not a guard", "__builtins__": {}, "n": 1, "m": 2}


# --------------------------------------------------------------------------- refusals

# Escapes in both forms, with the words the refusal must contain.
EXPRESSION_ESCAPES = [
    ("__import__('os').system('x')", "'__import__' is not allowed because it starts with '_'"),
    ("().__class__.__base__.__subclasses__()", "'__subclasses__' is not allowed"),
    ("[c for c in ().__class__.__mro__[1].__subclasses__()]", "starts with '_'"),
    ("open('/etc/passwd').read()", "open() is not allowed"),
    ("getattr(x, '__class__')", "getattr() is not allowed"),
    ("'{0.__class__}'.format(1)", "'.format()' is not allowed"),
    ("'{x.__class__}'.format_map({'x': 1})", "'.format_map()' is not allowed"),
    ("(x for x in []).gi_frame", "'gi_frame' is not allowed"),
    ("(x for x in []).gi_code", "'gi_code' is not allowed"),
    ("f'{x.__class__}'", "'__class__' is not allowed"),
    ("type(x)", "type() is not allowed"),
    ("int.mro()", "'mro' is not allowed"),
    ("eval('1')", "eval() is not allowed"),
    ("exec('x = 1')", "exec() is not allowed"),
    ("compile('1', 'f', 'eval')", "compile() is not allowed"),
    ("globals()", "globals() is not allowed"),
    ("vars(x)", "vars() is not allowed"),
    ("__builtins__", "'__builtins__' is not allowed"),
    ("_getattr_(x, 'real')", "'_getattr_' is not allowed"),
]
SCRIPT_ESCAPES = [
    *EXPRESSION_ESCAPES,
    ("import os", "import is not allowed"),
    ("from os import system", "import is not allowed"),
    ("import subprocess as sp\nsp.run(['id'])", "import is not allowed"),
    ("_secret = 1", "'_secret' is not allowed"),
    ("def f(__x):\n    return __x", "'__x' is not allowed"),
    ("x.__dict__['a'] = 1", "'__dict__' is not allowed"),
    ("d['a'] += 1", "write d[k] = d[k] + 1"),
]


@pytest.mark.parametrize(("source", "words"), EXPRESSION_ESCAPES)
def test_escape_in_expression_is_refused_by_the_check(source: str, words: str) -> None:
    message = check_expression(source)
    assert message is not None and words in message, message


@pytest.mark.parametrize(("source", "words"), SCRIPT_ESCAPES)
def test_escape_in_script_is_refused_by_the_check(source: str, words: str) -> None:
    message = check_script(source)
    assert message is not None and words in message, message


@pytest.mark.parametrize(("source", "words"), EXPRESSION_ESCAPES)
def test_escape_in_expression_is_refused_at_run_time(source: str, words: str) -> None:
    with pytest.raises(ScriptRefused, match=_literal(words)):
        ENV.evaluate(source, {"x": 1})


@pytest.mark.parametrize(("source", "words"), SCRIPT_ESCAPES)
def test_escape_in_script_is_refused_at_run_time(source: str, words: str) -> None:
    context: dict[str, Any] = {"x": 1, "d": {"a": 1}}
    with pytest.raises(ScriptRefused, match=_literal(words)):
        ENV.execute(source, context)
    assert context == {"x": 1, "d": {"a": 1}}


@pytest.mark.parametrize(("source", "words"), EXPRESSION_ESCAPES)
def test_escape_through_the_engine_keeps_its_reason_in_the_error(source: str, words: str) -> None:
    task = _waiting_task({"x": 1})
    engine = restricted_script_engine()
    with pytest.raises(WorkflowTaskException) as evaluated:
        engine.evaluate(task, source)
    assert words in str(evaluated.value) and "ScriptRefused" in str(evaluated.value)
    with pytest.raises(WorkflowTaskException) as executed:
        engine.execute(task, f"result = {source}")
    assert words in str(executed.value)


def test_escape_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    command = f"__import__('os').system('touch {marker}')"
    assert check_expression(command) is not None
    with pytest.raises(ScriptRefused):
        ENV.evaluate(command, {})
    with pytest.raises(ScriptRefused):
        ENV.execute(f"import os\nos.system('touch {marker}')", {})
    assert not marker.exists()


def test_multi_line_refusal_names_the_line() -> None:
    script = "x = 1\ny = ().__class__\nz = 2"
    assert check_script(script) == (
        "line 2: attribute '__class__' is not allowed because it starts with '_': "
        "names starting with '_' reach Python internals"
    )
    task = _waiting_task()
    with pytest.raises(WorkflowTaskException) as raised:
        restricted_script_engine().execute(task, script)
    assert (raised.value.line_number, raised.value.error_line) == (2, "y = ().__class__")


def test_several_problems_are_counted() -> None:
    message = check_expression("().__class__.__base__.__subclasses__()")
    assert message is not None and message.endswith("(and 2 more problems)")


# Defence in depth: the run-time guards refuse the same things even for bytecode
# that only went through RestrictedPython's stock policy, not ours.
@pytest.mark.parametrize(
    ("source", "mode", "error", "words"),
    [
        ("'{0.__class__}'.format(1)", "eval", ScriptRefused, "'.format()' is not allowed"),
        ("'{x}'.format_map({'x': 1})", "eval", ScriptRefused, "'.format_map()' is not allowed"),
        ("int.mro()", "eval", ScriptRefused, "'mro' is not allowed"),
        ("import os", "exec", ScriptRefused, "import is not allowed"),
        ("from subprocess import run", "exec", ScriptRefused, "import is not allowed"),
        ("open('/etc/passwd')", "eval", NameError, "open"),
        ("getattr(1, 'real')", "eval", NameError, "getattr"),
        ("type(1)", "eval", NameError, "type"),
        ("setattr(d, 'a', 1)", "eval", NameError, "setattr"),
        ("raise SystemExit(1)", "exec", NameError, "SystemExit"),
        ("class Box:\n    pass", "exec", ScriptRefused, "class definitions are not allowed"),
    ],
)
def test_run_time_guards_refuse_what_the_stock_policy_lets_through(
    source: str, mode: str, error: type[Exception], words: str
) -> None:
    compiler = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    result = compiler(source, "<string>")
    assert result.errors == (), result.errors
    scope = script_engine._scope({"d": {}}, None, Budget())
    with pytest.raises(error, match=_literal(words)):
        if mode == "eval":
            eval(result.code, scope)
        else:
            exec(result.code, scope)


def test_class_definition_is_refused_when_the_script_runs() -> None:
    context: dict[str, Any] = {}
    with pytest.raises(ScriptRefused, match="class definitions are not allowed"):
        ENV.execute("class Box:\n    size = 1\nbox = Box()", context)
    assert context == {}


def test_system_exit_is_not_available_to_stop_the_worker() -> None:
    with pytest.raises(NameError):
        ENV.execute("raise SystemExit(1)", {})
    with pytest.raises(NameError):
        ENV.execute("try:\n    x = 1\nexcept BaseException:\n    pass\nraise KeyboardInterrupt", {})


def _literal(words: str) -> str:
    return re.escape(words)


# --------------------------------------------------------------------------- checks and errors


@pytest.mark.parametrize(
    ("check", "source", "words"),
    [
        (check_expression, "amount >", "syntax error at line 1, column 9"),
        (check_expression, "(amount > 1", "'(' was never closed"),
        (check_expression, "", "the expression is empty"),
        (check_expression, "   \n ", "the expression is empty"),
        (check_expression, "x = 1", "syntax error at line 1"),
        (check_script, "x = 1\nif x\n    y = 2", "syntax error at line 2, column 5: expected ':'"),
        (check_script, "x = 1\n  y = 2", "syntax error at line 2"),
        (check_script, "return 1", "'return' outside function"),
        (check_script, "", "the script is empty"),
        (check_script, "x = '\0'", "null bytes"),
        (check_script, "async def f():\n    pass", "AsyncFunctionDef statements are not allowed"),
    ],
)
def test_check_explains_what_is_wrong(check: Any, source: str, words: str) -> None:
    message = check(source)
    assert message is not None and words in message, message


def test_deeply_nested_source_is_refused_not_crashing() -> None:
    message = check_expression("(" * 500 + "1" + ")" * 500)
    assert message is not None


def test_run_time_error_message_survives_spiffworkflow_wrapping() -> None:
    task = _waiting_task({"amount": 1})
    engine = restricted_script_engine()
    with pytest.raises(WorkflowTaskException) as evaluated:
        engine.evaluate(task, "os.system('id') == 0")
    assert "NameError: name 'os' is not defined" in str(evaluated.value)
    # KeyError(1) has a non-text argument; SpiffWorkflow's own wrapper fails on that.
    with pytest.raises(WorkflowTaskException) as executed:
        engine.execute(task, "d = {}\nv = d[1]")
    assert "KeyError: 1" in str(executed.value)
    assert (executed.value.line_number, executed.value.error_line) == (2, "v = d[1]")


def test_compiled_code_is_cached_per_source() -> None:
    source = "cache_probe_value * 3 > 1"
    before = script_engine._compile.cache_info()
    for n in range(5):
        ENV.evaluate(source, {"cache_probe_value": n})
    after = script_engine._compile.cache_info()
    assert after.misses - before.misses == 1
    assert after.hits - before.hits == 4


def test_one_engine_serves_many_threads() -> None:
    engine = restricted_script_engine()
    assert engine is restricted_script_engine()
    assert isinstance(engine, PythonScriptEngine)

    def run(n: int) -> tuple[bool, int]:
        context: dict[str, Any] = {"n": n}
        engine.environment.execute(f"m = n * {n % 7}\nflag = m > 10", context)
        return engine.environment.evaluate("flag and m % 2 == 0", context), context["m"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(run, range(400)))
    expected = [n * (n % 7) for n in range(400)]
    assert results == [(m > 10 and m % 2 == 0, m) for m in expected]


# --------------------------------------------------------------------------- end to end


@pytest.mark.parametrize(("items", "route"), [([50, 60], "big"), ([50, 10], "small")])
def test_process_runs_script_and_routes_on_the_condition(items: list[int], route: str) -> None:
    workflow = _round_trip(_start())
    _enter(workflow, items=items)
    workflow = _round_trip(workflow)
    assert workflow.is_completed()
    assert workflow.data == {"items": items, "total": sum(items), "route": route}


def test_process_condition_with_import_fails_cleanly_and_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    workflow = _start(condition=f"__import__('os').system('touch {marker}')")
    with pytest.raises(WorkflowTaskException) as raised:
        _enter(workflow, items=[1])
    message = str(raised.value)
    assert "'__import__' is not allowed because it starts with '_'" in message
    assert raised.value.task.task_spec.bpmn_id == "gw"
    assert not marker.exists()
    assert not workflow.is_completed()


def test_process_script_walking_subclasses_fails_cleanly(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    script = (
        "total = sum(items)\n"
        "popen = [c for c in ().__class__.__base__.__subclasses__() if c.__name__ == 'Popen'][0]\n"
        f"popen(['touch', '{marker}'])"
    )
    workflow = _start(script=script)
    with pytest.raises(WorkflowTaskException) as raised:
        _enter(workflow, items=[1])
    assert "ScriptRefused" in str(raised.value) and "starts with '_'" in str(raised.value)
    assert raised.value.task.task_spec.bpmn_id == "compute"
    assert raised.value.line_number == 2
    assert "total" not in raised.value.task.data  # refused before any line ran
    assert not marker.exists()


def test_process_condition_reading_an_unknown_name_says_which() -> None:
    workflow = _start(condition="os.system('id') == 0")
    with pytest.raises(WorkflowTaskException, match="name 'os' is not defined"):
        _enter(workflow, items=[1])


@pytest.mark.parametrize(
    ("script", "size"),
    [
        ("amount = 150\ncategory = 'quality'", "big quality"),
        ("amount = 50\ncategory = 'quality'", "medium"),
        ("amount = 5\ncategory = 'other'", "small"),
    ],
)
def test_decision_table_runs_on_the_restricted_engine(script: str, size: str) -> None:
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(DECISION_PROCESS.format(script=script).encode())
    parser.add_dmn_str(DECISION.encode())
    workflow = BpmnWorkflow(parser.get_spec("deciding"), script_engine=restricted_script_engine())
    workflow.do_engine_steps()
    assert workflow.is_completed()
    assert workflow.data["size"] == size
