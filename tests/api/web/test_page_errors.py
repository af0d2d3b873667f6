"""How the pages answer domain errors (both databases), each through the one handler of
api/web/kit.py: sign-in for no session, the error page in the user's language for 403
and 404, the task page again for a conflict (409), the form again with its field
messages and what was typed (422). A page completion is one transaction, and every
page form checks the CSRF token."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.routing import iter_route_contexts
from sqlalchemy import event

from api.app import create_app
from engine import clock
from engine.db import get_engine
from tests.api.test_read_only import _snapshot
from tests.fixtures.api_client import Api
from tests.fixtures.shipped import Case, setup_shipped
from tests.fixtures.web_client import Browser

SH = ZoneInfo("Asia/Shanghai")
COMPLAINT = {
    "customer_name": "张伟",
    "phone": "13800138000",
    "project": "滨江壹号",
    "category": "quality",
    "description": "卫生间漏水",
}

World = tuple[Api, Case, Callable[[str], Browser]]


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    """A complaint waiting for customer service's acknowledgement, and browsers."""
    api = setup_shipped()
    clock.set_global_time(datetime(2026, 11, 23, 10, 0, tzinfo=SH))
    case = Case(api, "cs1", "complaint_handling", COMPLAINT)
    opened: list[Browser] = []

    def signed_in(user: str) -> Browser:
        browser = Browser()
        opened.append(browser)
        browser.sign_in(user)
        return browser

    yield api, case, signed_in
    for browser in opened:
        browser.close()


def test_no_session_goes_to_sign_in_and_the_api_stays_json(world: World) -> None:
    api, case, _ = world
    anonymous = Browser()
    try:
        r = anonymous.get(f"/cases/{case.id}?started=1")
        assert r.status_code == 303
        assert r.headers["location"] == f"/login?next=/cases/{case.id}%3Fstarted%3D1"
        assert anonymous.post("/notifications/read-all", csrf=False).status_code == 303
    finally:
        anonymous.close()
    r = api.get("/tasks/nope", "cs1")
    assert r.status_code == 404 and r.json() == {"detail": "task 'nope' does not exist"}


def test_forbidden_page_speaks_the_users_language(world: World) -> None:
    api, case, signed_in = world
    ack = case.task("acknowledge_complaint")
    engineer = signed_in("eng1")
    chinese = engineer.get(f"/tasks/{ack['id']}")
    assert chinese.status_code == 403
    assert "无权访问" in chinese.text and "该任务属于其他部门" in chinese.text
    assert "belongs to another department" not in chinese.text
    assert engineer.post("/language", {"language": "en"}).status_code == 303
    english = engineer.get(f"/tasks/{ack['id']}")
    assert english.status_code == 403
    assert "Not allowed" in english.text
    assert "this task belongs to another department" in english.text
    # The JSON API keeps its English message.
    r = api.get(f"/tasks/{ack['id']}", "eng1")
    assert r.status_code == 403
    assert r.json() == {"detail": "this task belongs to another department"}
    # An auditor's refused form says so in Chinese too.
    auditor = signed_in("audit")
    refused = auditor.post(f"/tasks/{ack['id']}/comments", {"text": "x"})
    assert refused.status_code == 403 and "审计人员只有只读权限" in refused.text


def test_not_found_is_the_error_page(world: World) -> None:
    _, _, signed_in = world
    staff = signed_in("cs2")
    case = staff.get("/cases/nope")
    assert case.status_code == 404
    assert "找不到该页面" in case.text and "案件 nope 不存在" in case.text
    start = staff.get("/start/no_such_process")
    assert start.status_code == 404 and "没有登记页面" in start.text


