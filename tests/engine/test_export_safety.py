"""History exports a spreadsheet cannot be turned against: no CSV cell starts a
formula, whatever it holds (ids, names, business keys, data); every common way of
writing a mainland mobile number is masked in CSV and JSONL (and nothing else)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from engine.audit import PendingEvent, append_events
from engine.db import unit_of_work
from engine.history.export import csv_cell
from engine.privacy import mask_text
from tests.engine.test_audit_history import complaint
from tests.fixtures.api_client import Api
from tests.fixtures.shipped import Case, setup_shipped

FORMULAS = ["=HYPERLINK(1)", "-2+3", "+1", "@SUM(A1)", "=cmd|' /C calc'!A0"]


@pytest.fixture
def api(db_url: str) -> Api:
    return setup_shipped()


def _csv(api: Api, **params: object) -> list[dict[str, str]]:
    r = api.get("/audit/export", "audit", params={"format": "csv", **params})
    assert r.status_code == 200, r.text
    return list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))


def _jsonl(api: Api, **params: object) -> tuple[list[dict], str]:
    r = api.get("/audit/export", "audit", params={"format": "jsonl", **params})
    assert r.status_code == 200, r.text
    return [json.loads(line) for line in r.text.splitlines()], r.headers["x-flowdesk-masked"]


@pytest.mark.parametrize("value", FORMULAS)
def test_a_formula_cell_gets_a_leading_quote(value: str) -> None:
    assert csv_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["", None, 7, "{}", "张伟", "TS-2026-000001", "a=b", "'=x"])
def test_other_cells_stay_as_they_are(value: object) -> None:
    assert csv_cell(value) == ("" if value is None else str(value))


def test_no_exported_cell_starts_a_formula(api: Api) -> None:
    """Events whose every column holds a formula (as BPMN ids and keys may), and a
    comment that is one: the file holds them all, each behind a leading '."""
    with unit_of_work() as session:
        append_events(
            session,
            [
                PendingEvent(
                    type=formula,
                    actor=formula,
                    instance_id=formula,
                    task_id=formula,
                    element_id=formula,
                    process_key=formula,
                    department=formula,
                    data={"comment": formula},
                )
                for formula in FORMULAS
            ],
        )
    case = Case(api, "cs1", "complaint_handling", complaint(description="=HYPERLINK(1)"))
    [task] = case.open()
    r = api.post(f"/tasks/{task['id']}/comments", "cs1", json={"text": "-2+3"})
    assert r.status_code == 201, r.text

    rows = _csv(api)
    crafted = [row for row in rows if row["type"].lstrip("'") in FORMULAS]
    assert [row["type"] for row in crafted] == ["'" + f for f in FORMULAS]
    for row, formula in zip(crafted, FORMULAS, strict=True):
        for column in ("actor", "instance_id", "task_id", "element_id", "process_key"):
            assert row[column] == "'" + formula, (column, row)
        assert row["department"] == "'" + formula
        assert json.loads(row["data"]) == {"comment": formula}  # data is JSON: starts with {
    for row in rows:
        for column, cell in row.items():
            assert not cell.startswith(("=", "+", "-", "@")), (column, cell)
    comments = [json.loads(row["data"]) for row in rows if row["type"] == "task_commented"]
    assert comments and "-2+3" in json.dumps(comments, ensure_ascii=False)


# Every common way of writing 13912345678, and what the export shows instead.
PHONE_FORMS = [
    ("13912345678", "139****5678"),
    ("+8613912345678", "+86139****5678"),
    ("+86 139 1234 5678", "+86 139****5678"),
    ("+86-139-1234-5678", "+86-139****5678"),
    ("0086 13912345678", "0086 139****5678"),
    ("008613912345678", "0086139****5678"),
    ("139-1234-5678", "139****5678"),
    ("139 1234 5678", "139****5678"),
    ("(+86)13912345678", "(+86)139****5678"),
    ("(+86) 139 1234 5678", "(+86) 139****5678"),
    ("（+86）139-1234-5678", "（+86）139****5678"),
    ("8613912345678", "86139****5678"),
]

# Numbers that are no mobile number stay whole.
NOT_PHONES = [
    "3800",
    "金额 3800 元",
    "合同号 20261234",
    "12345678",
    "1391234567",  # ten digits
    "139123456789",  # twelve digits: a reference, not a phone
    "12345678901",  # 11 digits that start 12
    "房号 1502 1503",
    "2026-12-02 13:45",
    "订单 TS-2026-000001",
]


@pytest.mark.parametrize(("written", "masked"), PHONE_FORMS)
def test_mask_text_covers_every_form(written: str, masked: str) -> None:
    assert mask_text(f"请回电 {written}，谢谢") == f"请回电 {masked}，谢谢"
    assert mask_text(written) == masked
    assert "1234" not in mask_text(written)


@pytest.mark.parametrize("text", NOT_PHONES)
def test_mask_text_leaves_other_numbers(text: str) -> None:
    assert mask_text(text) == text


def test_two_numbers_side_by_side_are_both_masked() -> None:
    assert mask_text("13912345678 13800138000") == "139****5678 138****8000"
    assert mask_text("13912345678/13800138000") == "139****5678/138****8000"


def test_exports_mask_every_form_in_comments_and_nothing_else(api: Api) -> None:
    case = Case(api, "cs1", "complaint_handling", complaint())
    [task] = case.open()
    texts = [f"客户说改用 {written} 联系" for written, _ in PHONE_FORMS]
    texts += [f"备注：{text}" for text in NOT_PHONES]
    for text in texts:
        r = api.post(f"/tasks/{task['id']}/comments", "cs1", json={"text": text})
        assert r.status_code == 201, r.text
    expected = [f"客户说改用 {masked} 联系" for _, masked in PHONE_FORMS]
    expected += [f"备注：{text}" for text in NOT_PHONES]

    events, masked_header = _jsonl(api, instance_id=case.id, type="task_commented")
    assert masked_header == "true"
    said = [e["data"]["text"] for e in events]
    assert said == expected
    rows = _csv(api, instance_id=case.id, type="task_commented")
    assert [json.loads(row["data"])["text"] for row in rows] == expected
    assert all("1234" not in text for text in said[: len(PHONE_FORMS)])
