"""The user administration pages over HTTP (both databases): admins only (403 page for
staff, a supervisor only for the handover of their own department), every form refused
without the session's CSRF token, a refused new user shown again with the Chinese
message beside its field and nothing written, editing, the deactivation that is not
offered (and refused with the counts) while the user holds work, and the handover flow
from preview to deactivation."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest

from engine.db import unit_of_work
from engine.identity import get_user
from engine.queries import instance_history
from tests.crm.leads import assigned, sales_staff
from tests.fixtures.api_client import Api
from tests.fixtures.factories import make_user
from tests.fixtures.shipped import setup_shipped
from tests.fixtures.web_client import Browser, signed_in_browsers

Open = Callable[[str], Browser]


@pytest.fixture
def site(db_url: str) -> Iterator[tuple[Api, Open]]:
    api = setup_shipped()
    make_user("admin1", "admin", display_name="王管理")
    with signed_in_browsers() as open_browser:
        yield api, open_browser


def _history_size() -> int:
    from sqlalchemy import func, select

    from engine.models import HistoryEvent

    with unit_of_work(write=False) as s:
        return int(s.execute(select(func.count()).select_from(HistoryEvent)).scalar_one())


def _user_row(html: str, username: str) -> str:
    rows = re.findall(r"<tr[^>]*>.*?</tr>", html, flags=re.S)
    return next(r for r in rows if f'/admin/users/{username}"' in r)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_staff_get_the_403_page_and_no_link(site) -> None:  # type: ignore[no-untyped-def]
    _, open_browser = site
    staff = open_browser("sales1")
    assert 'href="/admin/users"' not in staff.get("/inbox").text
    for path in ("/admin/users", "/admin/users/sales2", "/admin/users/sales2/handover"):
        r = staff.get(path)
        assert r.status_code == 403, path
        assert "管理员" in r.text and "无权访问" in r.text
    r = staff.post(
        "/admin/users", {"username": "x1", "password": "long-enough-pw", "roles": "staff"}
    )
    assert r.status_code == 403
    assert open_browser("admin1").get("/inbox").text.count('href="/admin/users"') == 1


def test_forms_refused_without_the_csrf_token(site) -> None:  # type: ignore[no-untyped-def]
    _, open_browser = site
    admin = open_browser("admin1")
    before = _history_size()
    fields = {"username": "zhao", "password": "long-enough-pw", "roles": "staff"}
    r = admin.post("/admin/users", {**fields, "department": "sales"}, csrf=False)
    assert r.status_code == 403 and "表单已过期" in r.text
    for path in ("/admin/users/sales2/deactivate", "/admin/users/sales2/password"):
        assert admin.post(path, {"password": "another-long-pw"}, csrf=False).status_code == 403
    with unit_of_work(write=False) as s:
        assert get_user(s, "zhao") is None
        assert get_user(s, "sales2").is_active
    assert _history_size() == before


def test_short_password_shown_in_chinese_beside_its_field_nothing_written(site) -> None:  # type: ignore[no-untyped-def]
    _, open_browser = site
    admin = open_browser("admin1")
    page = admin.get("/admin/users")
    assert page.status_code == 200 and "新增用户" in page.text and "至少 10 个字符" in page.text
    before = _history_size()
    r = admin.post(
        "/admin/users",
        {
            "username": "zhou",
            "password": "short-pw",
            "roles": ["staff"],
            "department": "sales",
            "display_name": "周杰",
        },
    )
    assert r.status_code == 422
    password_field = re.search(
        r'<div class="field invalid">\s*<label for="f_password">.*?</div>', r.text, re.S
    )
    assert password_field is not None
    message = re.search(
        r'<small class="error" role="alert">([^<]+)</small>', password_field.group(0)
    )
    assert message is not None and "10" in message.group(1)
    assert re.search(r"[\u4e00-\u9fff]", message.group(1)), message.group(1)
    assert 'value="周杰"' in r.text and 'value="zhou"' in r.text  # shown again as typed
    with unit_of_work(write=False) as s:
        assert get_user(s, "zhou") is None
    assert _history_size() == before


def test_add_list_filter_and_edit(site) -> None:  # type: ignore[no-untyped-def]
    _, open_browser = site
    admin = open_browser("admin1")
    r = admin.post(
        "/admin/users",
        {
            "username": "zhou",
            "password": "long-enough-pw",
            "roles": ["staff"],
            "department": "sales",
            "display_name": "周杰",
            "email": "zhou@example.cn",
        },
    )
    assert r.status_code == 303, r.text
    page = admin.get(r.headers["location"])
    assert "已新增用户：周杰" in page.text
    row = _text(_user_row(page.text, "zhou"))
    assert "周杰" in row and "员工" in row and "销售部" in row and "在职" in row
    assert "从未登录" in row
    assert "staff" not in row.replace("zhou", "")  # role names, not codes
    again = admin.post(
        "/admin/users",
        {"username": "zhou", "password": "long-enough-pw", "roles": "staff", "department": "sales"},
    )
    assert again.status_code == 409 and "用户名 zhou 已存在" in again.text
    assert "zhou" not in admin.get("/admin/users?department=engineering").text
    assert "zhou" in admin.get("/admin/users?department=sales&active=1").text

    edit = admin.get("/admin/users/zhou")
    assert edit.status_code == 200 and "停用该用户" in edit.text  # holds nothing
    r = admin.post(
        "/admin/users/zhou",
        {
            "roles": ["staff", "supervisor"],
            "department": "sales",
            "display_name": "周杰伦",
            "email": "",
        },
    )
    assert r.status_code == 303
    assert "已保存" in admin.get(r.headers["location"]).text
    row = _text(_user_row(admin.get("/admin/users").text, "zhou"))
    assert "周杰伦" in row and "员工、主管" in row
    r = admin.post("/admin/users/zhou/password", {"password": "short"})
    assert r.status_code == 422 and "10" in r.text
    r = admin.post("/admin/users/zhou/password", {"password": "a-new-long-password"})
    assert r.status_code == 303
    assert "密码已重设" in admin.get(r.headers["location"]).text


def test_deactivation_not_offered_and_refused_while_holding_work(site) -> None:  # type: ignore[no-untyped-def]
    api, open_browser = site
    sales_staff("sales_li", "李明")
    assigned(api, consultant="sales_li")
    admin = open_browser("admin1")
    edit = admin.get("/admin/users/sales_li")
    text = _text(edit.text)
    assert "李明 还有 1 个进行中的任务、1 条跟进中的线索" in text
    assert "先移交工作" in text and 'action="/admin/users/sales_li/deactivate"' not in edit.text
    r = admin.post("/admin/users/sales_li/deactivate")
    assert r.status_code == 409
    assert "1" in _text(r.text) and "停用" in r.text
    with unit_of_work(write=False) as s:
        assert get_user(s, "sales_li").is_active


def test_handover_preview_confirm_then_deactivate(site) -> None:  # type: ignore[no-untyped-def]
    api, open_browser = site
    sales_staff("sales_li", "李明")
    lead = assigned(api, consultant="sales_li")
    admin = open_browser("admin1")
    preview = admin.get("/admin/users/sales_li/handover")
    assert preview.status_code == 200
    text = _text(preview.text)
    assert "李明 有 1 个进行中的任务、1 条跟进中的线索" in text
    assert "李娜" in text and "跟进" in text
    assert (
        '<option value="sales2">' in preview.text
        and '<option value="sales_li">' not in preview.text
    )
    plan = admin.get("/admin/users/sales_li/handover?to=sales2")
    assert "确认移交" in plan.text
    r = admin.post("/admin/users/sales_li/handover", {"to": "sales2"})
    assert r.status_code == 303, r.text
    done = admin.get(r.headers["location"])
    assert "已把 1 个任务、1 条线索移交出去" in _text(done.text)
    assert 'action="/admin/users/sales_li/deactivate"' in done.text
    for other in ("/admin/users/sales2/handovers/1", "/admin/users/sales_li/handovers/x1"):
        assert admin.get(other).status_code == 404  # another user's, or not a handover
    assert admin.get("/admin/users/sales_li/handovers/99999999999999999999").status_code == 404
    assert lead.task("follow_up")["assignee"] == "sales2"
    assert lead.refresh()["variables"]["consultant"] == "sales2"
    r = admin.post("/admin/users/sales_li/deactivate")
    assert r.status_code == 303
    page = admin.get(r.headers["location"])
    assert "已停用：李明" in page.text and "重新启用" in page.text
    with unit_of_work(write=False) as s:
        assert not get_user(s, "sales_li").is_active
        types = [e.type for e in instance_history(s, lead.id)]
    assert len(types) > 0


def test_supervisors_hand_over_their_own_department_only(site) -> None:  # type: ignore[no-untyped-def]
    api, open_browser = site
    lead = assigned(api, consultant="sales2")
    other = open_browser("sup_engineering")
    assert other.get("/admin/users/sales2/handover").status_code == 403
    assert other.post("/admin/users/sales2/handover", {"to": "sales1"}).status_code == 403
    assert open_browser("sales1").get("/handovers").status_code == 403
    sup = open_browser("sup_sales")
    assert sup.get("/admin/users/sales2").status_code == 403  # the edit page stays the admins'
    team = sup.get("/handovers")
    assert 'href="/handovers"' in team.text and 'href="/admin/users"' not in team.text  # nav
    row = next(r for r in re.findall(r"<tr>.*?</tr>", team.text, re.S) if ">sales2<" in r)
    assert "sales2 员工 1 1" in _text(row) and 'href="/admin/users/sales2/handover"' in row
    assert 'href="/admin/users/sales1/handover"' not in team.text  # sales1 holds nothing
    page = sup.get("/admin/users/sales2/handover?to=sales1")
    assert page.status_code == 200 and "sales1：1 个任务、1 条线索" in _text(page.text)
    assert "休假代管" in page.text
    r = sup.post("/admin/users/sales2/handover", {"to": "sales1"})
    assert r.status_code == 303, r.text
    done = sup.get(r.headers["location"])
    assert "交回本人" in done.text and "停用该用户" not in done.text  # admins deactivate
    assert lead.task("follow_up")["assignee"] == "sales1"
    assert "移交给 sales1：1 个任务、1 条线索" in _text(sup.get("/handovers").text)
    back = re.search(r'action="([^"]+/return)"', done.text)
    assert back is not None
    r = sup.post(back.group(1))
    assert r.status_code == 303
    again = sup.get(r.headers["location"])
    assert "已交回 1 个任务、1 条线索" in _text(again.text) and "交回本人" not in again.text
    assert lead.task("follow_up")["assignee"] == "sales2"
    assert lead.refresh()["variables"]["consultant"] == "sales2"
    assert "移交给 sales1" not in _text(sup.get("/handovers").text)


def test_round_robin_over_two_colleagues_and_a_refused_colleague(site) -> None:  # type: ignore[no-untyped-def]
    api, open_browser = site
    sales_staff("sales_li", "李明")
    first = assigned(api, consultant="sales_li", phone="13900139001")
    second = assigned(api, consultant="sales_li", phone="13900139002")
    admin = open_browser("admin1")
    preview = admin.get("/admin/users/sales_li/handover")
    assert "轮流分给几位同事" in preview.text
    assert "13900139001" in preview.text  # admins read phones whole (sees_case_phones)
    before = _history_size()
    r = admin.post("/admin/users/sales_li/handover", {"to": "eng1"})
    assert r.status_code == 422
    assert "eng1 不是销售部的在职员工" in r.text  # the engine's words, the department by name
    assert _history_size() == before
    plan = _text(admin.get("/admin/users/sales_li/handover?to=sales1&to=sales2").text)
    assert "sales1：1 个任务、1 条线索" in plan and "sales2：1 个任务、1 条线索" in plan
    r = admin.post("/admin/users/sales_li/handover", {"to": ["sales1", "sales2"]})
    assert r.status_code == 303
    done = _text(admin.get(r.headers["location"]).text)
    assert "已把 2 个任务、2 条线索移交出去" in done
    owners = {
        first.refresh()["variables"]["consultant"],
        second.refresh()["variables"]["consultant"],
    }
    assert owners == {"sales1", "sales2"}
    r = admin.post("/admin/users/admin1/deactivate")  # not offered on one's own page either
    assert r.status_code == 422 and "不能停用自己的账号" in r.text
