"""The admins' calendars and departments page over HTTP (both databases): a year and its
source, the upload of the official schedule (good file, bad files with nothing written,
403 for others and without the CSRF token), each department's calendar and names, the
notification that links there; and the demo accounts on the sign-in page of a database
`seed-demo` made, never elsewhere."""

from __future__ import annotations

import json
import re
from datetime import datetime
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, func, select, update

from crm.demo import DEMO_PASSWORD, seed_demo
from engine import calendar, clock
from engine.db import get_engine, unit_of_work
from engine.identity import SYSTEM, deactivate_user, set_password
from engine.models import CalendarYear, Department, HistoryEvent, User
from engine.rounds import check_calendar_years
from tests.fixtures.factories import make_user
from tests.fixtures.shipped import PROCESSES, setup_shipped
from tests.fixtures.web_client import Browser, signed_in_browsers

SH = ZoneInfo("Asia/Shanghai")
SCHEDULE_2027 = {
    "year": 2027,
    "holidays": {"2027-02-08": "春节", "2027-02-09": "春节", "2027-10-01": "国庆节"},
    "workdays": {"2027-02-20": "春节"},
}


@pytest.fixture
def browsers(db_url: str):  # type: ignore[no-untyped-def]
    clock.set_global_time(datetime(2027, 1, 5, 10, 0, tzinfo=SH))
    api = setup_shipped()
    make_user("root", "admin", display_name="系统管理员甲")
    with signed_in_browsers() as open_browser:
        yield api, open_browser


def upload(b: Browser, content: bytes, *, name: str = "2027.json", csrf: bool = True):  # type: ignore[no-untyped-def]
    data = {"csrf_token": b.csrf, "year": "2027"} if csrf else {"year": "2027"}
    return b.client.post(
        "/admin/calendars/upload", data=data, files={"file": (name, content, "application/json")}
    )


def events(type_: str) -> list[HistoryEvent]:
    with unit_of_work(write=False) as s:
        return list(s.execute(select(HistoryEvent).where(HistoryEvent.type == type_)).scalars())


def loaded_years() -> int:
    with unit_of_work(write=False) as s:
        return s.execute(select(func.count()).select_from(CalendarYear)).scalar_one()


def text_of(html: str) -> str:
    """The page's words, without tags and attribute values (where codes may be)."""
    return unescape(re.sub(r"<[^>]+>", " ", html))


def test_the_notification_links_to_the_page_and_a_good_file_loads_the_year(browsers) -> None:  # type: ignore[no-untyped-def]
    _, open_browser = browsers
    check_calendar_years(clock.now())  # 2027 has only a computed schedule: admins told
    root = open_browser("root")
    notes = root.get("/notifications").text
    link = re.search(
        r'<a href="([^"]+)">2027 年的官方节假日安排尚未导入[^<]*请导入官方安排</a>', notes
    )
    assert link and link.group(1) == "/admin/calendars?year=2027"
    assert 'href="/admin/calendars"' in root.get("/inbox").text  # the admins' nav link
    page = root.get(link.group(1))
    assert page.status_code == 200
    words = text_of(page.text)
    assert "尚无官方安排：按农历推算的法定节假日" in words
    assert "春节" in words and "星期" in words
    assert "computed" not in words and "Spring Festival" not in words

    r = upload(root, json.dumps(SCHEDULE_2027, ensure_ascii=False).encode())
    assert (
        r.status_code == 303 and r.headers["location"] == "/admin/calendars?year=2027&loaded=2027"
    )
    words = text_of(root.get(r.headers["location"]).text)
    assert "已导入 2027 年的官方安排" in words
    assert "已导入官方安排（系统管理员甲，2027-01-05 10:00）" in words
    assert "2027-02-20" in words and "国庆节" in words and "星期六" in words
    assert "loaded" not in words
    (event,) = events("calendar_loaded")
    assert event.actor == "root" and event.data["workdays"] == ["2027-02-20"]
    assert calendar.china_days().schedule(2027).source == calendar.SOURCE_LOADED
    # A year of the package: built in; another year is chosen from the list.
    words = text_of(root.get("/admin/calendars?year=2026").text)
    assert "官方安排（内置，chinese-calendar" in words and "劳动节" in words
    # In English: the computed year's holidays by their English names.
    root.post("/language", {"language": "en", "back": "/inbox"})
    words = text_of(root.get("/admin/calendars?year=2028").text)
    assert "Source:  No official schedule yet" in words and "Weekdays off" in words
    assert "New Year's Day (observed)" in words and "Mid-autumn Festival; National Day" in words
    assert "春节" not in words


BAD_FILES = [
    (b"{not json", "文件不是有效的 JSON（第 1 行第 2 列）"),
    ("年".encode("gbk"), "文件不是 UTF-8 编码的文本"),
    (b"", "请选择要导入的文件"),
    (b'{"year": 2027, "holidays": ["2026-10-01"]}', "holidays：2026-10-01 不在 2027 年"),
    (
        b'{"year": 2027, "holidays": ["2027-10-01"], "workdays": ["2027-10-08"]}',
        "调休上班日必须是星期六或星期日：2027-10-08",
    ),
    (b'{"year": 2027}', "文件没有 2027 年的放假日期"),
    (b"[1, 2]", "文件必须是一个 JSON 对象"),
    (b" " * (64 * 1024 + 1), "文件过大（最多 64 KB）"),
]


def test_a_bad_file_is_refused_in_chinese_and_writes_nothing(browsers) -> None:  # type: ignore[no-untyped-def]
    _, open_browser = browsers
    root = open_browser("root")
    for content, message in BAD_FILES:
        r = upload(root, content)
        assert r.status_code == 422, r.text
        assert message in r.text and "导入官方安排" in r.text
    assert loaded_years() == 0 and events("calendar_loaded") == []


