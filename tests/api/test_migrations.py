"""`POST /processes/{key}/migrations` (CONTRACT.md "Designers"): running cases move to
another version with their open tasks (ids, assignees, due times, SLA state), go on by
the new version, and a case whose open task the target removed stays where it is."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from engine.db import unit_of_work
from engine.models import HistoryEvent, Instance, Task
from tests.fixtures.api_client import Api
from tests.fixtures.factories import make_user
from tests.fixtures.shipped import PROCESSES, Case, assert_round_trip, setup_shipped
from tests.fixtures.web_client import signed_in_browsers

VERSIONS = Path(__file__).resolve().parents[1] / "fixtures" / "processes" / "migration"
FORMS = Path(__file__).resolve().parents[2] / "forms"


def _review_process(version: int) -> bytes:
    """intake → review → approve (v1); v2 renames review and adds quality_check after it;
    v3 has no review at all."""
    return (VERSIONS / f"mig_review_v{version}.bpmn").read_bytes()


def _deploy(api: Api, content: bytes, filename: str = "mig_review.bpmn") -> int:
    r = api.deploy("dora", filename, content)
    assert r.status_code == 201, r.text
    return int(r.json()["version"])


def _migrate(api: Api, user: str = "dora", key: str = "mig_review", **body: Any):  # type: ignore[no-untyped-def]
    return api.post(f"/processes/{key}/migrations", user, json=body)


def _history_size() -> int:
    with unit_of_work(write=False) as s:
        return int(s.execute(select(func.count()).select_from(HistoryEvent)).scalar_one())


def _stored(instance_id: str) -> tuple[int, str]:
    with unit_of_work(write=False) as s:
        instance = s.get(Instance, instance_id)
        assert instance is not None
        return instance.version, instance.workflow_state


def _three_cases(api: Api) -> tuple[Case, Case, Case]:
    """Cases of version 1 waiting at intake, at review (claimed), and at approve."""
    at_intake = Case(api, "cs1", "mig_review", {"n": 1})
    at_review = Case(api, "cs1", "mig_review", {"n": 2})
    at_review.do("intake", "cs1", {"note": "ok"})
    review = at_review.task("review")
    assert api.post(f"/tasks/{review['id']}/claim", "eng1").status_code == 200
    at_approve = Case(api, "cs1", "mig_review", {"n": 3})
    at_approve.do("intake", "cs1", {})
    at_approve.do("review", "eng1", {"checked": True})
    return at_intake, at_review, at_approve


def _setup() -> tuple[Api, tuple[Case, Case, Case]]:
    api = setup_shipped()
    assert _deploy(api, _review_process(1)) == 1
    cases = _three_cases(api)
    assert _deploy(api, _review_process(2)) == 2
    assert _deploy(api, _review_process(3)) == 3
    return api, cases


def test_a_dry_run_says_who_can_move_and_writes_nothing(db_url: str) -> None:
    api, (at_intake, at_review, at_approve) = _setup()
    before = _history_size()
    states = {c.id: _stored(c.id) for c in (at_intake, at_review, at_approve)}
    r = _migrate(api, from_version=1, dry_run=True)  # to the newest: version 3
    assert r.status_code == 200, r.text
    body = r.json()
    items = {i["instance_id"]: i for i in body["items"]}
    assert set(items) == {at_intake.id, at_review.id, at_approve.id}
    assert items[at_intake.id] == {"instance_id": at_intake.id, "ok": True, "problem": None}
    assert items[at_approve.id]["ok"] is True  # its completed review is no obstacle
    assert items[at_review.id]["ok"] is False and "review" in items[at_review.id]["problem"]
    assert body["migrated"] == 2 and body["dry_run"] is True and body["to_version"] == 3
    assert _history_size() == before
    assert {c: _stored(c) for c in states} == states


def test_cases_move_with_their_open_tasks_and_go_on_by_the_new_version(db_url: str) -> None:
    api, (at_intake, at_review, at_approve) = _setup()
    review_before = at_review.task("review")
    r = _migrate(api, from_version=1, to_version=2)
    assert r.status_code == 200, r.text
    assert r.json()["migrated"] == 3 and all(i["ok"] for i in r.json()["items"])

    state = at_review.refresh()
    assert state["version"] == 2
    review = at_review.task("review")
    for kept in ("id", "assignee", "due_at", "created_at", "sla_status", "escalation_level"):
        assert review[kept] == review_before[kept], kept
    assert review["assignee"] == "eng1" and review["due_at"] is not None
    assert review["name"] == "技术复核"  # the element's name in version 2
    stats = api.get("/processes/mig_review/versions/2/stats", "dora").json()
    assert stats["instances"]["running"] == 3  # the heat map counts the migrated cases
    assert api.get("/processes/mig_review/versions/1/stats", "dora").json()["instances"] == {
        "running": 0,
        "completed": 0,
        "cancelled": 0,
    }
    assert_round_trip(at_review.id)
    # the process goes on by version 2: quality_check follows the review
    after = at_review.do("review", "eng1", {"checked": True})
    assert [t["element_id"] for t in after["open_tasks"]] == ["quality_check"]
    at_review.do("quality_check", "eng1", {})
    at_review.do("approve", "cs1", {})
    assert at_review.refresh()["status"] == "completed"

    migrated = [e for e in at_intake.history() if e["type"] == "instance_migrated"]
    assert len(migrated) == 1
    assert migrated[0]["actor"] == "dora"
    assert migrated[0]["data"]["from_version"] == 1 and migrated[0]["data"]["to_version"] == 2
    # the case that waited at intake goes through the new task too
    at_intake.do("intake", "cs1", {})
    at_intake.do("review", "eng1", {})
    assert [t["element_id"] for t in at_intake.open()] == ["quality_check"]
    assert api.get("/audit/verify", "audit").json()["ok"] is True


def test_a_case_at_a_removed_task_stays_while_the_others_move(db_url: str) -> None:
    api, (at_intake, at_review, at_approve) = _setup()
    stored_review = _stored(at_review.id)
    events_of_review = len(at_review.history())
    r = _migrate(api, from_version=1, to_version=3)
    assert r.status_code == 200, r.text
    items = {i["instance_id"]: i for i in r.json()["items"]}
    assert not items[at_review.id]["ok"]
    assert "review" in items[at_review.id]["problem"]
    assert r.json()["migrated"] == 2
    assert _stored(at_review.id) == stored_review  # nothing written for it
    assert len(at_review.history()) == events_of_review
    assert at_review.refresh()["version"] == 1
    assert at_intake.refresh()["version"] == 3 and at_approve.refresh()["version"] == 3
    assert_round_trip(at_approve.id)  # its completed review left the stored tree
    with signed_in_browsers() as open_browser:  # its case page draws it on version 3
        page = open_browser("cs1").get(f"/cases/{at_approve.id}")
        assert page.status_code == 200 and "把案件从第 1 版迁移到第 3 版" in page.text
    # version 3 goes from intake straight to approve
    at_intake.do("intake", "cs1", {})
    assert [t["element_id"] for t in at_intake.open()] == ["approve"]
    at_approve.do("approve", "cs1", {})
    assert at_approve.refresh()["status"] == "completed"
    # the one left behind still runs on version 1
    at_review.do("review", "eng1", {})
    assert [t["element_id"] for t in at_review.open()] == ["approve"]


def test_chosen_cases_only_and_cases_that_are_not_on_the_version(db_url: str) -> None:
    api, (at_intake, at_review, at_approve) = _setup()
    r = _migrate(api, from_version=1, to_version=2, instance_ids=[at_intake.id])
    assert r.status_code == 200 and r.json()["migrated"] == 1
    assert at_review.refresh()["version"] == 1
    again = _migrate(
        api, from_version=1, to_version=2, instance_ids=[at_intake.id, "no-such-case"]
    ).json()
    assert again["migrated"] == 0
    assert [i["ok"] for i in again["items"]] == [False, False]
    assert "version 2" in again["items"][0]["problem"]
    at_approve.do("approve", "cs1", {})
    ended = _migrate(api, from_version=1, to_version=2, instance_ids=[at_approve.id]).json()
    assert ended["items"][0]["problem"] == "the case is completed"
    # version 2 has one running case; version 3 none: an empty answer, not an error
    empty = _migrate(api, from_version=3, to_version=2)
    assert empty.status_code == 200 and empty.json() == {
        "items": [],
        "migrated": 0,
        "from_version": 3,
        "to_version": 2,
        "dry_run": False,
    }


def test_bad_requests_name_the_field_and_the_wrong_people_are_refused(db_url: str) -> None:
    api, _ = _setup()
    before = _history_size()
    same = _migrate(api, from_version=3)
    assert same.status_code == 422 and same.json()["detail"][0]["field"] == "to_version"
    unknown = _migrate(api, from_version=9, to_version=7)
    assert unknown.status_code == 422
    assert [d["field"] for d in unknown.json()["detail"]] == ["from_version", "to_version"]
    assert "version 9" in unknown.json()["detail"][0]["message"]
    missing = _migrate(api, to_version=2)
    assert missing.status_code == 422 and missing.json()["detail"][0]["field"] == "from_version"
    typed = _migrate(api, from_version="one")
    assert typed.status_code == 422 and typed.json()["detail"][0]["field"] == "from_version"
    assert _migrate(api, key="no_such_process", from_version=1).status_code == 404
    make_user("root", "admin")
    for user in ("cs1", "sup_customer_service", "gm", "audit"):
        assert _migrate(api, user, from_version=1, to_version=2).status_code == 403, user
    assert api.client.post("/api/v1/processes/mig_review/migrations", json={}).status_code == 401
    assert _history_size() == before
    assert _migrate(api, "root", from_version=1, to_version=2, dry_run=True).status_code == 200


def test_a_multi_instance_task_open_during_migration_keeps_every_instance(db_url: str) -> None:
    """complaint_handling's propose_solution: one task per department, in parallel."""
    api = setup_shipped()
    case = Case(
        api,
        "cs1",
        "complaint_handling",
        {
            "customer_name": "王芳",
            "phone": "13812345678",
            "category": "quality",
            "description": "卫生间漏水",
        },
    )
    case.do("acknowledge_complaint", "cs1", {"contacted": True})
    survey = {"findings": "防水层破损", "departments": ["engineering", "property"]}
    case.do("site_survey", "eng1", survey)
    before = {t["department"]: t for t in case.open()}
    assert set(before) == {"engineering", "property"}
    v2 = (PROCESSES / "complaint_handling.bpmn").read_text(encoding="utf-8")
    v2 = v2.replace('name="方案审核"', 'name="方案审批"')
    # version 2's form of the proposal asks for the contractor too
    forms = json.loads((FORMS / "complaint_handling.json").read_text(encoding="utf-8"))
    contractor = {
        "name": "contractor",
        "type": "text",
        "label": {"zh-CN": "施工单位", "en": "Contractor"},
    }
    forms["forms"]["propose_solution"]["fields"].append(contractor)
    r = api.post(
        "/processes",
        "dora",
        files={
            "file": ("complaint_handling.bpmn", v2.encode(), "text/xml"),
            "forms": ("complaint_handling.json", json.dumps(forms).encode(), "application/json"),
        },
    )
    assert r.status_code == 201 and r.json()["version"] == 2, r.text
    refused = api.complete(
        "eng1", before["engineering"]["id"], {"solution": "x", "contractor": "y"}
    )
    assert refused.status_code == 422  # version 1's form has no contractor
    r = _migrate(api, key="complaint_handling", from_version=1)
    assert r.status_code == 200 and r.json()["migrated"] == 1, r.text
    assert case.refresh()["version"] == 2
    after = {t["department"]: t for t in case.open()}
    assert {d: t["id"] for d, t in after.items()} == {d: t["id"] for d, t in before.items()}
    assert {d: t["due_at"] for d, t in after.items()} == {d: t["due_at"] for d, t in before.items()}
    assert_round_trip(case.id)
    # each instance still knows its department: the proposals name both
    form = api.get(f"/tasks/{after['engineering']['id']}", "eng1").json()["form"]
    assert "contractor" in [f["name"] for f in form["fields"]]  # the form follows the version
    proposal = {"solution": "重做防水", "contractor": "某防水公司"}
    case.do("propose_solution", "eng1", proposal, department="engineering")
    state = case.do("propose_solution", "prop1", {"solution": "协调入户"}, department="property")
    assert sorted(p["department"] for p in state["variables"]["proposals"]) == [
        "engineering",
        "property",
    ]
    approve = case.task("approve_solution")
    assert approve["name"] == "方案审批"  # version 2's name
    with unit_of_work(write=False) as s:
        rows = s.execute(select(Task).where(Task.instance_id == case.id)).scalars().all()
        assert {r.state for r in rows} == {"completed", "open"}


