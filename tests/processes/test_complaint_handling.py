"""processes/complaint_handling.bpmn through the API: every branch and loop of CONTRACT.md."""

from __future__ import annotations

import pytest

from tests.fixtures.api_client import Api
from tests.fixtures.shipped import Case, setup_shipped

CATEGORY_DEPARTMENT = {
    "quality": "engineering",
    "facilities": "property",
    "property_service": "property",
    "sales_promise": "sales",
    "contract": "cost_contracts",
    "other": "customer_service",
}
WORKER = {
    "engineering": "eng1",
    "property": "prop1",
    "sales": "sales1",
    "cost_contracts": "cc1",
    "customer_service": "cs1",
}


@pytest.fixture
def api(db_url: str) -> Api:
    return setup_shipped()


def complaint(category: str, severity: str = "normal", **extra: object) -> dict:
    return {
        "customer_name": "张伟",
        "phone": "13800138000",
        "project": "滨江壹号",
        "unit": "3栋1502",
        "channel": "hotline",
        "category": category,
        "severity": severity,
        "description": "卫生间漏水",
        **extra,
    }


@pytest.mark.parametrize("category", list(CATEGORY_DEPARTMENT))
def test_category_routes_to_the_responsible_department(api: Api, category: str) -> None:
    case = Case(api, "cs1", "complaint_handling", complaint(category))
    [ack] = case.open()
    assert (ack["element_id"], ack["department"]) == ("acknowledge_complaint", "customer_service")
    state = case.do("acknowledge_complaint", "cs1", {"contacted": True, "notes": "已回电"})
    responsible = CATEGORY_DEPARTMENT[category]
    assert state["variables"]["responsible_department"] == responsible
    worker = WORKER[responsible]
    if category in ("quality", "facilities", "property_service"):
        [survey] = state["open_tasks"]
        assert (survey["element_id"], survey["department"]) == ("site_survey", responsible)
        state = case.do("site_survey", worker, {"findings": "现场确认"})
    [propose] = state["open_tasks"]
    assert (propose["element_id"], propose["department"]) == ("propose_solution", responsible)
    case.do("propose_solution", worker, {"solution": "维修"})
    case.do("approve_solution", "cs1", {"approved": True})
    fix = case.task("execute_fix")
    assert fix["department"] == responsible
    case.do("execute_fix", worker, {"work_done": "已修复"})
    case.do("confirm_resolution", "cs2", {"resolved": True})
    final = case.do("return_visit", "cs2", {"satisfaction": 4})
    assert final["status"] == "completed"


def test_survey_fans_out_to_each_listed_department_and_loops(api: Api) -> None:
    case = Case(api, "cs1", "complaint_handling", complaint("quality", "urgent"))
    case.do("acknowledge_complaint", "cs1", {"contacted": True})
    state = case.do(
        "site_survey", "eng1", {"findings": "管道破裂", "departments": ["engineering", "property"]}
    )
    proposals = sorted(t["department"] for t in state["open_tasks"])
    assert proposals == ["engineering", "property"]
    # each proposal sits in its own department's queue only
    assert [t["department"] for t in api.tasks("prop1", scope="department")] == ["property"]
    assert [t["department"] for t in api.tasks("eng1", scope="department")] == ["engineering"]
    case.do(
        "propose_solution",
        "eng1",
        {"solution": "换管", "cost_estimate": 1200},
        department="engineering",
    )
    assert [t["element_id"] for t in case.open()] == ["propose_solution"]
    state = case.do("propose_solution", "prop1", {"solution": "清理"}, department="property")
    assert state["variables"]["proposals"] == [
        {
            "department": "engineering",
            "solution": "换管",
            "cost_estimate": 1200,
            "completed_by": "eng1",
        },
        {
            "department": "property",
            "solution": "清理",
            "cost_estimate": None,
            "completed_by": "prop1",
        },
    ]

    # rejected: both departments propose again
    state = case.do("approve_solution", "cs1", {"approved": False, "comments": "费用过高"})
    assert sorted(t["department"] for t in state["open_tasks"]) == ["engineering", "property"]
    case.do("propose_solution", "eng1", {"solution": "局部维修"}, department="engineering")
    case.do("propose_solution", "prop1", {"solution": "清理"}, department="property")
    case.do("approve_solution", "cs1", {"approved": True})

    # not resolved: the fix is done again
    case.do("execute_fix", "eng1", {"work_done": "第一次维修"})
    state = case.do("confirm_resolution", "cs1", {"resolved": False})
    assert [t["element_id"] for t in state["open_tasks"]] == ["execute_fix"]
    case.do("execute_fix", "eng1", {"work_done": "第二次维修"})
    case.do("confirm_resolution", "cs1", {"resolved": True})

    # unhappy customer reopens the case at propose_solution, counted
    state = case.do("return_visit", "cs2", {"satisfaction": 2, "comments": "仍有异味"})
    assert state["variables"]["reopen_count"] == 1
    assert sorted(t["department"] for t in state["open_tasks"]) == ["engineering", "property"]
    case.do("propose_solution", "eng1", {"solution": "彻底更换"}, department="engineering")
    case.do("propose_solution", "prop1", {"solution": "除味"}, department="property")
    case.do("approve_solution", "cs1", {"approved": True})
    case.do("execute_fix", "eng1", {"work_done": "已更换"})
    case.do("confirm_resolution", "cs1", {"resolved": True})
    state = case.do("return_visit", "cs2", {"satisfaction": 1})
    assert state["variables"]["reopen_count"] == 2 and state["status"] == "running"

    history = case.history()
    returns = [
        e for e in history if e["element_id"] == "return_visit" and e["type"] == "task_completed"
    ]
    assert [e["data"]["variables"]["satisfaction"] for e in returns] == [2, 1]
    reopened = [
        e for e in history if e["type"] == "task_created" and e["element_id"] == "propose_solution"
    ]
    assert len(reopened) == 2 + 2 + 2 + 2  # first round, rejection, two reopens