def test_a_conflict_shows_the_task_again_with_the_reason(world: World) -> None:
    _, case, signed_in = world
    ack = case.task("acknowledge_complaint")
    first, second = signed_in("cs1"), signed_in("cs2")
    assert first.post(f"/tasks/{ack['id']}/claim").status_code == 303
    second.get(f"/tasks/{ack['id']}")
    late = second.post(f"/tasks/{ack['id']}/unclaim")
    assert late.status_code == 409
    assert "该任务已被他人认领（cs1）" in late.text
    assert '<p class="notice error" role="alert">' in late.text  # on the task page
    assert "task is claimed by" not in late.text


def test_a_refused_form_is_shown_again_with_what_was_typed(world: World) -> None:
    _, case, signed_in = world
    case.do("acknowledge_complaint", "cs1", {"contacted": True})
    survey = case.task("site_survey")
    engineer = signed_in("eng1")
    engineer.get(f"/tasks/{survey['id']}")
    refused = engineer.post(
        f"/tasks/{survey['id']}/complete",
        {"findings": " ", "departments": ["engineering", "property"]},
    )
    assert refused.status_code == 422
    assert "请修改标出的字段" in refused.text and 'class="field invalid"' in refused.text
    checked = re.findall(r'name="departments" value="([a-z_]+)" checked', refused.text)
    assert set(checked) == {"engineering", "property"}
    assert case.task("site_survey")["state"] == "open"
    # The start form keeps what was typed too, and says what is wrong in Chinese.
    agent = signed_in("cs2")
    agent.get("/start/complaint_handling")
    start = agent.post(
        "/start/complaint_handling",
        {"customer_name": "王磊", "phone": "123", "category": "quality", "description": "墙裂"},
    )
    assert start.status_code == 422
    assert 'value="王磊"' in start.text and "不是有效的中国大陆手机号" in start.text


def test_a_page_completion_is_one_transaction(world: World, db_url: str) -> None:
    _, case, signed_in = world
    ack = case.task("acknowledge_complaint")
    agent = signed_in("cs1")
    agent.get(f"/tasks/{ack['id']}")
    begun: list[Any] = []

    def count(connection: Any) -> None:
        begun.append(connection)

    engine = get_engine(db_url)
    event.listen(engine, "begin", count)
    try:
        done = agent.post(f"/tasks/{ack['id']}/complete", {"contacted": "true", "notes": "已回电"})
    finally:
        event.remove(engine, "begin", count)
    assert done.status_code == 303, done.text
    assert len(begun) == 1
    assert [t["element_id"] for t in case.open()] == ["site_survey"]


def _page_forms() -> list[tuple[str, str]]:
    app = create_app()
    return sorted(
        (method, str(route.path))
        for route in iter_route_contexts(app.routes)
        for method in set(getattr(route, "methods", None) or ()) - {"GET", "HEAD", "OPTIONS"}
        if not str(route.path).startswith("/api/")
    )


def test_every_page_form_checks_the_csrf_token(world: World) -> None:
    _, case, signed_in = world
    samples = {"task_id": case.task("acknowledge_complaint")["id"]}
    samples["process_key"] = "complaint_handling"
    samples["code"] = "sales"  # a department (/admin/departments/{code})
    samples |= {"username": "cs2", "handover_id": "1"}  # the user administration forms
    samples["instance_id"] = case.id  # the survey link of a case (/cases/{instance_id}/survey)
    samples["decision_id"] = "complaint_routing"  # the routing table (/designer/decisions/…)
    agent = signed_in("cs1")
    before = _snapshot()
    forms = _page_forms()
    assert ("POST", "/tasks/{task_id}/complete") in forms and len(forms) >= 10
    for method, path in forms:
        if (method, path) == ("POST", "/survey/{token}"):
            continue  # the customer's survey: no session, the link's token authorises it
        url = re.sub(r"{([^}]+)}", lambda m: samples[m.group(1)], path)
        body = {"csrf_token": "forged", "text": "x", "username": "cs2", "language": "en"}
        r = agent.client.request(method, url, data=body)
        assert r.status_code == 403, (method, path, r.status_code)
    assert _snapshot() == before
