"""How values read to people (forms/display.py): the forms' labels and option names,
the variables catalogue of the forms files, 是/否, department and people's names,
amounts in full yuan, records as rows, in both languages."""

from __future__ import annotations

from forms.display import (
    Names,
    catalogue_problems,
    describe_variables,
    number_text,
    value_text,
    variable_specs,
    variables_section,
)
from forms.registry import FORMS_DIR, definition_problems, forms_by_element

NAMES = Names(
    departments={"engineering": "工程部", "property": "物业部"},
    people={"eng1": "吴工", "prop1": "刘强"},
)


def _specs(process: str) -> dict:
    text = (FORMS_DIR / f"{process}.json").read_text(encoding="utf-8")
    return variable_specs(forms_by_element(text), variables_section(text))


def test_a_complaints_variables_read_in_labels() -> None:
    variables = {
        "category": "quality",
        "severity": "urgent",
        "contacted": True,
        "needs_survey": False,
        "reopen_count": 0,
        "responsible_department": "engineering",
        "departments": ["engineering", "property"],
        "dept": "property",
        "cost_estimate": 3800.0,
        "proposals": [
            {
                "department": "engineering",
                "solution": "更换水管",
                "cost_estimate": 3800.0,
                "completed_by": "eng1",
            },
            {
                "department": "property",
                "solution": "清理积水",
                "cost_estimate": None,
                "completed_by": "prop1",
            },
        ],
        "made_up": 1,
    }
    shown = {
        v.name: v
        for v in describe_variables(_specs("complaint_handling"), variables, "zh-CN", NAMES)
    }
    assert "dept" not in shown and "made_up" not in shown  # hidden; nobody labelled it
    assert (shown["category"].label, shown["category"].text) == ("投诉类别", "工程质量")
    assert shown["severity"].text == "紧急" and shown["contacted"].text == "是"
    assert (shown["needs_survey"].label, shown["needs_survey"].text) == ("需现场勘查", "否")
    assert (shown["reopen_count"].label, shown["reopen_count"].text) == ("重新打开次数", "0")
    assert shown["responsible_department"].text == "工程部"
    assert shown["departments"].text == "工程部、物业部"
    assert shown["cost_estimate"].text == "3,800"
    assert shown["proposals"].label == "各部门处理方案"
    assert shown["proposals"].rows == [
        [
            ("部门", "工程部"),
            ("处理方案", "更换水管"),
            ("费用估算(元)", "3,800"),
            ("提交人", "吴工"),
        ],
        [("部门", "物业部"), ("处理方案", "清理积水"), ("费用估算(元)", "—"), ("提交人", "刘强")],
    ]
    english = {
        v.name: v for v in describe_variables(_specs("complaint_handling"), variables, "en", NAMES)
    }
    assert english["contacted"].text == "yes" and english["category"].text == "Quality"
    assert english["reopen_count"].label == "Times reopened"
    # Without forms, a process's variables show by their names (nothing better exists).
    assert [
        (v.label, v.text)
        for v in describe_variables({}, {"x": True}, "zh-CN", NAMES, show_unknown=True)
    ] == [("x", "是")]


def test_values_in_words() -> None:
    assert number_text(3800.0) == "3800" and number_text(12000, yuan=True) == "12,000"
    assert number_text(3800.5, yuan=True) == "3,800.5"
    assert value_text({}, ["更换水管", "清理积水"], "zh-CN", NAMES) == "更换水管；清理积水"
    assert value_text({"type": "user"}, "eng1", "zh-CN", NAMES) == "吴工"
    assert value_text({}, None, "zh-CN", NAMES) == ""
    lead = _specs("lead_follow_up")
    assert value_text(lead["stage"], "owner", "zh-CN", NAMES) == "业主"  # the catalogue's option
    assert value_text(lead["stage"], "lost", "zh-CN", NAMES) == "流失"
    assert value_text(lead["amount"], 3280000, "zh-CN", NAMES) == "3,280,000"
    assert value_text(lead["follow_up_count"], 2, "en", NAMES) == "2"


def test_the_catalogue_is_checked_at_deploy() -> None:
    for process in ("complaint_handling", "lead_follow_up"):
        content = (FORMS_DIR / f"{process}.json").read_bytes()
        assert definition_problems(content, process_key=process) == []
    assert catalogue_problems({"x": {"type": "integer"}}, set()) == [
        'variable x: needs a label (zh-CN, en) or "hidden": true'
    ]
    assert catalogue_problems({"notes": {"format": "yuan"}, "y": {"hidden": True}}, {"notes"}) == []
    assert catalogue_problems([], set()) == ['"variables" must be an object by variable name']
