"""Form definitions and their server-side validation."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from engine.errors import InvalidData
from forms.registry import (
    FIELD_TYPES,
    definition_problems,
    forms_by_element,
    package_forms_file,
    validate_submission,
)
from tests.fixtures.shipped import PROCESSES

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
KEYS = ["complaint_handling", "lead_follow_up"]


def _path(key: str) -> Path:
    path = package_forms_file(key)
    assert path is not None, key
    return path


def _forms(key: str) -> dict[str, dict]:
    return forms_by_element(_path(key).read_text(encoding="utf-8"))


def _all_forms() -> dict[tuple[str, str], dict]:
    return {(key, element): form for key in KEYS for element, form in _forms(key).items()}


def get_form(key: str, element: str) -> dict | None:
    return _forms(key).get(element) if package_forms_file(key) else None


@pytest.mark.parametrize("key", KEYS)
def test_every_start_event_and_user_task_has_a_form_and_no_form_is_orphaned(key: str) -> None:
    root = etree.parse(str(PROCESSES / f"{key}.bpmn")).getroot()
    elements = {e.get("id") for tag in ("startEvent", "userTask") for e in root.iter(BPMN + tag)}
    forms = {element for (process, element) in _all_forms() if process == key}
    assert elements == forms


def test_form_definitions_are_well_formed() -> None:
    for key in KEYS:
        assert definition_problems(_path(key).read_bytes(), process_key=key) == []
    for (_, element), form in _all_forms().items():
        assert form["title"]["zh-CN"] and form["title"]["en"], element
        names = [f["name"] for f in form["fields"]]
        assert len(names) == len(set(names)), element
        for field in form["fields"]:
            assert field["type"] in FIELD_TYPES, (element, field)
            assert field["label"]["zh-CN"] and field["label"]["en"], (element, field)
            for option in field.get("options", []):
                assert option["label"]["zh-CN"] and option["label"]["en"]
            if "required_if" in field:
                assert field["required_if"]["field"] in names


def _problems(key: str, element: str, data: dict, language: str = "zh-CN") -> dict[str, str]:
    with pytest.raises(InvalidData) as info:
        validate_submission(get_form(key, element), data, language=language)
    return {p.field: p.message for p in info.value.problems}


def test_mobile_numbers_are_checked_and_normalised() -> None:
    base = {"customer_name": "张伟", "category": "other", "description": "x"}
    for good in ("13800138000", "+86 138 0013 8000", "138-0013-8000", "8619912345678"):
        clean = validate_submission(
            get_form("complaint_handling", "start_complaint"), {**base, "phone": good}
        )
        assert clean["phone"] in ("13800138000", "19912345678")
    for bad in ("12800138000", "1380013800", "010-12345678", 13800138000):
        assert "phone" in _problems("complaint_handling", "start_complaint", {**base, "phone": bad})


def test_messages_follow_the_callers_language() -> None:
    zh = _problems("lead_follow_up", "follow_up", {"stage": "lost"})
    en = _problems("lead_follow_up", "follow_up", {"stage": "lost"}, language="en-GB")
    # the condition names the option by the form's own label, not its code
    assert zh == {"lost_reason": "当客户阶段为“流失”时必填"}
    assert en == {"lost_reason": "is required when Stage is 'Lost'"}
    referral = _problems("lead_follow_up", "start_lead", {"source": "referral"})
    assert referral["referrer_phone"].startswith("当来源为“老带新")
    assert "referral" not in str(referral)
    assert _problems("lead_follow_up", "follow_up", {"stage": "won", "x": 1}, "en") == {
        "x": "unknown field: this form has no such field"
    }


def test_choice_and_person_messages_name_options_departments_and_roles() -> None:
    """A wrong choice lists the options by name; a wrong person names the department
    and the role in words (never `hotline, email…` or `sales`/`staff`)."""
    base = {"customer_name": "张伟", "phone": "13800138000", "category": "other"}
    zh = _problems("complaint_handling", "start_complaint", {**base, "channel": "fax"})
    assert zh["channel"].startswith("必须是以下之一：热线电话") and "hotline" not in zh["channel"]
    en = _problems(
        "complaint_handling", "start_complaint", {**base, "channel": "fax"}, language="en"
    )
    assert "hotline" not in en["channel"] and "Hotline" in en["channel"]
    field = next(
        f for f in get_form("lead_follow_up", "assign_consultant")["fields"] if f["type"] == "user"
    )
    with pytest.raises(InvalidData) as refused:
        validate_submission(
            {"fields": [field]}, {field["name"]: "nobody"}, user_check=lambda *_: False
        )
    assert refused.value.problems[0].message == "不是销售部的员工"


def test_clean_data_holds_every_field_with_defaults() -> None:
    clean = validate_submission(get_form("complaint_handling", "acknowledge_complaint"), {})
    assert clean == {"contacted": False, "notes": None}
    assert get_form("two_lane", "intake") is None
    assert validate_submission(None, {"anything": [1]}) == {"anything": [1]}
    with pytest.raises(InvalidData):
        validate_submission(None, ["not", "an", "object"])
