"""What staff read on the pages (both databases): no variable names, codes, booleans or
Python reprs on the case, customer, notification and audit pages of a complaint driven
through survey, two departments' proposals and approval, nor of a lost lead; every
page names the case by the same case number."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest

from engine import clock
from engine.rounds import run_round
from tests.api.web.test_pages import browsers, complaint  # noqa: F401 - the fixture
from tests.fixtures.factories import deploy_fixture
from tests.fixtures.shipped import Case
from tests.fixtures.web_client import Browser

SH = ZoneInfo("Asia/Shanghai")
CASE_NUMBER = re.compile(r"\b(TS|XS)-\d{4}-\d{6}\b")
# What must never be read on a page: variable names, codes, booleans, Python reprs.
RAW_WORDS = (
    "reopen_count",
    "responsible_department",
    "needs_survey",
    "proposals",
    "cost_estimate",
    "stage_owner",
    "True",
    "False",
    "None",
    "engineering",
    "property",
    "customer_service",
    "quality",
    "urgent",
    "closed",
    "hotline",
    "referral",
    "lost",
    "price",
    "walk_in",
    "supervisors of",
    "executives",
)
RAW_MARKS = ("[", "]", "{", "'", "3800.0")


class _VisibleText(HTMLParser):
    """The text a person reads: no tags, attributes, scripts or styles."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "template"):
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> str:
    """Return a page's visible text, one piece a line."""
    parser = _VisibleText()
    parser.feed(html)
    return "\n".join(parser.parts)


def raw_tokens(text: str, allowed: tuple[str, ...] = ()) -> list[str]:
    """Return the raw words and marks found in a page's visible text."""
    found = [w for w in RAW_WORDS if w not in allowed and re.search(rf"\b{re.escape(w)}\b", text)]
    return found + [m for m in RAW_MARKS if m not in allowed and m in text]


def _complaint_through_approval(api) -> Case:  # type: ignore[no-untyped-def]
    case = Case(
        api,
        "cs1",
        "complaint_handling",
        {**complaint(), "severity": "urgent", "channel": "hotline"},
    )
    case.do("acknowledge_complaint", "cs1", {"contacted": True, "notes": "已回电"})
    case.do(
        "site_survey", "eng1", {"findings": "水管破裂", "departments": ["engineering", "property"]}
    )
    case.do(
        "propose_solution",
        "eng1",
        {"solution": "更换水管", "cost_estimate": 3800},
        department="engineering",
    )
    case.do(
        "propose_solution",
        "prop1",
        {"solution": "清理积水", "cost_estimate": 1200},
        department="property",
    )
    case.do("approve_solution", "cs1", {"approved": True, "comments": "同意两部门方案"})
    return case


@pytest.fixture
def walked(browsers):  # type: ignore[no-untyped-def]  # noqa: F811 - the fixture
    """A complaint approved and left at the fix until it escalated; a lost lead."""
    api, open_browser = browsers
    clock.set_global_time(datetime(2026, 11, 23, 10, 0, tzinfo=SH))
    case = _complaint_through_approval(api)
    lead = Case(
        api,
        "sales1",
        "lead_follow_up",
        {"name": "张伟", "phone": "13800138000", "project": "云山府", "source": "walk_in"},
    )
    lead.do("assign_consultant", "sales1", {"consultant": "sales2"})
    lead.do("follow_up", "sales2", {"stage": "lost", "lost_reason": "price", "notes": "嫌贵"})
    clock.set_global_time(None)
    run_round(datetime(2026, 11, 23, 10, 0, tzinfo=SH) + timedelta(days=20))
    yield case, lead, open_browser


def _text(browser: Browser, path: str) -> str:
    page = browser.get(path)
    assert page.status_code == 200, (path, page.status_code)
    return visible_text(page.text)


def test_the_case_page_reads_in_labels(walked) -> None:  # type: ignore[no-untyped-def]
    case, _, open_browser = walked
    cs = open_browser("cs1")
    text = _text(cs, f"/cases/{case.id}")
    assert raw_tokens(text) == [], text
    for words in (
        "责任部门\n工程部",
        "需现场勘查\n是",
        "重新打开次数\n0",
        "紧急程度\n紧急",
        "来源渠道\n热线电话",
        "需提方案的部门\n工程部、物业部",
        "审核意见\n同意两部门方案",
    ):
        assert words in text, words
    number = case.refresh()["business_key"]
    assert CASE_NUMBER.fullmatch(number) and f"案件 {number}" in text
    # The escalation in the history names whom it reached in words.
    assert "工程部主管" in text or "客服部主管" in text
    # In English the same, with the English labels.
    cs.post("/language", {"language": "en"})
    english = _text(cs, f"/cases/{case.id}")
    words_too = ("engineering", "property", "supervisors of", "executives")  # English words
    assert raw_tokens(english, allowed=words_too) == [], english
    assert "supervisors of Engineering" in english or "supervisors of Customer" in english
    for words in (
        "Responsible department\nEngineering",
        "Site survey needed\nyes",
        "Times reopened\n0",
    ):
        assert words in english, words


