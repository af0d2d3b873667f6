"""The case record on the task and case pages over HTTP (both databases): each task page
shows what the earlier steps submitted, with the forms' labels and option names, people
by name, amounts whole and the proposals' total; the case page shows every step."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from html import unescape

import pytest

from tests.fixtures.api_client import Api
from tests.fixtures.factories import make_user
from tests.fixtures.shipped import Case, setup_shipped
from tests.fixtures.web_client import Browser

COMPLAINT = {
    "customer_name": "张伟",
    "phone": "13800138000",
    "project": "滨江壹号",
    "unit": "3栋1502",
    "channel": "hotline",
    "category": "quality",
    "description": "卫生间漏水，楼下天花板渗水",
}
FINDINGS = "主卫给水管接头锈蚀渗漏，楼下天花板有水渍"
ENG_PLAN = "更换主卫给水管及接头，重做防水"
PROP_PLAN = "清理并修补楼下天花板"
APPROVAL = "同意两部门方案，工程部先换管"
WORK = "已更换给水管，闭水试验48小时合格"
# What a staff member must never read on these pages: codes, names of variables,
# Python values, usernames of people who have a name.
RAW = [
    "engineering",
    "customer_service",
    "property<",
    "cost_estimate",
    "findings",
    "True",
    "False",
    "None",
    "['",
    "{'",
    "3800.0",
    "wang_eng",
    "liu_prop",
    "zhao_cs",
]


@pytest.fixture
def people(db_url: str) -> Iterator[tuple[Api, Callable[[str], Browser]]]:
    api = setup_shipped()
    make_user("wang_eng", "staff", department="engineering", display_name="王建国")
    make_user("liu_prop", "staff", department="property", display_name="刘芳")
    make_user("zhao_cs", "staff", department="customer_service", display_name="赵敏")
    opened: list[Browser] = []

    def signed_in(user: str) -> Browser:
        b = Browser()
        opened.append(b)
        b.sign_in(user)
        return b

    yield api, signed_in
    for b in opened:
        b.close()


def _text(html: str) -> str:
    """The page's record section as text (tags dropped, cells spaced)."""
    section = html[html.index('class="case-record"') :]
    section = section[: section.index("</section>")]
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", section)))


def _surveyed_and_proposed(api: Api) -> Case:
    case = Case(api, "zhao_cs", "complaint_handling", COMPLAINT)
    case.do("acknowledge_complaint", "zhao_cs", {"contacted": True, "notes": "已回电"})
    case.do(
        "site_survey",
        "wang_eng",
        {"findings": FINDINGS, "departments": ["engineering", "property"]},
    )
    case.do(
        "propose_solution",
        "wang_eng",
        {"solution": ENG_PLAN, "cost_estimate": 3800},
        department="engineering",
    )
    case.do("propose_solution", "liu_prop", {"solution": PROP_PLAN}, department="property")
    return case


def _assert_no_raw_values(text: str) -> None:
    for raw in RAW:
        assert raw not in text, (raw, text)


def test_each_task_page_shows_the_earlier_departments_work(people) -> None:  # type: ignore[no-untyped-def]
    api, signed_in = people
    case = Case(api, "zhao_cs", "complaint_handling", COMPLAINT)
    case.do("acknowledge_complaint", "zhao_cs", {"contacted": True, "notes": "已回电"})
    case.do(
        "site_survey",
        "wang_eng",
        {"findings": FINDINGS, "departments": ["engineering", "property"]},
    )
    eng = signed_in("wang_eng")
    proposing = _text(eng.get(f"/tasks/{case.task('propose_solution', 'engineering')['id']}").text)
    # 提出处理方案: the survey's findings, with its labels and the departments by name.
    assert "现场勘查" in proposing and "勘查结果" in proposing and FINDINGS in proposing
    assert "需提方案的部门 工程部、物业部" in proposing
    assert "王建国" in proposing and "已联系客户 是" in proposing
    assert "投诉类别 工程质量" in proposing and "来源渠道 热线电话" in proposing
    # engineering works the case: the number is whole for it (CONTRACT.md)
    assert "13800138000" in proposing and "138****8000" not in proposing
    _assert_no_raw_values(proposing)

    case.do(
        "propose_solution",
        "wang_eng",
        {"solution": ENG_PLAN, "cost_estimate": 3800},
        department="engineering",
    )
    case.do("propose_solution", "liu_prop", {"solution": PROP_PLAN}, department="property")
    cs = signed_in("zhao_cs")
    approving = _text(cs.get(f"/tasks/{case.task('approve_solution')['id']}").text)
    # 方案审核: every proposal with its department, person and cost, and the total.
    assert FINDINGS in approving
    assert re.search(f"工程部 王建国 {ENG_PLAN} 3,800 ", approving), approving
    assert re.search(f"物业部 刘芳 {PROP_PLAN} — \\d{{4}}-", approving), approving
    assert "合计 3,800" in approving
    assert "费用估算(元)" in approving
    _assert_no_raw_values(approving)

    case.do("approve_solution", "zhao_cs", {"approved": True, "comments": APPROVAL})
    fixing = _text(eng.get(f"/tasks/{case.task('execute_fix')['id']}").text)
    # 整改实施: the approved plan, the proposals and the approval's comments.
    assert ENG_PLAN in fixing and PROP_PLAN in fixing and "合计 3,800" in fixing
    assert "方案审核" in fixing and "通过 是" in fixing and f"审核意见 {APPROVAL}" in fixing
    _assert_no_raw_values(fixing)

    case.do("execute_fix", "wang_eng", {"work_done": WORK})
    confirming = _text(cs.get(f"/tasks/{case.task('confirm_resolution')['id']}").text)
    assert f"完成工作 {WORK}" in confirming
    _assert_no_raw_values(confirming)

    case.do("confirm_resolution", "zhao_cs", {"resolved": True})
    visiting = _text(cs.get(f"/tasks/{case.task('return_visit')['id']}").text)
    # 回访: the case's whole story, in order.
    story = ["登记投诉", "首次响应", "现场勘查", "提出处理方案", "方案审核", "整改实施", "完工确认"]
    positions = [visiting.index(title) for title in story]
    assert positions == sorted(positions)
    assert "已解决 是" in visiting
    _assert_no_raw_values(visiting)


