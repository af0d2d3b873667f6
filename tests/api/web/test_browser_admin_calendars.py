"""The admins' calendars page in a real browser (Playwright driving Debian's chromium
against `flowdesk serve`): the admin follows the "请导入官方安排" notification to the
page, uploads the year's official schedule and sees it marked loaded; the sign-in page
of a demo database lists the demo accounts. Screenshots go to test-artifacts/."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from engine.db import unit_of_work
from engine.demo_accounts import record_demo_seeded
from engine.rounds import check_calendar_years
from tests.fixtures.browser import pytestmark, shot, sign_in
from tests.fixtures.factories import make_user

__all__ = ["pytestmark"]  # the module's skip rule comes from the fixtures

SCHEDULE_2027 = {
    "year": 2027,
    "holidays": {
        "2027-01-01": "元旦",
        "2027-02-05": "春节",
        "2027-02-08": "春节",
        "2027-02-09": "春节",
        "2027-02-10": "春节",
        "2027-02-11": "春节",
    },
    "workdays": {"2027-02-20": "春节"},
}


def test_admin_loads_a_year_from_the_notification_and_demo_accounts_show(  # type: ignore[no-untyped-def]
    server, browser, tmp_path: Path
) -> None:
    base, _ = server
    make_user("root", "admin", display_name="系统管理员")
    # December 2026: the coming weeks reach into 2027, which has no official schedule yet.
    check_calendar_years(datetime(2026, 12, 20, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")))

    page = sign_in(browser, base, "root")
    page.get_by_role("link", name="通知").click()
    note = page.get_by_role(
        "link", name="2027 年的官方节假日安排尚未导入，正在使用推算的日历；请导入官方安排"
    )
    shot(page, "admin_calendars_notification")
    note.click()
    page.wait_for_url("**/admin/calendars?year=2027")
    source = page.locator(".calendar-source")
    assert "尚无官方安排" in source.inner_text()
    shot(page, "admin_calendars_computed")

    file = tmp_path / "2027.json"
    file.write_text(json.dumps(SCHEDULE_2027, ensure_ascii=False), encoding="utf-8")
    page.get_by_label("文件").set_input_files(str(file))
    page.get_by_role("button", name="导入官方安排").click()
    page.wait_for_url("**/admin/calendars?year=2027&loaded=2027")
    assert page.get_by_role("status").inner_text() == "已导入 2027 年的官方安排"
    assert source.inner_text().startswith("来源：已导入官方安排（系统管理员，")
    assert "2027-02-20" in page.locator(".admin-columns").inner_text()
    shot(page, "admin_calendars_loaded")

    # A demo database: the sign-in page offers its accounts, as `seed-demo` marks them.
    make_user("li_na", "staff", department="sales", display_name="李娜 (置业顾问)")
    make_user("wang_fang", "staff", department="customer_service", display_name="王芳 (客服)")
    make_user("zhao", "supervisor", department="customer_service", display_name="赵主管")
    with unit_of_work() as session:
        users = ["li_na", "wang_fang", "zhao", "root"]
        record_demo_seeded(session, usernames=users, password="secret-pass")
    login = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    login.goto(base + "/login")
    demo = login.get_by_role("region", name="演示账号")
    assert "以下账号的密码都是： secret-pass" in demo.inner_text()
    assert "客服部" in demo.inner_text() and "customer_service" not in demo.inner_text()
    shot(login, "login_demo_accounts")
