"""The SLA clock of the shipped processes through the API: due times on the
working calendar, at risk at 80%, breach, each escalation level and who sees it
in `scope=escalated`, exactly once per step whatever rounds run, and
completion stopping the clock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from engine import clock, reports
from engine.db import unit_of_work
from engine.definitions import validate_files
from engine.errors import InvalidBpmn
from engine.identity import Actor
from engine.models import Task
from engine.rounds import run_round
from tests.fixtures.api_client import Api
from tests.fixtures.factories import make_user
from tests.fixtures.shipped import PROCESSES, Case, setup_shipped

SH = ZoneInfo("Asia/Shanghai")
FLOWDESK = str(Path(sys.executable).with_name("flowdesk"))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


def iso(text: str) -> str:
    """The UTC ISO form the API answers with."""
    return at(text).astimezone(ZoneInfo("UTC")).isoformat()


@pytest.fixture
def api(db_url: str) -> Api:
    return setup_shipped()


def complaint(category: str = "quality", severity: str = "normal") -> dict:
    return {
        "customer_name": "张伟",
        "phone": "13800138000",
        "project": "滨江壹号",
        "unit": "3栋1502",
        "category": category,
        "severity": severity,
        "description": "卫生间漏水",
    }


def tick(instant: str) -> dict[str, int]:
    moment = at(instant)
    clock.set_global_time(moment)  # time has moved on for the API too
    return run_round(moment).as_dict()


def counts(result: dict[str, int]) -> tuple[int, int, int, int]:
    return (
        result["timers_fired"],
        result["warnings"],
        result["breaches"],
        result["escalations"],
    )


def escalated_ids(api: Api, user: str) -> set[str]:
    return {t["id"] for t in api.tasks(user, scope="escalated")}


def survey_case(api: Api, severity: str = "normal") -> tuple[Case, dict]:
    """A quality complaint registered Monday 2026-11-23 10:00, acknowledged at once."""
    clock.set_global_time(at("2026-11-23T10:00"))
    case = Case(api, "cs1", "complaint_handling", complaint("quality", severity))
    case.do("acknowledge_complaint", "cs1", {"contacted": True})
    return case, case.task("site_survey")


def test_due_times_follow_the_contract_table(api: Api) -> None:
    clock.set_global_time(at("2026-11-23T10:00"))  # Monday
    normal = Case(api, "cs1", "complaint_handling", complaint("quality", "normal"))
    high = Case(api, "cs1", "complaint_handling", complaint("quality", "high"))
    assert normal.task("acknowledge_complaint")["due_at"] == iso("2026-11-23T12:00")
    assert high.task("acknowledge_complaint")["due_at"] == iso("2026-11-23T12:00")
    # Created in the lunch break: the clock starts at 13:00.
    clock.set_global_time(at("2026-11-23T12:15"))
    lunch = Case(api, "cs1", "complaint_handling", complaint("other"))
    assert lunch.task("acknowledge_complaint")["due_at"] == iso("2026-11-23T15:00")
    # Urgent complaints run round the clock: Friday 20:00 + 1 hour.
    clock.set_global_time(at("2026-11-27T20:00"))
    urgent = Case(api, "cs1", "complaint_handling", complaint("quality", "urgent"))
    ack = urgent.task("acknowledge_complaint")
    assert ack["due_at"] == iso("2026-11-27T21:00")
    assert ack["sla_calendar"] == "round_the_clock"
    state = urgent.do("acknowledge_complaint", "cs1", {"contacted": True})
    [survey] = state["open_tasks"]
    assert survey["due_at"] == iso("2026-11-28T00:00")  # 4 hours, Saturday midnight
    # Normal site survey: 16 working hours from Monday 10:00 -> Wednesday 10:00.
    clock.set_global_time(at("2026-11-23T10:00"))
    state = normal.do("acknowledge_complaint", "cs1", {"contacted": True})
    [survey] = state["open_tasks"]
    assert survey["due_at"] == iso("2026-11-25T10:00")
    assert survey["warn_at"] == iso("2026-11-24T15:48")  # 80% = 12.8 working hours
    assert (survey["sla_status"], survey["escalation_level"]) == ("on_track", 0)


def test_the_ladder_climbs_once_per_step_and_never_back(api: Api) -> None:
    case, survey = survey_case(api)
    task_id = survey["id"]
    assert counts(tick("2026-11-24T15:47")) == (0, 0, 0, 0)
    assert counts(tick("2026-11-24T15:48")) == (0, 1, 0, 0)
    assert counts(tick("2026-11-24T15:48")) == (0, 0, 0, 0)  # same instant: nothing
    assert case.task("site_survey")["sla_status"] == "at_risk"
    # the warning reached the department (nobody holds the task)
    notes = api.get("/notifications", "eng1").json()
    assert notes["unread"] == 1 and notes["items"][0]["kind"] == "sla_warning"

    assert counts(tick("2026-11-25T10:00")) == (0, 0, 1, 1)
    task = case.task("site_survey")
    assert (task["sla_status"], task["escalation_level"]) == ("breached", 1)
    assert task_id in escalated_ids(api, "sup_engineering")
    assert task_id not in escalated_ids(api, "sup_customer_service")
    assert task_id not in escalated_ids(api, "gm")
    assert escalated_ids(api, "eng1") == set()

    assert counts(tick("2026-11-24T09:00")) == (0, 0, 0, 0)  # an earlier round moves nothing
    assert case.task("site_survey")["escalation_level"] == 1

    assert counts(tick("2026-11-26T09:59")) == (0, 0, 0, 0)
    assert counts(tick("2026-11-26T10:00")) == (0, 0, 0, 1)  # breach + 8 working hours
    assert case.task("site_survey")["escalation_level"] == 2
    assert task_id in escalated_ids(api, "sup_engineering")
    assert task_id in escalated_ids(api, "sup_customer_service")
    assert task_id not in escalated_ids(api, "gm")

    # breach + 24 working hours: Wed 10:00 -> Mon 2026-11-30 10:00 (weekend skipped)
    assert counts(tick("2026-11-28T12:00")) == (0, 0, 0, 0)
    assert counts(tick("2026-11-30T10:00")) == (0, 0, 0, 1)
    task = case.task("site_survey")
    assert task["escalation_level"] == 3
    assert task_id in escalated_ids(api, "gm")
    assert task["breached_working_hours"] == 24.0
    assert counts(tick("2026-12-31T10:00")) == (0, 0, 0, 0)  # the ladder has three rungs

    events = [
        e for e in case.history() if e["type"] in ("sla_warning", "sla_breached", "task_escalated")
    ]
    assert [(e["type"], e["data"].get("level")) for e in events] == [
        ("sla_warning", None),
        ("sla_breached", None),
        ("task_escalated", 1),
        ("task_escalated", 2),
        ("task_escalated", 3),
    ]
    assert events[2]["data"]["recipients"] == ["sup_engineering"]
    assert events[3]["data"]["recipients"] == ["sup_customer_service"]
    assert events[4]["data"]["recipients"] == ["gm"]


def test_one_late_round_takes_every_step_due(api: Api) -> None:
    case, _ = survey_case(api)
    assert counts(tick("2026-12-10T10:00")) == (0, 1, 1, 3)
    assert counts(tick("2026-12-10T10:00")) == (0, 0, 0, 0)
    assert case.task("site_survey")["escalation_level"] == 3


def test_completing_stops_the_clock(api: Api) -> None:
    case, survey = survey_case(api)
    assert counts(tick("2026-11-25T10:00")) == (0, 1, 1, 1)
    clock.set_global_time(at("2026-11-25T11:00"))
    case.do("site_survey", "eng1", {"findings": "水管破裂"})
    tick("2026-12-31T10:00")  # the next task (propose_solution) climbs; the survey does not
    escalations = [
        e
        for e in case.history()
        if e["type"] == "task_escalated" and e["element_id"] == "site_survey"
    ]
    assert len(escalations) == 1
    with unit_of_work(write=False) as s:
        done = s.get(Task, survey["id"])
        assert (done.escalation_level, done.next_sla_at) == (1, None)
        assert done.working_seconds == 17 * 3600  # 16 working hours + 1 past the due time
    assert survey["id"] not in escalated_ids(api, "sup_engineering")


def test_lead_ladder_goes_to_executives(api: Api) -> None:
    clock.set_global_time(at("2026-11-23T10:00"))
    case = Case(
        api,
        "sales1",
        "lead_follow_up",
        {"name": "李雷", "phone": "13900139000", "project": "云山府", "source": "walk_in"},
    )
    assign = case.task("assign_consultant")
    assert assign["due_at"] == iso("2026-11-23T15:00")  # 4 working hours over lunch
    assert counts(tick("2026-11-24T15:00")) == (0, 1, 1, 2)  # due + 8 working hours
    assert assign["id"] in escalated_ids(api, "sup_sales")
    assert assign["id"] in escalated_ids(api, "gm")
    assert assign["id"] not in escalated_ids(api, "sup_customer_service")
    assert counts(tick("2026-12-31T10:00")) == (0, 0, 0, 0)  # leads stop at level 2


def test_follow_up_due_times(api: Api) -> None:
    clock.set_global_time(at("2026-11-23T10:00"))
    case = Case(
        api,
        "sales1",
        "lead_follow_up",
        {"name": "李雷", "phone": "13900139000", "project": "云山府", "source": "walk_in"},
    )
    state = case.do("assign_consultant", "sales1", {"consultant": "sales2"})
    [first] = state["open_tasks"]
    assert first["due_at"] == iso("2026-11-24T10:00")  # first follow-up: 8 working hours
    state = case.do("follow_up", "sales2", {"stage": "prospect", "next_follow_up": "2026-12-02"})
    [dated] = state["open_tasks"]
    assert dated["due_at"] == iso("2026-12-02T18:00")  # the end of that working day
    state = case.do("follow_up", "sales2", {"stage": "prospect"})
    [default] = state["open_tasks"]
    assert default["due_at"] == iso("2026-11-26T10:00")  # 3 working days later


def test_sla_report(api: Api) -> None:
    case, survey = survey_case(api)
    tick("2026-11-26T10:00")
    clock.set_global_time(at("2026-11-26T11:00"))
    case.do("site_survey", "eng1", {"findings": "x"})
    assert api.get("/reports/sla", "eng1").status_code == 403
    r = api.get("/reports/sla", "gm")
    assert r.status_code == 200, r.text
    rows = {row["department"]: row for row in r.json()["items"]}
    assert set(rows) == {"sales", "customer_service", "property", "engineering", "cost_contracts"}
    eng = rows["engineering"]
    assert (eng["tasks_done"], eng["on_time_pct"], eng["breached"], eng["escalated"]) == (
        1,
        0.0,
        1,
        1,
    )
    assert eng["median_working_hours"] == 25.0
    cs = rows["customer_service"]
    assert (cs["tasks_done"], cs["on_time_pct"], cs["median_working_hours"]) == (1, 100.0, 0.0)


def test_the_reports_page_reads_the_sla_report_and_the_bottlenecks_at_once(api: Api) -> None:
    """`sla_overview` (the /reports page: one read of the period's tasks) gives what the
    SLA report and the bottleneck steps give apart, for every department and for one."""
    case, _ = survey_case(api)
    survey_case(api)
    tick("2026-11-26T10:00")
    clock.set_global_time(at("2026-11-26T11:00"))
    case.do("site_survey", "eng1", {"findings": "x"})
    gm = Actor("gm", frozenset({"executive"}))
    with unit_of_work(write=False) as s:
        for department in (None, "engineering", "sales"):
            both = reports.sla_overview(s, actor=gm, department=department)
            apart = (
                reports.sla_report(s, actor=gm),
                reports.bottleneck_tasks(s, actor=gm, department=department),
            )
            assert both == apart
        slow = reports.bottleneck_tasks(s, actor=gm)
    survey = next(s for s in slow["steps"] if s["element_id"] == "site_survey")
    assert (survey["tasks"], survey["breached"], survey["escalated"], survey["open"]) == (
        2,
        2,
        2,
        1,
    )
    assert survey["median_working_hours"] == 25.0


def test_notifications_are_read_and_marked(api: Api) -> None:
    survey_case(api)
    tick("2026-11-25T10:00")
    notes = api.get("/notifications", "sup_engineering").json()
    assert [n["kind"] for n in notes["items"]] == ["task_escalated"]
    assert "现场勘查" in notes["items"][0]["text"] or "site" in notes["items"][0]["text"].lower()
    english = api.get("/notifications", "sup_engineering", headers={"Accept-Language": "en"})
    assert "escalated to level 1" in english.json()["items"][0]["text"]
    note_id = notes["items"][0]["id"]
    assert api.post(f"/notifications/{note_id}/read", "eng1").status_code == 404  # not theirs
    assert api.post(f"/notifications/{note_id}/read", "sup_engineering").json() == {"marked": 1}
    assert api.get("/notifications", "sup_engineering").json()["unread"] == 0
    # Warning and breach of the unclaimed survey went to engineering's staff: one
    # notification each for the department, read marks per person.
    make_user("eng2", "staff", department="engineering")
    dept = api.get("/notifications", "eng1", params={"unread": True}).json()
    assert dept["total"] == 2
    assert {n["to_department"] for n in dept["items"]} == {"engineering"}
    assert api.post("/notifications/read-all", "eng1").json() == {"marked": 2}
    assert api.get("/notifications", "eng1").json()["unread"] == 0
    assert api.get("/notifications", "eng2").json()["unread"] == 2
    one = api.get("/notifications", "eng2").json()["items"][0]["id"]
    assert api.post(f"/notifications/{one}/read", "eng2").json() == {"marked": 1}
    assert api.get("/notifications", "eng2").json()["unread"] == 1
    assert api.post(f"/notifications/{one}/read", "prop1").status_code == 404


def test_tick_command_prints_counts_once(api: Api, db_url: str) -> None:
    survey_case(api)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWDESK_")}
    env["FLOWDESK_DATABASE_URL"] = db_url

    def run() -> dict[str, int]:
        out = subprocess.run(
            [FLOWDESK, "tick", "--at", "2026-11-26T10:00:00+08:00"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    first = run()
    assert counts(first) == (0, 1, 1, 2)
    assert counts(run()) == (0, 0, 0, 0)


def test_concurrent_rounds_never_double_a_step(api: Api) -> None:
    for _ in range(6):
        survey_case(api)
    results: list[dict[str, int]] = []

    def worker() -> None:
        results.append(tick("2026-12-31T10:00"))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = [sum(r[k] for r in results) for k in ("warnings", "breaches", "escalations")]
    assert total == [6, 6, 18]
    with unit_of_work(write=False) as s:
        from sqlalchemy import func, select

        from engine.models import HistoryEvent

        rows = s.execute(
            select(HistoryEvent.task_id, HistoryEvent.type, func.count())
            .where(HistoryEvent.type.in_(["sla_warning", "sla_breached", "task_escalated"]))
            .group_by(HistoryEvent.task_id, HistoryEvent.type)
        ).all()
    assert sorted(n for _, _, n in rows) == [1] * 12 + [3] * 6


def test_bad_sla_properties_are_deploy_errors(db_url: str) -> None:
    text = (PROCESSES / "lead_follow_up.bpmn").read_text(encoding="utf-8")
    bad = text.replace('name="sla_hours" value="4"', 'name="sla_hours" value="-4"').replace(
        'name="sla_hours" value="40" /><spiff:property name="escalation" value="lead"',
        'name="sla_hours" value="40" /><spiff:property name="escalation" value="boss"',
        1,
    )
    with unit_of_work(write=False) as s, pytest.raises(InvalidBpmn) as err:
        validate_files(s, [("lead.bpmn", bad.encode())])
    found = {(p.element_id, p.message.split(";")[0]) for p in err.value.problems}
    assert ("assign_consultant", "the SLA property 'sla_hours' is '-4'") in found
    assert any(e == "sign_contract" and "boss" in m for e, m in found)


def test_a_calendar_change_applies_to_the_next_task_of_this_process(api: Api) -> None:
    """The departments' calendars are read once a minute at most; the process that
    changes one plans its next task on the new one."""
    make_user("root", "admin")
    lead = {"name": "李雷", "phone": "13900139000", "project": "云山府", "source": "walk_in"}
    clock.set_global_time(at("2026-11-28T10:00"))  # a Saturday
    before = Case(api, "sales1", "lead_follow_up", lead)
    assert before.task("assign_consultant")["due_at"] == iso("2026-11-30T14:00")  # Monday
    ok = api.client.put(
        "/api/v1/departments/sales/calendar",
        json={"calendar": "sales_office"},
        headers={"Authorization": f"Bearer {api.login('root')}"},
    )
    assert ok.status_code == 200, ok.text
    after = Case(api, "sales1", "lead_follow_up", {**lead, "phone": "13900139001"})
    assert after.task("assign_consultant")["due_at"] == iso("2026-11-28T15:00")  # open today


def test_department_calendars_and_the_calendar_api(api: Api) -> None:
    make_user("root", "admin")
    assert (
        api.client.put(
            "/api/v1/departments/sales/calendar",
            json={"calendar": "sales_office"},
            headers={"Authorization": f"Bearer {api.login('sup_sales')}"},
        ).status_code
        == 403
    )
    admin = {"Authorization": f"Bearer {api.login('root')}"}
    bad = api.client.put(
        "/api/v1/departments/sales/calendar", json={"calendar": "moon"}, headers=admin
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "calendar"
    ok = api.client.put(
        "/api/v1/departments/sales/calendar", json={"calendar": "sales_office"}, headers=admin
    )
    assert ok.status_code == 200, ok.text
    clock.set_global_time(at("2026-11-28T10:00"))  # a Saturday: the sales office is open
    lead = Case(
        api,
        "sales1",
        "lead_follow_up",
        {"name": "李雷", "phone": "13900139000", "project": "云山府", "source": "walk_in"},
    )
    assert lead.task("assign_consultant")["due_at"] == iso("2026-11-28T15:00")
    complaint_case = Case(api, "cs1", "complaint_handling", complaint("other"))
    assert complaint_case.task("acknowledge_complaint")["due_at"] == iso("2026-11-30T11:00")

    assert api.get("/calendar/2027", "eng1").json()["source"] == "computed"
    loaded = api.client.put(
        "/api/v1/calendar/2027",
        json={"holidays": {"2027-02-08": "春节"}, "workdays": ["2027-02-20"]},
        headers=admin,
    )
    assert loaded.status_code == 200, loaded.text
    assert loaded.json()["source"] == "loaded"
    assert loaded.json()["working_weekend_days"] == [{"date": "2027-02-20", "name": ""}]
    refused = api.client.put(
        "/api/v1/calendar/2027", json={"holidays": ["2026-01-01"]}, headers=admin
    )
    assert refused.status_code == 422 and "not in 2027" in refused.json()["detail"][0]["message"]


def test_admins_hear_once_of_a_computed_year(api: Api) -> None:
    make_user("root", "admin")
    tick("2026-12-20T10:00")  # 2027 is within the coming weeks, with no official schedule
    tick("2026-12-21T10:00")
    notes = api.get("/notifications", "root").json()["items"]
    assert [(n["kind"], n["data"]["year"]) for n in notes] == [("calendar_computed", 2027)]
    assert "2027" in notes[0]["text"]
