"""Chasing a task (催办, engine/reminders.py) through the API, on both databases: who
may, the notification to the assignee or to each member of the department, naming the
task and the sender, the history event, and the refusals."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from engine import access, clock
from engine.db import unit_of_work
from engine.identity import actor_for, create_user, get_user
from engine.models import Task
from engine.reminders import escalated_to_actor
from engine.rounds import run_round
from tests.fixtures.api_client import Api
from tests.fixtures.shipped import Case, setup_shipped

SH = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


@pytest.fixture
def api(db_url: str) -> Api:
    api = setup_shipped()
    with unit_of_work() as session:
        create_user(
            session,
            username="cs_head",
            password="secret-pass",
            roles=["supervisor"],
            department="customer_service",
            display_name="王芳",
        )
    return api


def complaint() -> dict:
    return {
        "customer_name": "张伟",
        "phone": "13800138000",
        "project": "滨江壹号",
        "unit": "3栋1502",
        "category": "quality",
        "description": "卫生间漏水",
    }


def survey(api: Api) -> tuple[Case, dict]:
    clock.set_global_time(at("2026-11-26T13:00"))
    case = Case(api, "cs1", "complaint_handling", complaint())
    case.do("acknowledge_complaint", "cs1", {"contacted": True})
    return case, case.task("site_survey")


def remind(api: Api, user: str, task_id: str, text: object = "请今天上门勘查", **kw: object):  # type: ignore[no-untyped-def]
    return api.post(f"/tasks/{task_id}/remind", user, json={"text": text}, **kw)


def reminders_of(api: Api, user: str, **kw: object) -> list[dict]:
    items = api.get("/notifications", user, **kw).json()["items"]
    return [n for n in items if n["kind"] == "task_reminded"]


def test_a_reminder_of_an_unclaimed_task_reaches_every_member_of_the_department(
    api: Api,
) -> None:
    case, task = survey(api)
    r = remind(api, "cs_head", task["id"], "  业主很着急，请今天上门勘查  ")
    assert r.status_code == 201, r.text
    sent = r.json()
    assert sent["text"] == "业主很着急，请今天上门勘查"
    assert (sent["sender"], sent["recipient"], sent["to_department"]) == (
        "cs_head",
        None,
        "engineering",
    )
    assert sent["task"]["id"] == task["id"]
    [note] = reminders_of(api, "eng1")
    assert note["task_id"] == task["id"] and note["instance_id"] == case.id
    # Named: the task, the sender by display name, the case; the words as typed.
    assert "现场勘查" in note["text"] and "王芳" in note["text"]
    assert "业主很着急，请今天上门勘查" in note["text"]
    assert note["text"].startswith("王芳 催办任务「现场勘查」")
    [english] = reminders_of(api, "eng1", headers={"Accept-Language": "en"})
    assert english["text"].startswith("王芳 is chasing task")
    # Not for other departments, nor for the sender.
    assert reminders_of(api, "prop1") == [] and reminders_of(api, "cs1") == []
    [event] = [e for e in case.history() if e["type"] == "task_reminded"]
    assert event["actor"] == "cs_head" and event["task_id"] == task["id"]
    assert event["data"]["text"] == "业主很着急，请今天上门勘查"
    assert event["data"]["to_department"] == "engineering" and event["data"]["to"] is None


def test_a_reminder_of_a_claimed_task_reaches_its_assignee(api: Api) -> None:
    case, task = survey(api)
    assert api.post(f"/tasks/{task['id']}/claim", "eng1").status_code == 200
    for user in ("sup_engineering", "gm"):  # its department's supervisor, an executive
        r = remind(api, user, task["id"], f"{user} 催一下")
        assert r.status_code == 201, (user, r.text)
        assert r.json()["recipient"] == "eng1"
    notes = reminders_of(api, "eng1")
    assert len(notes) == 2  # two reminders, two notifications
    assert {n["text"].split(" ")[0] for n in notes} == {"sup_engineering", "gm"}
    assert api.get("/notifications", "eng1", params={"unread": "true"}).json()["unread"] == 2
    events = [e for e in case.history() if e["type"] == "task_reminded"]
    assert [e["data"]["to"] for e in events] == ["eng1", "eng1"]


def test_who_may_chase_and_the_refusals(api: Api) -> None:
    case, task = survey(api)
    tid = task["id"]
    assert api.post(f"/tasks/{tid}/remind", None, json={"text": "x"}).status_code == 401
    # Staff (of the task's department or another), another department's supervisor, an
    # auditor, a designer: 403.
    for user in ("eng1", "prop1", "sup_property", "audit", "dora"):
        assert remind(api, user, tid).status_code == 403, user
    assert remind(api, "gm", "no-such-task").status_code == 404
    for text in ("", "   ", "x" * 2001):
        r = remind(api, "cs_head", tid, text)
        assert r.status_code == 422, text
        assert r.json()["detail"][0]["field"] == "text"
    assert api.post(f"/tasks/{tid}/remind", "gm", json={}).status_code == 422
    assert reminders_of(api, "eng1") == []  # nothing sent by a refused request
    case.do("site_survey", "eng1", {"findings": "防水层破损"})
    assert remind(api, "gm", tid).status_code == 409  # no longer open


def test_the_supervisor_a_task_escalated_to_may_chase_it(api: Api) -> None:
    case, task = survey(api)
    clock.set_global_time(at("2026-12-01T12:00"))  # due Mon 12:00; level 2 8 h later
    run_round(at("2026-12-01T12:00"))
    assert case.task("site_survey")["escalation_level"] == 2
    escalated = api.tasks("sup_customer_service", scope="escalated")
    assert [t["id"] for t in escalated] == [task["id"]]
    r = remind(api, "sup_customer_service", task["id"], "已升级，请马上处理")
    assert r.status_code == 201, r.text
    assert reminders_of(api, "eng1")[0]["text"].endswith("已升级，请马上处理")
    # The rule itself: whoever the task escalated to, whatever their department.
    with unit_of_work(write=False) as session:
        row = session.get(Task, task["id"])
        assert row is not None
        other = actor_for(get_user(session, "sup_property"))  # type: ignore[arg-type]
        customer_service = actor_for(get_user(session, "sup_customer_service"))  # type: ignore[arg-type]
        assert not access.can_remind(other, row)
        assert access.can_remind(other, row, escalated_to_actor=True)
        assert escalated_to_actor(session, customer_service, [row.id]) == {row.id}
        assert escalated_to_actor(session, other, [row.id]) == set()


def test_lead_tasks_are_chased_by_sales_supervisors_and_executives_only(api: Api) -> None:
    clock.set_global_time(at("2026-11-26T10:00"))
    lead = Case(
        api,
        "sales1",
        "lead_follow_up",
        {"name": "李娜", "phone": "13900139000", "project": "滨江壹号", "source": "walk_in"},
    )
    task = lead.task("assign_consultant")
    assert remind(api, "cs_head", task["id"]).status_code == 403  # not a complaint
    assert remind(api, "sup_sales", task["id"]).status_code == 201
    assert remind(api, "gm", task["id"]).status_code == 201
    assert len(reminders_of(api, "sales1")) == 2 and len(reminders_of(api, "sales2")) == 2
