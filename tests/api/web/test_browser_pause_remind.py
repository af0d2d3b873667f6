"""Pausing the SLA clock and chasing a task in a real browser (Playwright driving Debian's
chromium against `flowdesk serve`): an engineer pauses a site survey waiting for the
owner, it shows paused on its page and in the inbox and stays on track through rounds
far past its due time; the customer-service supervisor a second survey escalated to
sees 催办 and no 认领 in the escalated tab, chases it, and the engineer reads the
reminder in Chinese. Screenshots go to test-artifacts/."""

from __future__ import annotations

import subprocess
from datetime import timedelta

from engine import clock
from tests.fixtures.api_client import Api
from tests.fixtures.browser import FLOWDESK, pytestmark, shot, sign_in
from tests.fixtures.shipped import Case

__all__ = ["pytestmark"]  # the module's skip rule comes from the fixtures


def _survey(api: Api, customer: str, phone: str) -> dict:
    case = Case(
        api,
        "cs1",
        "complaint_handling",
        {
            "customer_name": customer,
            "phone": phone,
            "project": "滨江壹号",
            "unit": "3栋1502",
            "category": "quality",
            "description": "卫生间天花板漏水",
        },
    )
    case.do("acknowledge_complaint", "cs1", {"contacted": True})
    return case.task("site_survey")


def test_pause_on_the_task_page_and_chase_from_the_escalated_tab(server, browser) -> None:  # type: ignore[no-untyped-def]
    base, env = server
    api = Api()
    waiting = _survey(api, "张伟", "13800138000")
    late = _survey(api, "李娜", "13900139000")

    # The engineer pauses the first survey: the owner is away.
    eng = sign_in(browser, base, "eng1")
    eng.goto(f"{base}/tasks/{waiting['id']}")
    eng.get_by_label("暂停原因").select_option(label="等待客户")
    eng.get_by_label("说明（选填）").fill("业主出差，下周一回来")
    shot(eng, "13-pause-form-zh")
    eng.get_by_role("button", name="暂停计时").click()
    eng.wait_for_selector(".paused-state")
    text = eng.locator(".sla-actions").inner_text()
    assert "已暂停（等待客户，自" in text and "业主出差，下周一回来" in text
    assert eng.get_by_role("button", name="恢复计时").is_visible()
    shot(eng, "13-paused-task-zh")

    # Rounds ten days on: the paused survey stays on track, the other one escalates.
    later = (clock.now() + timedelta(days=10)).isoformat()
    tick = subprocess.run(
        [FLOWDESK, "tick", "--at", later], env=env, capture_output=True, text=True, timeout=120
    )
    assert tick.returncode == 0, tick.stderr
    eng.goto(f"{base}/inbox?tab=department")
    paused_row = eng.locator("tr", has=eng.locator(f'a[href="/tasks/{waiting["id"]}"]'))
    assert paused_row.locator(".badge.paused").inner_text() == "已暂停"
    assert paused_row.locator(".badge.on_track").inner_text() == "正常"
    late_row = eng.locator("tr", has=eng.locator(f'a[href="/tasks/{late["id"]}"]'))
    assert late_row.locator(".badge.breached").count() == 1
    assert late_row.locator(".badge.paused").count() == 0
    shot(eng, "13-paused-inbox-zh")

    # The customer-service supervisor: 催办, never 认领, on the escalated survey.
    sup = sign_in(browser, base, "sup_customer_service")
    sup.goto(f"{base}/inbox?tab=escalated")
    row = sup.locator("tr", has=sup.locator(f'a[href="/tasks/{late["id"]}"]'))
    assert row.get_by_role("link", name="催办").is_visible()
    assert sup.get_by_role("button", name="认领").count() == 0
    shot(sup, "13-escalated-remind-zh")
    row.get_by_role("link", name="催办").click()
    sup.wait_for_url(f"**/tasks/{late['id']}#remind")
    assert sup.get_by_role("button", name="提交完成").count() == 0
    assert sup.get_by_role("button", name="暂停计时").count() == 0
    sup.get_by_label("催办内容").fill("业主已投诉到总部，请今天上门勘查")
    sup.get_by_role("button", name="催办").click()
    sup.wait_for_url("**sla_done=reminded_ok")
    assert "已催办：现场勘查" in sup.content()
    shot(sup, "13-remind-sent-zh")

    # The engineer reads it among the notifications, in Chinese.
    eng.goto(f"{base}/notifications")
    note = eng.locator(".notifications li", has_text="催办任务")
    assert note.count() == 1
    assert "sup_customer_service 催办任务「现场勘查」" in note.inner_text()
    assert "业主已投诉到总部，请今天上门勘查" in note.inner_text()
    shot(eng, "13-reminder-notification-zh")