def test_the_lead_case_page_reads_in_labels(walked) -> None:  # type: ignore[no-untyped-def]
    _, lead, open_browser = walked
    text = _text(open_browser("sales2"), f"/cases/{lead.id}")
    assert raw_tokens(text) == [], text
    for words in (
        "来源\n到访",
        "置业顾问\nsales2",
        "客户阶段\n流失",
        "流失原因\n价格",
        "跟进次数\n1",
    ):
        assert words in text, words


def test_the_customer_page_reads_in_labels(walked) -> None:  # type: ignore[no-untyped-def]
    case, lead, open_browser = walked
    cs = open_browser("cs1")
    link = re.search(r'href="/customers/(\d+)"', cs.get(f"/cases/{case.id}").text)
    assert link
    text = _text(cs, f"/customers/{link.group(1)}")
    assert raw_tokens(text) == [], text
    assert "工程质量" in text and "紧急" in text and "处理中" in text and "工程部" in text
    assert "流失" in text and "价格" in text  # the lead's stage and lost reason by name
    assert case.refresh()["business_key"] in text and lead.refresh()["business_key"] in text


def test_the_notification_page_names_departments_and_the_case(walked) -> None:  # type: ignore[no-untyped-def]
    case, _, open_browser = walked
    text = _text(open_browser("sup_engineering"), "/notifications")
    assert "整改实施" in text and "工程部" in text
    assert raw_tokens(text) == [], text
    assert case.refresh()["business_key"] in text


def test_the_audit_pages_name_cases_and_changes(walked) -> None:  # type: ignore[no-untyped-def]
    case, _, open_browser = walked
    auditor = open_browser("audit")
    number = case.refresh()["business_key"]
    search = _text(auditor, "/audit")
    assert number in search and case.id[:8] not in search
    assert raw_tokens(search) == [], search
    timeline = _text(auditor, f"/audit/cases/{case.id}")
    # The definition in force names its process key beside its name, as it does its hash.
    assert raw_tokens(timeline.replace("complaint_handling", "")) == [], timeline
    assert f"案件审计时间线 {number}" in timeline
    for words in (
        "责任部门",
        "工程部",
        "费用估算(元)",
        "3,800",
        "工程质量",
        "更换水管",
        "清理积水",
    ):
        assert words in timeline, words
    # The export stays machine-readable: codes and raw values.
    export = auditor.get("/audit/export", params={"format": "jsonl", "instance_id": case.id})
    assert '"responsible_department"' in export.text and '"engineering"' in export.text
    # The export is in the history, its filters in words.
    recorded = _text(auditor, "/audit?type=history_exported")
    assert "导出条件：案件ID=" in recorded and raw_tokens(recorded) == [], recorded


def test_every_page_names_the_case_by_one_number(walked) -> None:  # type: ignore[no-untyped-def]
    case, lead, open_browser = walked
    number = case.refresh()["business_key"]
    assert re.fullmatch(r"TS-2026-\d{6}", number)
    assert re.fullmatch(r"XS-2026-\d{6}", lead.refresh()["business_key"])
    eng = open_browser("eng1")
    inbox = _text(eng, "/inbox?tab=department")
    fix = case.task("execute_fix")
    assert number in inbox
    assert number in _text(eng, f"/tasks/{fix['id']}")
    # A case started from the page gets a number of the same format.
    cs = open_browser("cs1")
    started = cs.post(
        "/start/complaint_handling",
        {"customer_name": "王磊", "phone": "13700137000", "category": "other", "description": "x"},
    )
    assert started.status_code == 303
    shown = _text(cs, started.headers["location"])
    assert re.search(r"已登记：TS-2026-\d{6}", shown) and CASE_NUMBER.search(shown)


def test_a_clients_own_key_is_kept_and_other_processes_go_unnumbered(browsers) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    api, open_browser = browsers
    r = api.start("cs1", "complaint_handling", complaint(), business_key="EXT-77")
    assert r.status_code == 201 and r.json()["business_key"] == "EXT-77"
    cs = open_browser("cs1")
    assert "案件 EXT-77" in _text(cs, f"/cases/{r.json()['id']}")
    numbered = api.start("cs1", "complaint_handling", complaint())
    assert re.fullmatch(r"TS-\d{4}-000001", numbered.json()["business_key"])  # the API too
    deploy_fixture("two_lane.bpmn")
    other = api.start("cs1", "two_lane", {})
    assert other.status_code == 201 and other.json()["business_key"] is None
    text = _text(cs, f"/cases/{other.json()['id']}")
    assert f"案件 未编号（{other.json()['id'][:8]}）" in text


def test_the_start_page_names_the_option_a_field_depends_on(browsers) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    _, open_browser = browsers
    sales = open_browser("sales1")
    sales.get("/start/lead_follow_up")
    refused = sales.post(
        "/start/lead_follow_up",
        {"name": "李雷", "phone": "13900139000", "project": "云山府", "source": "referral"},
    )
    assert refused.status_code == 422
    text = visible_text(refused.text)
    assert "当来源为“老带新”时必填" in text and raw_tokens(text) == [], text