def test_only_admins_with_the_form_token_upload(browsers) -> None:  # type: ignore[no-untyped-def]
    _, open_browser = browsers
    good = json.dumps(SCHEDULE_2027).encode()
    for user in ("sup_sales", "gm"):
        b = open_browser(user)
        assert b.get("/admin/calendars").status_code == 403
        assert 'href="/admin/calendars"' not in b.get("/inbox").text
        assert upload(b, good).status_code == 403
    root = open_browser("root")
    assert upload(root, good, csrf=False).status_code == 403
    assert loaded_years() == 0 and events("calendar_loaded") == []
    anonymous = Browser()
    r = anonymous.get("/admin/calendars")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    anonymous.close()


def department_row(html: str, code: str) -> str:
    return re.search(rf'<tr id="department-{code}">.*?</tr>', html, flags=re.S).group(0)  # type: ignore[union-attr]


def test_an_admin_sets_a_department_calendar_and_its_names(browsers) -> None:  # type: ignore[no-untyped-def]
    api, open_browser = browsers
    root = open_browser("root")
    page = root.get("/admin/calendars").text
    row = department_row(page, "sales")
    assert "销售部" in row and "标准工作日历（周一至周五，法定节假日休息）" in row
    assert "售楼处（每天上班，法定节假日休息）" in row and "全天候（每小时都计时）" in row
    assert "sales_office" not in text_of(page) and "customer_service" not in text_of(page)

    r = root.post(
        "/admin/calendars/departments/sales", {"calendar": "sales_office", "year": "2027"}
    )
    assert r.status_code == 303
    page = root.get(r.headers["location"]).text
    assert "已保存部门日历" in page
    assert '<option value="sales_office" selected>' in department_row(page, "sales")
    with unit_of_work(write=False) as s:
        assert s.get(Department, "sales").calendar == "sales_office"
    (event,) = events("department_calendar_changed")
    assert event.actor == "root" and event.data["calendar"] == "sales_office"
    bad = root.post(
        "/admin/calendars/departments/sales",
        {"calendar": "weekends", "year": "2027", "department": "sales"},
    )
    assert bad.status_code == 422
    assert "请从列表中选择工作日历" in department_row(bad.text, "sales")
    assert root.post("/admin/calendars/departments/hr", {"calendar": "standard"}).status_code == 404

    r = root.post(
        "/admin/departments/customer_service",
        {"name_zh": "客户服务中心", "name_en": "Customer Care", "department": "customer_service"},
    )
    assert r.status_code == 303
    assert "已保存部门名称" in root.get(r.headers["location"]).text
    # Pages that name departments read the new name: the inbox of customer service.
    api.start(
        "cs1",
        "complaint_handling",
        {
            "customer_name": "张伟",
            "phone": "13800138000",
            "category": "other",
            "description": "咨询",
        },
    )
    assert "客户服务中心" in open_browser("cs1").get("/inbox?tab=department").text
    refused = root.post(
        "/admin/departments/customer_service",
        {"name_zh": " ", "name_en": "Customer Care", "department": "customer_service"},
    )
    assert refused.status_code == 422
    row = department_row(refused.text, "customer_service")
    assert "请填写部门名称" in row and 'value="Customer Care"' in row
    with unit_of_work(write=False) as s:
        assert s.get(Department, "customer_service").name_zh == "客户服务中心"
    assert len(events("department_renamed")) == 1
    assert (
        open_browser("cs2")
        .post("/admin/departments/sales", {"name_zh": "营销部", "name_en": "Marketing"})
        .status_code
        == 403
    )


# ---------------------------------------------------------------- the demo accounts


def sign_in_page() -> str:
    b = Browser()
    try:
        r = b.get("/login")
        assert r.status_code == 200
        return r.text
    finally:
        b.close()


def test_the_sign_in_page_shows_the_demo_accounts_of_a_demo_database(db_url: str) -> None:
    seed_demo(PROCESSES)
    page = sign_in_page()
    assert (
        "演示账号" in page
        and f'以下账号的密码都是： <code class="demo-password">{DEMO_PASSWORD}</code>' in page
    )
    row = re.search(r"<tr><td><code>sales_li</code>.*?</tr>", page).group(0)  # type: ignore[union-attr]
    assert "李娜 (置业顾问)" in row and "员工" in row and "销售部" in row
    assert "<code>admin</code></td><td>系统管理员</td><td>系统管理员</td>" in page
    assert "staff" not in text_of(page) and "customer_service" not in text_of(page)
    # Later changes are shown as they are: a deactivated account or a changed password is
    # no longer offered, a new name or department shows as it is now.
    with unit_of_work() as s:
        deactivate_user(s, username="sales_zhou", actor=SYSTEM)
        set_password(s, username="cs_chen", password="a-new-secret", actor=SYSTEM)
        s.execute(update(User).where(User.username == "cs_wang").values(display_name="王芳芳"))
    page = sign_in_page()
    assert "<code>sales_zhou</code>" not in page and "<code>cs_chen</code>" not in page
    assert "王芳芳" in page and "<code>sales_li</code>" in page


def test_no_demo_accounts_on_a_database_the_demo_did_not_make(db_url: str) -> None:
    setup_shipped()
    make_user("admin", "admin", password=DEMO_PASSWORD)  # even a user named like the demo's
    statements: list[str] = []

    def remember(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    engine = get_engine(db_url)
    event.listen(engine, "before_cursor_execute", remember)
    try:
        page = sign_in_page()
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    assert "演示账号" not in page and DEMO_PASSWORD not in page
    # The sign-in page stays cheap: one query, on the history's (type, seq) index.
    (query,) = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert "FROM history_event" in query and "WHERE history_event.type =" in query
