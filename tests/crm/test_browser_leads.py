"""Leads in a real browser (Playwright, Debian's chromium): the 登记来访 page warns of a
running lead of the same phone and project before anything is submitted and refuses
the submit; a follow-up reassigned by the supervisor stays with the new consultant.
Screenshots go to test-artifacts/."""

from __future__ import annotations

from tests.crm.leads import sales_staff
from tests.fixtures.api_client import Api
from tests.fixtures.browser import pytestmark, shot, sign_in, submit
from tests.fixtures.shipped import Case

__all__ = ["pytestmark"]  # the module's skip rule comes from the fixtures


def test_duplicate_lead_warned_and_reassigned_lead_stays(server, browser) -> None:  # type: ignore[no-untyped-def]
    base, _ = server
    sales_staff("sales_li", "李明")
    sales_staff("sales_zhou", "周杰")
    api = Api()
    # The first visit is registered at the desk and given to 李明.
    desk = sign_in(browser, base, "sales1")
    desk.get_by_role("link", name="登记来访").click()
    desk.get_by_label("客户姓名").fill("李娜")
    desk.locator("#f_phone").fill("13900139000")
    desk.get_by_label("意向项目").fill("云山府")
    desk.get_by_label("来源").select_option("walk_in")
    desk.get_by_role("button", name="登记来访").last.click()
    desk.wait_for_url("**/cases/**")
    case_url = desk.url.split("?")[0]
    lead = Case.__new__(Case)
    lead.api, lead.id = api, case_url.rsplit("/", 1)[-1]
    lead.do("assign_consultant", "sales1", {"consultant": "sales_li"})
    follow = lead.task("follow_up")
    assert follow["assignee"] == "sales_li"

    # The visitor comes back: the desk looks them up by phone first.
    desk.get_by_role("link", name="登记来访").click()
    desk.get_by_label("按电话查找已有客户").fill("13900139000")
    desk.get_by_role("button", name="查找").click()
    running = desk.locator(".running-leads")
    assert "该客户已有跟进中的线索" in running.inner_text()
    assert "云山府" in running.inner_text() and "置业顾问：李明" in running.inner_text()
    # Typing the same project warns at once, before anything is submitted ...
    warning = desk.locator("#lead-duplicate")
    assert warning.is_hidden()
    desk.get_by_label("意向项目").fill("滨江壹号")
    desk.get_by_label("客户姓名").click()
    desk.wait_for_timeout(600)
    assert warning.is_hidden()  # another project is fine
    desk.get_by_label("意向项目").fill("云山府")
    desk.get_by_label("客户姓名").click()
    warning.wait_for(state="visible")
    assert "置业顾问：李明" in warning.inner_text()
    assert "请勿重复登记" in warning.inner_text()
    shot(desk, "13-lead-duplicate-zh")
    # ... and a submit made anyway is refused with the same words, nothing registered.
    desk.get_by_role("button", name="登记来访").last.click()
    refused = desk.locator("p.notice.error[role=alert]").first
    assert "置业顾问：李明" in refused.inner_text()
    assert desk.get_by_label("意向项目").input_value() == "云山府"
    shot(desk, "13-lead-duplicate-refused-zh")
    assert len(api.tasks("gm", scope="all", process_key="lead_follow_up")) == 1

    # The sales supervisor hands the follow-up to 周杰 (转派).
    sup = sign_in(browser, base, "sup_sales")
    sup.goto(f"{base}/tasks/{follow['id']}")
    sup.get_by_label("转派").select_option("sales_zhou")
    submit(sup, sup.get_by_role("button", name="转派"))
    assert lead.refresh()["variables"]["consultant"] == "sales_zhou"
    sup.goto(case_url)
    assert "把 跟进 转派给 周杰，置业顾问改为 周杰" in sup.locator("body").inner_text()
    shot(sup, "13-lead-reassigned-case-zh")

    # 周杰 completes it; the next follow-up is in HIS inbox, not in 李明's.
    zhou = sign_in(browser, base, "sales_zhou")
    zhou.goto(base + "/inbox?tab=mine")
    zhou.get_by_role("link", name="跟进").click()
    zhou.get_by_label("客户阶段").select_option("prospect")
    zhou.get_by_label("备注").fill("客户看了样板间，下周带家人再来")
    zhou.get_by_role("button", name="提交完成").click()
    zhou.wait_for_url("**/inbox?done=**")
    zhou.goto(base + "/inbox?tab=mine")
    rows = zhou.locator("table.inbox tbody tr")
    assert rows.count() == 1 and "跟进" in rows.first.inner_text()
    shot(zhou, "13-lead-reassigned-inbox-zh")
    li = sign_in(browser, base, "sales_li")
    li.goto(base + "/inbox?tab=mine")
    assert li.locator("table.inbox tbody tr").count() == 0
    [customer] = api.get("/customers", "gm").json()["items"]
    [record] = api.get(f"/customers/{customer['id']}", "gm").json()["leads"]
    assert record["consultant"] == "sales_zhou"
    customer_page = zhou
    customer_page.goto(f"{base}/customers/{customer['id']}")
    shot(customer_page, "13-lead-customer-zh")