def test_a_task_inside_a_subprocess_moves_and_the_subprocess_goes_on_by_the_new_version(
    db_url: str,
) -> None:
    api = setup_shipped()
    _deploy(api, (VERSIONS / "mig_sub_v1.bpmn").read_bytes(), "mig_sub.bpmn")
    moving = Case(api, "cs1", "mig_sub", {})
    staying = Case(api, "cs1", "mig_sub", {})
    check = moving.task("check")
    assert check["department"] == "engineering"
    _deploy(api, (VERSIONS / "mig_sub_v2.bpmn").read_bytes(), "mig_sub.bpmn")
    _deploy(api, (VERSIONS / "mig_sub_v3.bpmn").read_bytes(), "mig_sub.bpmn")

    # version 3 replaced the check inside the subprocess: nobody moves there
    refused = _migrate(api, key="mig_sub", from_version=1, to_version=3).json()
    assert refused["migrated"] == 0
    assert all("check" in i["problem"] for i in refused["items"])

    r = _migrate(api, key="mig_sub", from_version=1, to_version=2, instance_ids=[moving.id])
    assert r.status_code == 200 and r.json()["migrated"] == 1, r.text
    moved = moving.task("check")
    assert (moved["id"], moved["due_at"]) == (check["id"], check["due_at"])
    assert moved["name"] == "现场检查"
    assert_round_trip(moving.id)
    moving.do("check", "eng1", {})
    assert [t["element_id"] for t in moving.open()] == ["double_check"]
    moving.do("double_check", "eng1", {})
    assert [t["element_id"] for t in moving.open()] == ["close"]
    staying.do("check", "eng1", {})
    assert [t["element_id"] for t in staying.open()] == ["close"]
    # version 4 has no subprocess: a case past it moves, one inside it stays
    inside = Case(api, "cs1", "mig_sub", {})  # on version 3, in its subprocess
    _deploy(api, (VERSIONS / "mig_sub_v4.bpmn").read_bytes(), "mig_sub.bpmn")
    r = _migrate(api, key="mig_sub", from_version=1, to_version=4)
    assert [(i["instance_id"], i["ok"]) for i in r.json()["items"]] == [(staying.id, True)]
    [item] = _migrate(api, key="mig_sub", from_version=3).json()["items"]
    assert item["instance_id"] == inside.id
    assert item["ok"] is False and "inspection" in item["problem"], item
    assert_round_trip(staying.id)
    staying.do("close", "cs1", {})
    assert staying.refresh()["status"] == "completed"


def test_an_open_user_task_the_target_made_a_script_stays(db_url: str) -> None:
    api = setup_shipped()
    _deploy(api, _review_process(1))
    at_approve = Case(api, "cs1", "mig_review", {})
    at_approve.do("intake", "cs1", {})
    at_approve.do("review", "eng1", {})
    scripted = (
        _review_process(1)
        .decode()
        .replace(
            '<bpmn:userTask id="approve" name="审批">',
            '<bpmn:scriptTask id="approve" name="审批"><bpmn:script>approved = True</bpmn:script>',
        )
    )
    scripted = scripted.replace(
        "</bpmn:userTask>\n    <bpmn:endEvent", "</bpmn:scriptTask>\n    <bpmn:endEvent"
    )
    assert _deploy(api, scripted.encode()) == 2
    before = _stored(at_approve.id)
    r = _migrate(api, from_version=1)
    assert r.status_code == 200, r.text
    [item] = r.json()["items"]
    assert item["ok"] is False and "approve" in item["problem"]
    assert _stored(at_approve.id) == before
    assert [t["element_id"] for t in at_approve.open()] == ["approve"]
