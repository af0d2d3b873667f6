"""A complaint walked through its departments in a real browser (Playwright driving
Debian's chromium against `flowdesk serve`): on each task page the earlier
departments' work is shown with the forms' labels, option names and people's names.
Screenshots of the approval page and the case page go to test-artifacts/."""

from __future__ import annotations

import re

from tests.fixtures.browser import pytestmark, shot, sign_in, submit
from tests.fixtures.factories import make_user

__all__ = ["pytestmark"]  # the module's skip rule comes from the fixtures

FINDINGS = "主卫给水管接头锈蚀渗漏，楼下天花板有水渍"
ENG_PLAN = "更换主卫给水管及接头，重做防水"
PROP_PLAN = "清理并修补楼下天花板"
APPROVAL = "同意两部门方案，工程部先换管，物业部随后修补"
WORK = "已更换给水管，闭水试验48小时合格"
RAW = ("engineering", "property<", "cost_estimate", "True", "False", "None", "['", "3800.0")


def _open_task(page, base: str, name: str):  # type: ignore[no-untyped-def]
    """Open a task of the user's department queue by its name; return its record's text."""
    page.goto(base + "/inbox?tab=department")
    page.get_by_role("link", name=name).first.click()
    page.wait_for_url("**/tasks/**")
    text = page.locator(".case-record").inner_text()
    for raw in RAW:
        assert raw not in text, (raw, text)
    return text


def _submit(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="提交完成").click()
    page.wait_for_url("**/inbox?done=**")


def test_each_department_sees_the_work_before_it(server, browser) -> None:  # type: ignore[no-untyped-def]
    base, _ = server
    make_user("zhao_cs", "staff", department="customer_service", display_name="赵敏")
    make_user("wang_eng", "staff", department="engineering", display_name="王建国")
    make_user("liu_prop", "staff", department="property", display_name="刘芳")

    cs = sign_in(browser, base, "zhao_cs")
    cs.get_by_role("link", name="登记投诉").click()
    cs.get_by_label("客户姓名").fill("张伟")
    cs.get_by_label("手机号").fill("13800138000")
    cs.get_by_label("项目").fill("滨江壹号")
    cs.get_by_label("房号").fill("3栋1502")
    cs.get_by_label("投诉类别").select_option("quality")
    cs.get_by_label("投诉内容").fill("卫生间漏水，楼下天花板渗水")
    cs.get_by_role("button", name="登记投诉").last.click()
    cs.wait_for_url("**/cases/**")
    case_url = cs.url
    _open_task(cs, base, "首次响应")
    cs.get_by_label("是").first.check()
    cs.get_by_label("备注").first.fill("已回电，约明早上门")
    _submit(cs)

    # 现场勘查: engineering records its findings and who must propose.
    eng = sign_in(browser, base, "wang_eng")
    record = _open_task(eng, base, "现场勘查")
    assert "已联系客户\n是" in record or "已联系客户\t是" in record, record
    eng.get_by_label("勘查结果").fill(FINDINGS)
    eng.get_by_label("工程部").check()
    eng.get_by_label("物业部").check()
    _submit(eng)

    # 提出处理方案: each department reads the survey's findings first.
    record = _open_task(eng, base, "提出处理方案")
    assert "勘查结果" in record and FINDINGS in record
    assert "需提方案的部门" in record and "物业部、工程部" in record  # the form's order
    assert "王建国" in record
    eng.get_by_label("处理方案").fill(ENG_PLAN)
    eng.get_by_label("费用估算(元)").fill("3800")
    _submit(eng)
    prop = sign_in(browser, base, "liu_prop")
    record = _open_task(prop, base, "提出处理方案")
    assert FINDINGS in record and ENG_PLAN in record and "3,800" in record
    prop.get_by_label("处理方案").fill(PROP_PLAN)
    _submit(prop)

    # 方案审核: both proposals, their departments, people, costs and the total.
    record = _open_task(cs, base, "方案审核")
    assert FINDINGS in record
    table = cs.locator(".record-step.latest table.record-table")
    rows = [re.sub(r"\s+", " ", r) for r in table.locator("tbody tr").all_inner_texts()]
    assert len(rows) == 2, rows
    assert rows[0].startswith(f"工程部 王建国 {ENG_PLAN} 3,800"), rows
    assert rows[1].startswith(f"物业部 刘芳 {PROP_PLAN}"), rows
    assert re.sub(r"\s+", " ", table.locator("tfoot").inner_text()).strip() == "合计 3,800"
    shot(cs, "13-approval-page-zh")
    phone = sign_in(browser, base, "zhao_cs", width=390, height=844)
    phone.goto(cs.url)
    shot(phone, "13-approval-page-phone-zh")
    cs.get_by_label("是").first.check()
    cs.get_by_label("审核意见").fill(APPROVAL)
    _submit(cs)

    # 整改实施: the approved plan, the proposals with the approval's comments.
    record = _open_task(eng, base, "整改实施")
    assert ENG_PLAN in record and PROP_PLAN in record and "合计" in record
    assert "审核意见" in record and APPROVAL in record
    shot(eng, "13-fix-page-zh")
    eng.get_by_label("完成工作").fill(WORK)
    _submit(eng)

    # 完工确认: the work done; 回访: the whole story.
    record = _open_task(cs, base, "完工确认")
    assert "完成工作" in record and WORK in record
    cs.get_by_label("是").first.check()
    _submit(cs)
    record = _open_task(cs, base, "回访")
    story = ["登记投诉", "首次响应", "现场勘查", "提出处理方案", "方案审核", "整改实施", "完工确认"]
    assert [record.index(s) for s in story] == sorted(record.index(s) for s in story)
    cs.get_by_label("满意度").fill("5")
    cs.get_by_label("回访记录").fill("客户对维修结果满意")
    _submit(cs)

    cs.goto(case_url)
    record = cs.locator(".case-record").inner_text()
    for words in (FINDINGS, ENG_PLAN, PROP_PLAN, APPROVAL, WORK, "客户对维修结果满意", "合计"):
        assert words in record, words
    shot(cs, "13-case-page-zh")
    submit(cs, cs.get_by_role("button", name="English"))
    record = cs.locator(".case-record").inner_text()
    assert "Case record" in record and "Findings" in record and "Cost estimate (CNY)" in record
    assert "Engineering" in record and "Property Management" in record
    shot(cs, "13-case-page-en")
