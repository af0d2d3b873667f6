"""A day's work in a real browser: Playwright driving Debian's chromium against
`flowdesk serve` (embedded SQLite), in Chinese and in English, at office and
phone sizes. Screenshots go to test-artifacts/.

Skipped when /usr/bin/chromium is missing (make test installs it as root);
under CI=true a missing browser fails instead."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path

from engine import clock
from tests.fixtures.browser import FLOWDESK, pytestmark, shot, sign_in, submit

__all__ = ["pytestmark"]  # the module's skip rule comes from the fixtures


def test_a_days_work(server, browser) -> None:  # type: ignore[no-untyped-def]
    base, env = server
    # A customer-service agent registers a complaint from the start page.
    cs = sign_in(browser, base, "cs1")
    cs.get_by_role("link", name="登记投诉").click()
    cs.get_by_label("客户姓名").fill("张伟")
    cs.get_by_label("手机号").fill("13800138000")
    cs.get_by_label("项目").fill("滨江壹号")
    cs.get_by_label("投诉类别").select_option("quality")
    cs.get_by_label("投诉内容").fill("卫生间天花板漏水")
    cs.get_by_role("button", name="登记投诉").last.click()
    cs.wait_for_url("**/cases/**")
    assert "已登记" in cs.content()
    case_url = cs.url
    shot(cs, "01-complaint-registered-zh")
    # ... and acknowledges it from her department queue.
    cs.goto(base + "/inbox?tab=department")
    cs.get_by_role("link", name="首次响应").first.click()
    cs.get_by_label("是").first.check()
    cs.get_by_role("button", name="提交完成").click()
    cs.wait_for_url("**/inbox?done=**")
    assert "已完成" in cs.content()

    # An engineer claims the site survey from the list and completes it, wrong first.
    eng = sign_in(browser, base, "eng1")
    eng.goto(base + "/inbox?tab=department")
    shot(eng, "02-engineering-queue-zh")
    submit(eng, eng.get_by_role("button", name="认领").first)
    eng.goto(base + "/inbox?tab=mine")
    eng.get_by_role("link", name="现场勘查").click()
    submit(eng, eng.get_by_role("button", name="提交完成"))
    assert eng.locator(".field.invalid").count() >= 1
    shot(eng, "03-validation-error-zh")
    eng.get_by_label("勘查结果").fill("主卧顶板渗水，需更换防水层")
    eng.get_by_role("button", name="提交完成").click()
    eng.wait_for_url("**/inbox?done=**")

    # The engineering supervisor reassigns the proposal to another engineer.
    sup = sign_in(browser, base, "sup_engineering")
    sup.goto(base + "/inbox?tab=department")
    sup.get_by_role("link", name="提出处理方案").click()
    sup.get_by_label("转派").select_option("eng1")
    submit(sup, sup.get_by_role("button", name="转派"))
    assert "eng1" in sup.content()

    # Time passes: after `flowdesk tick --at` the task shows in the escalated tab.
    later = (clock.now() + timedelta(days=10)).isoformat()
    tick = subprocess.run(
        [FLOWDESK, "tick", "--at", later], env=env, capture_output=True, text=True, timeout=120
    )
    assert tick.returncode == 0, tick.stderr
    sup.goto(base + "/inbox?tab=escalated")
    assert sup.locator("table.inbox tbody tr").count() == 1
    assert "已超时" in sup.content()
    shot(sup, "04-escalated-tab-zh")

    # The case page draws the diagram with completed, open and breached elements marked.
    sup.goto(case_url)
    sup.wait_for_selector("#diagram[data-ready=true]")
    assert sup.locator(".fd-done").count() >= 2
    assert sup.locator(".fd-breached").count() == 1
    shot(sup, "05-case-diagram-zh")

    # English, remembered for the user; and the inbox on a phone.
    submit(sup, sup.get_by_role("button", name="English"))
    sup.goto(base + "/inbox?tab=escalated")
    assert "Escalated to me" in sup.content() and "Breached" in sup.content()
    shot(sup, "06-escalated-tab-en")
    phone = sign_in(browser, base, "cs1", width=390, height=844)
    phone.goto(base + "/inbox?tab=department")
    shot(phone, "07-inbox-phone-zh")
    overflow = phone.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")
    assert not overflow


def test_the_same_work_in_english(server, browser) -> None:  # type: ignore[no-untyped-def]
    base, _ = server
    cs = sign_in(browser, base, "cs2")
    submit(cs, cs.get_by_role("button", name="English"))
    cs.get_by_role("link", name="Register a complaint").click()
    cs.get_by_label("Customer name").fill("Li Na")
    cs.get_by_label("Mobile phone").fill("13900139000")
    cs.get_by_label("Category").select_option("other")
    cs.get_by_label("Description").fill("Noise from the pump room at night")
    cs.get_by_role("button", name="Register a complaint").last.click()
    cs.wait_for_url("**/cases/**")
    assert "Registered: TS-" in cs.content()
    cs.goto(base + "/inbox?tab=department")
    shot(cs, "08-department-queue-en")
    submit(cs, cs.get_by_role("button", name="Claim").first)
    cs.get_by_role("link", name="My tasks").click()
    cs.get_by_role("link", name="Acknowledge the complaint").click()
    cs.get_by_label("Yes").first.check()
    cs.get_by_label("Notes").fill("Called back, visit tomorrow")
    cs.get_by_role("button", name="Complete").click()
    cs.wait_for_url("**/inbox?done=**")
    assert "Completed: Acknowledge the complaint" in cs.content()
    shot(cs, "09-completed-en")


def test_an_auditor_reconstructs_a_case(server, browser) -> None:  # type: ignore[no-untyped-def]
    base, _ = server
    from tests.fixtures.api_client import Api
    from tests.fixtures.shipped import Case

    case = Case(
        Api(),
        "cs1",
        "complaint_handling",
        {
            "customer_name": "张伟",
            "phone": "13800138000",
            "category": "quality",
            "description": "卫生间天花板漏水",
        },
    )
    case.do("acknowledge_complaint", "cs1", {"contacted": True, "notes": "已回电，明天上门"})
    auditor = sign_in(browser, base, "audit")
    assert auditor.get_by_role("button", name="认领").count() == 0
    auditor.get_by_role("link", name="审计").click()
    auditor.wait_for_url("**/audit")
    auditor.get_by_label("事件类型").select_option("task_completed")
    auditor.get_by_role("button", name="搜索").click()
    auditor.wait_for_url("**/audit?**")
    rows = auditor.locator("table.events tbody tr")
    assert rows.count() == 1 and "完成任务" in rows.first.inner_text()
    shot(auditor, "10-audit-search")
    with auditor.expect_download() as download:
        auditor.get_by_role("link", name="导出 CSV（Excel）").click()
    content = Path(download.value.path()).read_bytes()
    assert content.startswith(b"\xef\xbb\xbf") and "task_completed" in content.decode("utf-8-sig")
    assert "13800138000" not in content.decode("utf-8-sig")
    rows.first.get_by_role("link").click()
    auditor.wait_for_url("**/audit/cases/**")
    timeline = auditor.content()
    assert "已回电，明天上门" in timeline and "13800138000" in timeline
    assert "按历史记录重放的数据与案件当前数据一致" in timeline
    shot(auditor, "11-audit-timeline")
    auditor.goto(base + "/audit/verify")
    assert "审计日志完整" in auditor.content()
    shot(auditor, "12-audit-verify")