def test_invalid_start_and_completion_data_name_the_field(api: Api) -> None:
    bad = api.start(
        "cs1",
        "complaint_handling",
        {
            "customer_name": "",
            "phone": "12345",
            "category": "noise",
            "severity": "low",
            "description": "x",
            "colour": "red",
        },
    )
    assert bad.status_code == 422
    fields = {p["field"] for p in bad.json()["detail"]}
    assert fields == {"customer_name", "phone", "category", "severity", "colour"}
    assert api.get("/tasks", "cs1", params={"scope": "department"}).json()["total"] == 0

    case = Case(api, "cs1", "complaint_handling", complaint("quality"))
    english = api.post(
        f"/tasks/{case.task('acknowledge_complaint')['id']}/complete",
        "cs1",
        json={"variables": {"contacted": "yes"}},
        headers={"Accept-Language": "en"},
    )
    assert english.status_code == 422
    assert english.json()["detail"] == [{"field": "contacted", "message": "must be true or false"}]
    case.do("acknowledge_complaint", "cs1", {"contacted": True})
    task = case.task("site_survey")
    r = api.complete("eng1", task["id"], {"departments": ["engineering", "marketing"]})
    assert {p["field"] for p in r.json()["detail"]} == {"findings", "departments"}
    assert "必填" in {p["field"]: p["message"] for p in r.json()["detail"]}["findings"]
    case.do("site_survey", "eng1", {"findings": "ok"})
    r = api.complete(
        "eng1", case.task("propose_solution")["id"], {"solution": "x", "cost_estimate": -5}
    )
    assert r.json()["detail"][0]["field"] == "cost_estimate"
    case.do("propose_solution", "eng1", {"solution": "x"})
    case.do("approve_solution", "cs1", {"approved": True})
    case.do("execute_fix", "eng1", {"work_done": "done"})
    case.do("confirm_resolution", "cs1", {"resolved": True})
    for bad_score in (0, 6, 3.5, "5"):
        r = api.complete("cs1", case.task("return_visit")["id"], {"satisfaction": bad_score})
        assert r.status_code == 422 and r.json()["detail"][0]["field"] == "satisfaction"


def test_task_shows_its_form_and_the_start_form_is_published(api: Api) -> None:
    case = Case(api, "cs1", "complaint_handling", complaint("other"))
    task = api.get(f"/tasks/{case.task('acknowledge_complaint')['id']}", "cs1").json()
    assert [f["name"] for f in task["form"]["fields"]] == ["contacted", "notes"]
    assert task["form"]["title"] == {"zh-CN": "首次响应", "en": "Acknowledge the complaint"}
    assert task["variables"]["customer_name"] == "张伟"
    start = api.get("/processes/complaint_handling/form", "cs1").json()
    assert start["form"]["element_id"] == "start_complaint"
    assert "category" in [f["name"] for f in start["form"]["fields"]]


def test_severity_defaults_to_normal(api: Api) -> None:
    variables = complaint("other")
    del variables["severity"]
    case = Case(api, "cs1", "complaint_handling", variables)
    assert case.state["variables"]["severity"] == "normal"
