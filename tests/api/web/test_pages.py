"""The staff pages over HTTP (both databases): sign-in with a session cookie and
CSRF, the inbox tabs and filters, claiming from the list, the task form with
server-side validation, reassigning, starting a case, the case page, language."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from engine import clock
from engine.rounds import run_round
from tests.fixtures.factories import make_user
from tests.fixtures.shipped import Case, setup_shipped
from tests.fixtures.web_client import Browser

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def browsers(db_url: str):  # type: ignore[no-untyped-def]
    api = setup_shipped()
    opened: list[Browser] = []

    def open_browser(user: str | None = None) -> Browser:
        b = Browser()
        opened.append(b)
        if user:
            b.sign_in(user)
        return b

    yield api, open_browser
    for b in opened:
        b.close()


def complaint(category: str = "quality") -> dict:
    return {
        "customer_name": "张伟",
        "phone": "13800138000",
        "project": "滨江壹号",
        "unit": "3栋1502",
        "category": category,
        "description": "卫生间漏水",
    }


def test_sign_in_session_cookie_and_csrf(browsers) -> None:  # type: ignore[no-untyped-def]
    _, open_browser = browsers
    b = open_browser()
    assert b.get("/inbox").headers["location"].startswith("/login")
    page = b.get("/login")
    assert "登录" in page.text
    wrong = b.post("/login", {"username": "cs1", "password": "nope", "next": "/inbox"})
    assert wrong.status_code == 401 and "用户名或密码不正确" in wrong.text
    forged = b.post("/login", {"username": "cs1", "password": "secret-pass"}, csrf=False)
    assert forged.status_code == 403
    b.get("/login")
    ok = b.post("/login", {"username": "cs1", "password": "secret-pass", "next": "/inbox"})
    assert ok.status_code == 303 and ok.headers["location"] == "/inbox"
    cookie = next(
        v
        for k, v in ok.headers.multi_items()
        if k == "set-cookie" and v.startswith("flowdesk_session=")
    )
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Max-Age=43200" in cookie
    assert b.get("/inbox").status_code == 200
    # Only our own pages are redirect targets.
    assert (
        b.post("/language", {"language": "zh-CN", "back": "//evil.example/x"}).headers["location"]
        == "/inbox"
    )
    # A form without the session's CSRF token changes nothing.
    assert b.post("/language", {"language": "en"}, csrf=False).status_code == 403
    assert b.post("/logout").status_code == 303
    assert b.get("/inbox").status_code == 303


def test_inbox_tabs_filters_claim_and_complete(browsers) -> None:  # type: ignore[no-untyped-def]
    api, open_browser = browsers
    clock.set_global_time(datetime(2026, 11, 23, 10, 0, tzinfo=SH))
    first = Case(api, "cs1", "complaint_handling", complaint())
    Case(
        api,
        "cs1",
        "complaint_handling",
        {**complaint("other"), "customer_name": "李娜", "phone": "13900139000"},
    )
    cs = open_browser("cs2")
    page = cs.get("/inbox?tab=department")
    assert page.status_code == 200
    assert re.search(r"部门队列 <span class=\"count\">2</span>", page.text)
    # customer service works every complaint: the number is whole (CONTRACT.md)
    assert "13800138000" in page.text and "138****8000" not in page.text
    assert "剩余 2小时" in page.text
    only = cs.get("/inbox?tab=department&q=李娜")
    assert "李娜" in only.text and "张伟" not in only.text
    by_phone = cs.get("/inbox?tab=department&q=8000")  # a phone's last four digits
    assert "张伟" in by_phone.text and "李娜" not in by_phone.text
    assert "张伟" not in cs.get("/inbox?tab=department&q=13800138").text  # no prefix
    ack = first.task("acknowledge_complaint")
    claimed = cs.post(f"/tasks/{ack['id']}/claim", {"back": "/inbox?tab=department"})
    assert claimed.status_code == 303
    mine = cs.get("/inbox?tab=mine")
    assert re.search(r"我的任务 <span class=\"count\">1</span>", mine.text)

    task_page = cs.get(f"/tasks/{ack['id']}")
    assert "是否已联系客户" in task_page.text or "contacted" in task_page.text
    done = cs.post(f"/tasks/{ack['id']}/complete", {"contacted": "true", "notes": "已回电"})
    assert done.status_code == 303 and done.headers["location"].startswith("/inbox?done=")
    assert "已完成" in cs.get(done.headers["location"]).text

    eng = open_browser("eng1")
    survey = first.task("site_survey")
    invalid = eng.post(f"/tasks/{survey['id']}/complete", {"findings": ""})
    assert invalid.status_code == 422
    assert 'class="field invalid"' in invalid.text and "请修改标出的字段" in invalid.text
    assert first.task("site_survey")["state"] == "open"
    ok = eng.post(f"/tasks/{survey['id']}/complete", {"findings": "水管破裂"})
    assert ok.status_code == 303


def test_reassign_escalated_tab_language_and_case_page(browsers) -> None:  # type: ignore[no-untyped-def]
    api, open_browser = browsers
    clock.set_global_time(datetime(2026, 11, 23, 10, 0, tzinfo=SH))
    case = Case(api, "cs1", "complaint_handling", complaint("other"))
    ack = case.task("acknowledge_complaint")
    sup = open_browser("sup_customer_service")
    assert '升级给我 <span class="count">0</span>' in sup.get("/inbox").text
    staff = open_browser("cs1")
    assert staff.post(f"/tasks/{ack['id']}/assign", {"username": "cs2"}).status_code == 403
    moved = sup.post(f"/tasks/{ack['id']}/assign", {"username": "cs2"})
    assert moved.status_code == 303
    assert case.task("acknowledge_complaint")["assignee"] == "cs2"

    clock.set_global_time(datetime(2026, 11, 23, 13, 30, tzinfo=SH))
    run_round(clock.now())
    tab = sup.get("/inbox?tab=escalated")
    assert '升级给我 <span class="count">1</span>' in tab.text and "L1" in tab.text
    assert "超时 30分" in tab.text  # working time past the due time

    assert (
        sup.post("/language", {"language": "en", "back": "/inbox?tab=escalated"}).status_code == 303
    )
    english = sup.get("/inbox?tab=escalated")
    assert "Escalated to me" in english.text and "overdue by 30 min working time" in english.text
    other = open_browser("sup_customer_service")  # remembered on the user, not the browser
    assert "Escalated to me" in other.get("/inbox").text

    page = sup.get(f"/cases/{case.id}")
    assert page.status_code == 200
    assert "acknowledge_complaint" in page.text  # marked in the diagram data
    assert "/static/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js" in page.text


def test_start_pages_and_auditors(browsers) -> None:  # type: ignore[no-untyped-def]
    _, open_browser = browsers
    cs = open_browser("cs1")
    form = cs.get("/start/complaint_handling")
    assert form.status_code == 200 and "登记投诉" in form.text
    bad = cs.post(
        "/start/complaint_handling",
        {"customer_name": "王磊", "phone": "123", "category": "quality", "description": "x"},
    )
    assert bad.status_code == 422 and "手机号" in bad.text
    good = cs.post(
        "/start/complaint_handling",
        {
            "customer_name": "王磊",
            "phone": "13700137000",
            "category": "quality",
            "description": "墙裂",
        },
    )
    assert good.status_code == 303 and good.headers["location"].startswith("/cases/")
    assert "已登记" in cs.get(good.headers["location"]).text
    auditor = open_browser("audit")
    assert (
        auditor.post(
            "/start/complaint_handling",
            {
                "customer_name": "x",
                "phone": "13700137001",
                "category": "quality",
                "description": "x",
            },
        ).status_code
        == 403
    )


def test_customer_page_lookup_english_names_and_timeline(browsers) -> None:  # type: ignore[no-untyped-def]
    api, open_browser = browsers
    clock.set_global_time(datetime(2026, 11, 23, 10, 0, tzinfo=SH))
    case = Case(api, "cs1", "complaint_handling", complaint())
    case.do("acknowledge_complaint", "cs1", {"contacted": True})
    cs = open_browser("cs2")
    # The start page finds the customer by phone and says the case will be linked.
    found = cs.get("/start/lead_follow_up?phone=13800138000")
    assert "已有客户：张伟" in found.text and 'value="张伟"' in found.text
    assert "新客户" in cs.get("/start/lead_follow_up?phone=13900000000").text
    page = cs.get(f"/cases/{case.id}")
    customer_link = re.search(r'href="/customers/(\d+)"', page.text)
    assert customer_link is not None
    assert "完成了 首次响应（分派后 0分）" in page.text  # display names and working time
    assert "<dt>投诉类别</dt><dd>工程质量</dd>" in page.text  # case data with form labels
    customer = cs.get(f"/customers/{customer_link.group(1)}")
    assert customer.status_code == 200 and "张伟" in customer.text
    assert f"/cases/{case.id}" in customer.text
    # Task names come from the BPMN's name_en in English; the task filter lists them.
    eng = open_browser("eng1")
    eng.post("/language", {"language": "en"})
    queue = eng.get("/inbox?tab=department")
    assert "Site survey" in queue.text and "现场勘查" not in queue.text
    assert '<option value="site_survey"' in queue.text
    only = eng.get("/inbox?tab=department&element=execute_fix")
    assert "No tasks" in only.text


def test_user_fields_offer_the_people_they_accept(browsers) -> None:  # type: ignore[no-untyped-def]
    api, open_browser = browsers
    case = Case(
        api,
        "sales1",
        "lead_follow_up",
        {"name": "李雷", "phone": "13900139000", "project": "云山府", "source": "walk_in"},
    )
    sales = open_browser("sales1")
    page = sales.get(f"/tasks/{case.task('assign_consultant')['id']}")
    options = re.findall(r'<option value="([a-z0-9_]+)"[^>]*>[^<]*\(', page.text)
    assert set(options) == {"sales1", "sales2"}  # sales staff only, not supervisors
    done = sales.post(
        f"/tasks/{case.task('assign_consultant')['id']}/complete", {"consultant": "sales2"}
    )
    assert done.status_code == 303


def test_forged_and_expired_sessions_sign_out(browsers, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _, open_browser = browsers
    b = open_browser("cs1")
    assert b.get("/inbox").status_code == 200
    cookie = b.client.cookies.get("flowdesk_session")
    b.client.cookies.set("flowdesk_session", cookie[:-2] + ("AA" if cookie[-2:] != "AA" else "BB"))
    assert b.get("/inbox").headers["location"].startswith("/login")
    b.client.cookies.set("flowdesk_session", cookie)
    assert b.get("/inbox").status_code == 200
    import itsdangerous

    real_time = itsdangerous.timed.time.time
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real_time() + 13 * 3600)
    assert b.get("/inbox").headers["location"].startswith("/login")  # older than 12 hours


def test_a_task_someone_else_holds_says_so(browsers) -> None:  # type: ignore[no-untyped-def]
    api, open_browser = browsers
    case = Case(api, "cs1", "complaint_handling", complaint("other"))
    ack = case.task("acknowledge_complaint")
    first, second = open_browser("cs1"), open_browser("cs2")
    assert first.post(f"/tasks/{ack['id']}/claim").status_code == 303
    second.get(f"/tasks/{ack['id']}")
    late = second.post(f"/tasks/{ack['id']}/complete", {"contacted": "true"})
    assert late.status_code == 409 and "该任务已被他人认领" in late.text


def test_each_role_lands_on_its_own_work(browsers) -> None:  # type: ignore[no-untyped-def]
    """Signing in from /login itself (no page asked for) opens the role's own work."""
    _, open_browser = browsers
    make_user("root1", "admin")
    landing = {
        "cs1": "/inbox",
        "sup_customer_service": "/inbox",
        "gm": "/reports",
        "dora": "/designer",
        "root1": "/admin/users",
        "audit": "/audit",
    }
    for user, page in landing.items():
        b = open_browser()
        form = b.get("/login")
        assert 'name="next" value=""' in form.text
        r = b.post("/login", {"username": user, "password": "secret-pass", "next": ""})
        assert (r.status_code, r.headers["location"]) == (303, page), user
        assert b.get(page).status_code == 200, user
    # A page asked for still wins over the landing page.
    b = open_browser()
    b.get("/login")
    r = b.post("/login", {"username": "dora", "password": "secret-pass", "next": "/inbox"})
    assert r.headers["location"] == "/inbox"