def test_the_case_page_shows_every_step_in_order(people) -> None:  # type: ignore[no-untyped-def]
    api, signed_in = people
    case = _surveyed_and_proposed(api)
    case.do("approve_solution", "zhao_cs", {"approved": False, "comments": "费用过高"})
    case.do(
        "propose_solution",
        "wang_eng",
        {"solution": "局部维修", "cost_estimate": 1200.5},
        department="engineering",
    )
    case.do(
        "propose_solution",
        "liu_prop",
        {"solution": "清理<script>alert(1)</script>", "cost_estimate": 300},
        department="property",
    )
    page = signed_in("zhao_cs").get(f"/cases/{case.id}")
    assert page.status_code == 200
    assert "<script>alert(1)" not in page.text and "清理&lt;script&gt;" in page.text
    text = _text(page.text)
    assert text.index("费用过高") < text.index("局部维修")
    assert "通过 否" in text
    # The second round says so, and adds up its own amounts only.
    assert "提出处理方案 第2轮" in text and "方案审核" in text
    assert "合计 1,500.5" in text and "合计 3,800" in text
    assert "13800138000" in text  # as the case data on this page shows it
    _assert_no_raw_values(text)
    english = signed_in("wang_eng")
    english.post("/language", {"language": "en", "back": "/inbox"})
    text = _text(english.get(f"/cases/{case.id}").text)
    assert "Case record" in text and "Findings" in text and "Engineering" in text
    assert "Propose a solution round 2" in text and "Total 1,500.5" in text


def test_the_case_data_leaves_a_steps_values_to_the_record(people) -> None:  # type: ignore[no-untyped-def]
    """Approval and return visit both submit `comments`: the case data, which holds only
    the later one, does not show it under the approval's label; the record shows both."""
    api, signed_in = people
    case = _surveyed_and_proposed(api)
    case.do("approve_solution", "zhao_cs", {"approved": True, "comments": APPROVAL})
    case.do("execute_fix", "wang_eng", {"work_done": WORK}, department="engineering")
    case.do("confirm_resolution", "zhao_cs", {"resolved": True})
    case.do("return_visit", "zhao_cs", {"satisfaction": 5, "comments": "客户对维修结果满意"})
    html = signed_in("zhao_cs").get(f"/cases/{case.id}").text
    record = _text(html)
    data = html[html.index('<dl class="variables">') :]
    data = re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", data[: data.index("</dl>")])))
    assert APPROVAL in record and "客户对维修结果满意" in record
    assert "客户对维修结果满意" not in data and "审核意见" not in data and FINDINGS not in data
    assert "张伟" in data and "责任部门 工程部" in data  # the intake and the case's own facts


def test_a_leads_record_keeps_the_registration_and_every_follow_up(people) -> None:  # type: ignore[no-untyped-def]
    api, signed_in = people
    make_user("sun_sales", "staff", department="sales", display_name="孙丽")
    lead = {
        "name": "李娜",
        "phone": "13900139000",
        "project": "云山府",
        "source": "referral",
        "referrer_phone": "13700137000",
        "notes": "周末带家人来看三房",
    }
    case = Case(api, "sales1", "lead_follow_up", lead)
    case.do("assign_consultant", "sales1", {"consultant": "sun_sales"})
    case.do("follow_up", "sun_sales", {"stage": "visitor", "notes": "首次回访，关注学区"})
    case.do(
        "follow_up",
        "sun_sales",
        {"stage": "prospect", "notes": "看了样板间", "next_follow_up": "2026-12-10"},
    )
    text = _text(signed_in("sun_sales").get(f"/tasks/{case.task('follow_up')['id']}").text)
    assert "来访登记" in text and "备注 周末带家人来看三房" in text and "来源 老带新" in text
    assert "置业顾问 孙丽" in text
    assert "跟进记录 首次回访，关注学区" in text and "客户阶段 来访客户" in text
    assert "第2轮" in text and "跟进记录 看了样板间" in text and "客户阶段 意向客户" in text
    assert "下次跟进时间 2026年12月10日" in text
    # sales works its leads: the consultant reads the number whole (CONTRACT.md)
    assert "13900139000" in text and "139****9000" not in text
    assert "sun_sales" not in text and "referral" not in text and "2026-12-10" not in text
