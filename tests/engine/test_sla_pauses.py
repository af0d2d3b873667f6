"""Pausing the SLA clock (engine/sla/pauses.py) through the API, on both databases: who
may pause and resume, the refusals, due and warning times moved by the paused working
time, rounds far past the due time doing nothing to a paused task, the ladder going on
from where it was after a resume, completing a paused task, and the SLA report's paused
hours."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from engine import clock
from engine.rounds import run_round
from tests.fixtures.api_client import Api
from tests.fixtures.factories import make_user
from tests.fixtures.shipped import Case, setup_shipped

SH = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


def iso(text: str) -> str:
    """The UTC ISO form the API answers with."""
    return at(text).astimezone(ZoneInfo("UTC")).isoformat()


def tick(instant: str) -> tuple[int, int, int]:
    moment = at(instant)
    clock.set_global_time(moment)
    result = run_round(moment)
    return result.warnings, result.breaches, result.escalations


@pytest.fixture
def api(db_url: str) -> Api:
    api = setup_shipped()
    make_user("eng2", "staff", department="engineering")
    return api


def complaint(severity: str = "normal") -> dict:
    return {
        "customer_name": "张伟",
        "phone": "13800138000",
        "project": "滨江壹号",
        "unit": "3栋1502",
        "category": "quality",
        "severity": severity,
        "description": "卫生间漏水",
    }


def survey(api: Api, when: str = "2026-11-26T13:00") -> tuple[Case, dict]:
    """A quality complaint acknowledged Thursday 13:00: the site survey (16 working hours)
    is due Monday 2026-11-30 12:00 and at risk Friday 17:48."""
    clock.set_global_time(at(when))
    case = Case(api, "cs1", "complaint_handling", complaint())
    case.do("acknowledge_complaint", "cs1", {"contacted": True})
    task = case.task("site_survey")
    return case, task


def pause(api: Api, user: str, task_id: str, **body: object):  # type: ignore[no-untyped-def]
    return api.post(f"/tasks/{task_id}/pause", user, json=body)


def resume(api: Api, user: str, task_id: str):  # type: ignore[no-untyped-def]
    return api.post(f"/tasks/{task_id}/resume", user)


def test_pause_and_resume_move_the_due_time_by_the_paused_working_time(api: Api) -> None:
    case, task = survey(api)
    assert task["due_at"] == iso("2026-11-30T12:00")
    assert task["warn_at"] == iso("2026-11-27T17:48")
    assert (task["paused"], task["paused_reason"]) == (False, None)

    clock.set_global_time(at("2026-11-27T17:00"))  # Friday
    r = pause(api, "eng1", task["id"], reason="waiting_customer", note="业主出差，下周一在家")
    assert r.status_code == 200, r.text
    shown = r.json()
    assert shown["paused"] is True and shown["paused_reason"] == "waiting_customer"
    assert shown["paused_note"] == "业主出差，下周一在家"
    assert shown["paused_at"] == iso("2026-11-27T17:00")
    # Every task object says so: the list, the task, the case's open tasks.
    assert api.tasks("eng1", scope="department")[0]["paused"] is True
    assert api.get(f"/tasks/{task['id']}", "eng1").json()["paused"] is True
    assert case.task("site_survey")["paused"] is True

    clock.set_global_time(at("2026-11-30T10:00"))  # Monday: 2 working hours later
    r = resume(api, "eng1", task["id"])
    assert r.status_code == 200, r.text
    shown = r.json()
    assert (shown["paused"], shown["paused_reason"], shown["paused_at"]) == (False, None, None)
    assert shown["due_at"] == iso("2026-11-30T15:00")  # 12:00 + 2 h, over the lunch break
    assert shown["warn_at"] == iso("2026-11-30T10:48")  # Fri 17:48 + 2 h
    assert shown["paused_seconds"] == 7200
    assert shown["sla_status"] == "on_track"

    events = [e for e in case.history() if e["type"] in ("sla_paused", "sla_resumed")]
    assert [e["type"] for e in events] == ["sla_paused", "sla_resumed"]
    paused, resumed = (e["data"] for e in events)
    assert paused["reason"] == "waiting_customer" and paused["note"] == "业主出差，下周一在家"
    assert events[0]["actor"] == "eng1"
    assert resumed["paused_working_seconds"] == 7200
    assert resumed["due_at_before"] == iso("2026-11-30T12:00")
    assert resumed["due_at"] == iso("2026-11-30T15:00")
    assert resumed["reason"] == "waiting_customer"


def test_a_pause_outside_working_hours_moves_nothing_and_never_earlier(api: Api) -> None:
    _, task = survey(api)
    clock.set_global_time(at("2026-11-27T18:30"))  # Friday evening
    assert pause(api, "eng1", task["id"], reason="other").status_code == 200
    clock.set_global_time(at("2026-11-29T20:00"))  # Sunday evening
    shown = resume(api, "eng1", task["id"]).json()
    assert shown["due_at"] == task["due_at"] and shown["warn_at"] == task["warn_at"]
    assert shown["paused_seconds"] == 0


def test_rounds_far_past_the_due_time_leave_a_paused_task_alone(api: Api) -> None:
    case, task = survey(api)
    clock.set_global_time(at("2026-11-27T17:00"))
    assert pause(api, "eng1", task["id"], reason="waiting_access").status_code == 200
    # Rounds over the weekend, at the due time, and a month later: nothing at all.
    for instant in ("2026-11-28T12:00", "2026-11-30T12:00", "2026-12-31T18:00"):
        assert tick(instant) == (0, 0, 0), instant
    shown = case.task("site_survey")
    assert (shown["sla_status"], shown["escalation_level"]) == ("on_track", 0)
    assert not [e for e in case.history() if e["type"].startswith(("sla_w", "sla_b", "task_esc"))]
    assert api.tasks("sup_customer_service", scope="escalated") == []
    assert api.get("/notifications", "eng1").json()["total"] == 0

    # Resumed Monday 10:00 (2 working hours paused): warned and breached at the new times.
    clock.set_global_time(at("2026-11-30T10:00"))
    assert resume(api, "eng1", task["id"]).status_code == 200
    assert tick("2026-11-30T10:47") == (0, 0, 0)
    assert tick("2026-11-30T10:48") == (1, 0, 0)
    assert tick("2026-11-30T14:59") == (0, 0, 0)
    assert tick("2026-11-30T15:00") == (0, 1, 1)  # breached, level 1 at once
    assert tick("2026-11-30T15:00") == (0, 0, 0)
    shown = case.task("site_survey")
    assert (shown["sla_status"], shown["escalation_level"]) == ("breached", 1)
    # Level 2 eight working hours past the new due time: Tuesday 15:00.
    assert tick("2026-12-01T14:59") == (0, 0, 0)
    assert tick("2026-12-01T15:00") == (0, 0, 1)


def test_a_breached_task_paused_goes_on_up_the_ladder_from_where_it_was(api: Api) -> None:
    case, task = survey(api)
    assert tick("2026-11-30T12:00") == (1, 1, 1)  # warned, breached, level 1
    clock.set_global_time(at("2026-11-30T14:00"))
    assert pause(api, "eng1", task["id"], reason="waiting_parts").status_code == 200
    assert tick("2026-12-15T12:00") == (0, 0, 0)  # level 2 was due Tuesday 12:00
    shown = case.task("site_survey")
    assert (shown["sla_status"], shown["escalation_level"]) == ("breached", 1)
    assert shown["breached_working_hours"] == 1.0  # as at the pause: 12:00-14:00, lunch out

    clock.set_global_time(at("2026-12-01T10:00"))  # 5 working hours paused
    resumed = resume(api, "eng1", task["id"]).json()
    assert resumed["due_at"] == iso("2026-11-30T18:00")
    assert (resumed["sla_status"], resumed["escalation_level"]) == ("breached", 1)
    assert resumed["breached_working_hours"] == 1.0  # Mon 17:00-18:00 no more; Tue 9-10
    # Level 2 at the new due time + 8 working hours: Tuesday 18:00; never back down.
    assert tick("2026-12-01T17:59") == (0, 0, 0)
    assert tick("2026-12-01T18:00") == (0, 0, 1)
    shown = case.task("site_survey")
    assert (shown["sla_status"], shown["escalation_level"]) == ("breached", 2)


def test_an_at_risk_task_paused_is_breached_after_the_resume(api: Api) -> None:
    case, task = survey(api)
    assert tick("2026-11-27T17:48") == (1, 0, 0)
    clock.set_global_time(at("2026-11-27T17:50"))
    assert pause(api, "eng1", task["id"], reason="waiting_customer").status_code == 200
    assert tick("2026-12-20T12:00") == (0, 0, 0)
    clock.set_global_time(at("2026-11-30T09:30"))  # 10 + 30 working minutes paused
    resumed = resume(api, "eng1", task["id"]).json()
    assert resumed["sla_status"] == "at_risk"
    assert resumed["due_at"] == iso("2026-11-30T13:40")  # 12:00 + 40 min, after lunch
    assert tick("2026-11-30T13:39") == (0, 0, 0)
    assert tick("2026-11-30T13:40") == (0, 1, 1)


def test_who_may_pause_and_the_refusals(api: Api) -> None:
    case, task = survey(api)
    tid = task["id"]
    clock.set_global_time(at("2026-11-27T10:00"))
    assert api.post(f"/tasks/{tid}/pause", None, json={"reason": "other"}).status_code == 401
    # Staff of another department, an auditor, an executive: 403.
    for user in ("prop1", "audit", "gm", "sup_property"):
        assert pause(api, user, tid, reason="other").status_code == 403, user
    assert pause(api, "eng1", "no-such-task", reason="other").status_code == 404
    # An unknown or missing reason: 422 naming `reason`.
    for body in ({"reason": "lunch"}, {}, {"reason": "other", "note": "x" * 2001}):
        r = pause(api, "eng1", tid, **body)
        assert r.status_code == 422, body
        assert {d["field"] for d in r.json()["detail"]} <= {"reason", "note"}
    assert pause(api, "eng1", tid, reason="lunch").json()["detail"][0]["field"] == "reason"
    assert resume(api, "eng1", tid).status_code == 409  # not paused
    # A colleague's claimed task is the colleague's (409, as completing it would be);
    # the department's supervisor may pause it.
    assert api.post(f"/tasks/{tid}/claim", "eng1").status_code == 200
    assert pause(api, "eng2", tid, reason="other").status_code == 409
    r = pause(api, "sup_engineering", tid, reason="waiting_parts")
    assert r.status_code == 200, r.text
    assert pause(api, "eng1", tid, reason="other").status_code == 409  # already paused
    assert resume(api, "eng2", tid).status_code == 409
    assert resume(api, "prop1", tid).status_code == 403
    assert resume(api, "eng1", tid).status_code == 200
    # No note is fine for every reason; a task no longer open: 409.
    case.do("site_survey", "eng1", {"findings": "防水层破损"})
    assert pause(api, "eng1", tid, reason="waiting_customer").status_code == 409
    assert resume(api, "eng1", tid).status_code == 409


def test_completing_a_paused_task_ends_the_pause_and_leaves_its_time_out(api: Api) -> None:
    case, task = survey(api)
    clock.set_global_time(at("2026-11-27T09:00"))  # Friday, 5 working hours after creation
    assert pause(api, "eng1", task["id"], reason="waiting_customer").status_code == 200
    clock.set_global_time(at("2026-11-27T15:00"))  # 5 working hours paused
    r = api.complete("eng1", task["id"], {"findings": "防水层破损"})
    assert r.status_code == 200, r.text
    done = r.json()["task"]
    assert done["state"] == "completed" and done["paused"] is False
    assert done["paused_seconds"] == 5 * 3600
    assert done["due_at"] == iso("2026-11-30T18:00")  # moved by the 5 paused hours
    resumed = [e for e in case.history() if e["type"] == "sla_resumed"]
    assert resumed and resumed[0]["data"]["on_completion"] is True
    completed = [e for e in case.history() if e["type"] == "task_completed"][-1]
    assert completed["data"]["working_seconds"] == 5 * 3600  # paused time left out
    # The SLA report: engineering's paused hours; the median leaves the pause out.
    row = next(
        i for i in api.get("/reports/sla", "gm").json()["items"] if i["department"] == "engineering"
    )
    assert row["paused_hours"] == 5.0
    assert row["median_working_hours"] == 5.0
    assert row["on_time_pct"] == 100.0


def test_the_sla_report_counts_paused_hours_per_department(api: Api) -> None:
    _, task = survey(api)
    clock.set_global_time(at("2026-11-27T17:00"))
    assert pause(api, "eng1", task["id"], reason="waiting_customer").status_code == 200
    clock.set_global_time(at("2026-11-30T10:00"))
    assert resume(api, "eng1", task["id"]).status_code == 200
    clock.set_global_time(at("2026-11-30T11:00"))
    assert pause(api, "eng1", task["id"], reason="waiting_parts").status_code == 200
    clock.set_global_time(at("2026-11-30T14:30"))  # 1 + 1.5 working hours of a running pause
    items = {i["department"]: i for i in api.get("/reports/sla", "sup_engineering").json()["items"]}
    assert items["engineering"]["paused_hours"] == 4.5
    assert items["engineering"]["paused_now"] == 1
    assert items["customer_service"]["paused_hours"] == 0.0
    assert items["customer_service"]["paused_now"] == 0


def test_an_urgent_task_pauses_round_the_clock(api: Api) -> None:
    clock.set_global_time(at("2026-11-27T20:00"))  # Friday night, urgent: every hour counts
    case = Case(api, "cs1", "complaint_handling", complaint("urgent"))
    ack = case.task("acknowledge_complaint")
    assert ack["due_at"] == iso("2026-11-27T21:00")
    assert pause(api, "cs1", ack["id"], reason="waiting_customer").status_code == 200
    assert tick("2026-11-28T08:00") == (0, 0, 0)
    clock.set_global_time(at("2026-11-27T23:30"))
    shown = resume(api, "cs1", ack["id"]).json()
    assert shown["due_at"] == iso("2026-11-28T00:30")  # 3.5 hours of night paused
    assert shown["paused_seconds"] == 3.5 * 3600
