"""The SLA actions on the pages over HTTP (both databases): pausing and resuming from the
task page, the paused state on the task page, the inbox and the case page, 催办 offered
only to those allowed (an escalated supervisor of another department sees 催办, not
认领), a refused reminder shown again, and the notification in Chinese."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from engine import clock
from engine.rounds import run_round
from tests.fixtures.shipped import Case, setup_shipped
from tests.fixtures.web_client import Browser

SH = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


@pytest.fixture
def browsers(db_url: str):  # type: ignore[no-untyped-def]
    api = setup_shipped()
    opened: list[Browser] = []

    def open_browser(user: str) -> Browser:
        b = Browser()
        opened.append(b)
        b.sign_in(user)
        return b

    yield api, open_browser
    for b in opened:
        b.close()


def survey_case(api) -> tuple[Case, dict]:  # type: ignore[no-untyped-def]
    clock.set_global_time(at("2026-11-26T13:00"))
    case = Case(
        api,
        "cs1",
        "complaint_handling",
        {
            "customer_name": "张伟",
            "phone": "13800138000",
            "project": "滨江壹号",
            "category": "quality",
            "description": "卫生间漏水",
        },
    )
    case.do("acknowledge_complaint", "cs1", {"contacted": True})
    return case, case.task("site_survey")


def row_of(html: str, task_id: str) -> str:
    """The inbox row of a task."""
    rows = re.findall(r"<tr[^>]*>.*?</tr>", html, flags=re.S)
    return next(r for r in rows if f'/tasks/{task_id}"' in r)


CLAIM = ">认领</button>"
REMIND = ">催办</"


def test_pause_and_resume_from_the_task_page(browsers) -> None:  # type: ignore[no-untyped-def]
    api, open_browser = browsers
    case, task = survey_case(api)
    eng = open_browser("eng1")
    page = eng.get(f"/tasks/{task['id']}").text
    assert "暂停计时" in page and "等待客户" in page and "等待材料/配件" in page
    assert "waiting_customer" not in re.sub(r'value="[a-z_]+"', "", page)  # codes: values only
    assert "恢复计时" not in page
    clock.set_global_time(at("2026-11-27T17:00"))
    r = eng.post(f"/tasks/{task['id']}/pause", {"reason": "waiting_access", "note": "业主不在家"})
    assert r.status_code == 303
    page = eng.get(r.headers["location"]).text
    assert "已暂停计时" in page
    assert "已暂停（等待入户/进场，自 2026-11-27 17:00）" in page and "业主不在家" in page
    assert "恢复计时" in page and 'action="/tasks/' + task["id"] + '/pause"' not in page
    # The inbox and the case page show it paused.
    inbox = eng.get("/inbox?tab=department").text
    assert "已暂停" in row_of(inbox, task["id"])
    case_page = eng.get(f"/cases/{case.id}").text
    assert "已暂停" in case_page and "暂停了 现场勘查 的计时（等待入户/进场）" in case_page
    # Pausing again (a second tab): the page says why, nothing changes.
    again = eng.post(f"/tasks/{task['id']}/pause", {"reason": "other"})
    assert again.status_code == 409 and "该任务已暂停计时" in again.text
    clock.set_global_time(at("2026-11-30T10:00"))
    r = eng.post(f"/tasks/{task['id']}/resume")
    assert r.status_code == 303
    page = eng.get(r.headers["location"]).text
    assert "已恢复计时" in page and "暂停计时" in page
    assert api.get(f"/tasks/{task['id']}", "eng1").json()["paused"] is False
    # Another department's staff: neither pause nor 催办, and the post is refused.
    prop = open_browser("prop1")
    page = prop.get(f"/tasks/{task['id']}").text
    assert "暂停计时" not in page and REMIND not in page
    assert prop.post(f"/tasks/{task['id']}/pause", {"reason": "other"}).status_code == 403


def test_an_escalated_supervisor_of_another_department_chases_instead_of_claiming(
    browsers,
) -> None:  # type: ignore[no-untyped-def]
    api, open_browser = browsers
    case, task = survey_case(api)
    clock.set_global_time(at("2026-12-01T12:00"))
    run_round(at("2026-12-01T12:00"))  # breached, escalated to customer service (level 2)
    sup = open_browser("sup_customer_service")
    inbox = sup.get("/inbox?tab=escalated").text
    row = row_of(inbox, task["id"])
    assert REMIND in row and CLAIM not in row
    # Every button the task page shows is one the engine accepts from them.
    page = sup.get(f"/tasks/{task['id']}").text
    assert REMIND in page and "提交完成" not in page and CLAIM not in page
    assert "暂停计时" not in page and "转派" not in page
    # An empty reminder: the page again, saying so, beside the 催办 box.
    r = sup.post(f"/tasks/{task['id']}/remind", {"remind_text": "  "})
    assert r.status_code == 422 and "请填写催办内容" in r.text
    r = sup.post(f"/tasks/{task['id']}/remind", {"remind_text": "业主投诉升级，请今天处理"})
    assert r.status_code == 303
    assert "已催办" in sup.get(r.headers["location"]).text
    # Engineering staff read it in Chinese, naming the task and the sender.
    eng = open_browser("eng1")
    notes = eng.get("/notifications").text
    assert "sup_customer_service 催办任务「现场勘查」" in notes
    assert "业主投诉升级，请今天处理" in notes
    assert "催办 现场勘查：业主投诉升级，请今天处理" in eng.get(f"/cases/{case.id}").text
    # The engineer claims from the inbox (theirs to work) and is offered no 催办.
    row = row_of(eng.get("/inbox?tab=department").text, task["id"])
    assert CLAIM in row and REMIND not in row


def test_executives_see_no_claim_button_on_the_all_tab(browsers) -> None:  # type: ignore[no-untyped-def]
    api, open_browser = browsers
    _, task = survey_case(api)
    gm = open_browser("gm")
    row = row_of(gm.get("/inbox?tab=all").text, task["id"])
    assert CLAIM not in row and REMIND in row


def test_a_colleagues_claimed_task_offers_only_what_will_be_accepted(browsers) -> None:  # type: ignore[no-untyped-def]
    api, open_browser = browsers
    clock.set_global_time(at("2026-11-26T13:00"))
    case = Case(
        api,
        "cs1",
        "complaint_handling",
        {
            "customer_name": "张伟",
            "phone": "13800138000",
            "category": "other",
            "description": "物业费发票",
        },
    )
    ack = case.task("acknowledge_complaint")
    assert api.post(f"/tasks/{ack['id']}/claim", "cs1").status_code == 200
    # A colleague: completing or pausing cs1's task would be refused, so neither is offered.
    page = open_browser("cs2").get(f"/tasks/{ack['id']}").text
    assert "提交完成" not in page and "暂停计时" not in page and REMIND not in page
    assert api.complete("cs2", ack["id"], {"contacted": True}).status_code == 409
    # The department's supervisor gives it back, pauses it, chases it; completes nothing.
    page = open_browser("sup_customer_service").get(f"/tasks/{ack['id']}").text
    assert "退回队列" in page and "暂停计时" in page and REMIND in page
    assert "提交完成" not in page
    assert api.complete("sup_customer_service", ack["id"], {"contacted": True}).status_code == 409
    # The holder: complete and pause, no 催办 (staff chase nobody).
    page = open_browser("cs1").get(f"/tasks/{ack['id']}").text
    assert "提交完成" in page and "暂停计时" in page and REMIND not in page


def test_the_paused_state_and_the_reminder_read_in_english(browsers) -> None:  # type: ignore[no-untyped-def]
    api, open_browser = browsers
    _, task = survey_case(api)
    clock.set_global_time(at("2026-11-27T17:00"))
    assert (
        api.post(f"/tasks/{task['id']}/pause", "eng1", json={"reason": "waiting_parts"}).status_code
        == 200
    )
    assert api.post(f"/tasks/{task['id']}/remind", "gm", json={"text": "ASAP"}).status_code == 201
    eng = open_browser("eng1")
    eng.post("/language", {"language": "en", "back": "/inbox"})
    page = eng.get(f"/tasks/{task['id']}").text
    assert "Paused (Waiting for parts, since 27 Nov 2026 17:00)" in page
    assert "Resume the clock" in page and "(paused)" in page
    assert "gm is chasing task" in eng.get("/notifications").text
