"""The `assignee_variable` property: a variable name on a user task, nothing elsewhere."""

from __future__ import annotations

import pytest

from tests.engine.bpmn.test_validation import _messages_for, _ok, _one_task, _problems


def _user_task(value: str) -> str:
    return (
        '<bpmn:userTask id="t" name="Follow up"><bpmn:extensionElements><spiff:properties>'
        f'<spiff:property name="assignee_variable" value="{value}"/>'
        "</spiff:properties></bpmn:extensionElements></bpmn:userTask>"
    )


def test_a_variable_name_is_accepted() -> None:
    [process] = _ok([("ok.bpmn", _one_task(_user_task("consultant")))])[1]
    properties = process.spec.task_specs["t"].extensions["properties"]
    assert properties["assignee_variable"] == "consultant"


@pytest.mark.parametrize("value", ["", "consultant or 'x'", "_secret", "9lives"])
def test_anything_but_a_variable_name_is_refused(value: str) -> None:
    problems = _problems([("bad.bpmn", _one_task(_user_task(value)))])
    [message] = _messages_for(problems, "t")
    assert "assignee_variable" in message


def test_only_user_tasks_take_it() -> None:
    script = (
        '<bpmn:scriptTask id="t" name="Compute"><bpmn:extensionElements><spiff:properties>'
        '<spiff:property name="assignee_variable" value="consultant"/>'
        "</spiff:properties></bpmn:extensionElements><bpmn:script>x = 1</bpmn:script>"
        "</bpmn:scriptTask>"
    )
    problems = _problems([("script.bpmn", _one_task(script))])
    assert any("only means something on a user task" in m for m in _messages_for(problems, "t"))
