"""A consultant leaves, in a real browser (Playwright, Debian's chromium): the admin adds
a sales consultant in the page, the consultant signs in and gets a lead's follow-up;
the admin previews the handover, hands the work to a colleague and deactivates the
consultant; the colleague finds the lead in their inbox, and the consultant's open page
is signed out. Screenshots go to test-artifacts/."""

from __future__ import annotations

from tests.crm.leads import visitor
from tests.fixtures.api_client import Api
from tests.fixtures.browser import pytestmark, shot, sign_in
from tests.fixtures.factories import make_user
from tests.fixtures.shipped import Case

__all__ = ["pytestmark"]  # the module's skip rule comes from the fixtures

PASSWORD = "li-ming-2026!"


def test_admin_adds_a_consultant_hands_over_and_deactivates(server, browser) -> None:  # type: ignore[no-untyped-def]
    base, _ = server
    make_user("admin1", "admin", display_name="王管理")
    admin = sign_in(browser, base, "admin1")
    admin.get_by_role("link", name="用户管理").click()
    admin.wait_for_url("**/admin/users")
    admin.locator("summary", has_text="新增用户").click()
    form = admin.locator("form.add-user")
    form.get_by_label("用户名").fill("sales_li")
    form.get_by_label("姓名").fill("李明")
    form.get_by_label("员工").check()
    form.get_by_label("部门").select_option(label="销售部")
    form.get_by_label("初始密码").fill("short")
    form.get_by_role("button", name="新增用户").click()
    error = admin.locator(".field.invalid small.error").first
    assert "10" in error.inner_text()
    shot(admin, "15-users-add-refused-zh")
    form.get_by_label("初始密码").fill(PASSWORD)  # the other fields came back as typed
    form.get_by_role("button", name="新增用户").click()
    admin.wait_for_url("**/admin/users?added=*")
    row = admin.locator("tr", has_text="sales_li")
    assert (
        "李明" in row.inner_text() and "员工" in row.inner_text() and "销售部" in row.inner_text()
    )
    shot(admin, "15-users-list-zh")

    # The new consultant signs in (their own browser) and is given a lead.
    li = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    li.goto(base + "/login")
    li.get_by_label("用户名").fill("sales_li")
    li.get_by_label("密码").fill(PASSWORD)
    li.get_by_role("button", name="登录").click()
    li.wait_for_url("**/inbox")
    api = Api()
    lead = Case(api, "sales1", "lead_follow_up", visitor())
    lead.do("assign_consultant", "sales1", {"consultant": "sales_li"})
    li.goto(base + "/inbox?tab=mine")
    assert "李娜" in li.locator("table.inbox").inner_text()

    # The admin: deactivation is not offered while 李明 holds work; hand over first.
    admin.goto(f"{base}/admin/users/sales_li")
    assert admin.get_by_role("button", name="停用该用户").count() == 0
    assert "还有 1 个进行中的任务、1 条跟进中的线索" in admin.locator("main").inner_text()
    shot(admin, "15-user-holds-work-zh")
    admin.get_by_role("link", name="先移交工作").click()
    admin.wait_for_url("**/handover")
    assert "李娜" in admin.locator("table.handover-leads").inner_text()
    admin.locator("form.handover-one").get_by_label("接手同事").select_option("sales2")
    admin.locator("form.handover-one").get_by_role("button", name="预览移交").click()
    admin.wait_for_url("**/handover?to=sales2*")
    assert "sales2：1 个任务、1 条线索" in admin.locator("form.handover-confirm").inner_text()
    shot(admin, "15-handover-preview-zh")
    admin.get_by_role("button", name="确认移交").click()
    admin.wait_for_url("**/handovers/*")
    assert "已把 1 个任务、1 条线索移交出去" in admin.locator("main").inner_text()
    shot(admin, "15-handover-done-zh")
    admin.get_by_role("button", name="停用该用户").click()
    admin.wait_for_url("**/admin/users/sales_li?done=deactivated")
    assert "已停用：李明" in admin.locator("main").inner_text()
    shot(admin, "15-user-deactivated-zh")

    # The colleague finds the lead in their own tasks; 李明's open page is signed out.
    colleague = sign_in(browser, base, "sales2")
    colleague.goto(base + "/inbox?tab=mine")
    assert "李娜" in colleague.locator("table.inbox").inner_text()
    shot(colleague, "15-colleague-inbox-zh")
    # The sales supervisor's holiday-cover page lists the department with what each holds.
    sup = sign_in(browser, base, "sup_sales")
    sup.get_by_role("link", name="休假代管").click()
    sup.wait_for_url("**/handovers")
    assert "李明" not in sup.locator("table.users").inner_text()  # deactivated: not listed
    assert sup.locator("tr", has_text="sales2").get_by_role("link", name="移交工作").count() == 1
    shot(sup, "15-supervisor-cover-zh")
    li.reload()
    assert li.url.startswith(base + "/login"), li.url  # signed out: the sign-in form
    assert li.get_by_role("button", name="登录").is_visible()
    assert lead.refresh()["variables"]["consultant"] == "sales2"
