"""Departments for admins over the API (both databases): the list, renaming in both
languages (403, 404, 422 naming the field, nothing written on refusal), the
`department_renamed` event, and BPMN lanes still naming departments by code and
CONTRACT.md's names after a rename."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.departments import department_for_lane
from tests.fixtures.api_client import Api
from tests.fixtures.factories import make_user

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
CONTRACT = [
    ("sales", "销售部", "Sales"),
    ("customer_service", "客服部", "Customer Service"),
    ("property", "物业部", "Property Management"),
    ("engineering", "工程部", "Engineering"),
    ("cost_contracts", "成本合约部", "Cost & Contracts"),
]


@pytest.fixture
def api(db_url: str) -> Api:
    make_user("root", "admin")
    make_user("cs1", "staff", department="customer_service")
    make_user("sup", "supervisor", department="customer_service")
    return Api()


def patch(api: Api, code: str, user: str | None, body: dict):  # type: ignore[no-untyped-def]
    return api.client.patch(
        f"/api/v1/admin/departments/{code}", headers=api._headers(user), json=body
    )


def names(api: Api) -> list[tuple[str, str, str]]:
    r = api.get("/admin/departments", "root")
    assert r.status_code == 200, r.text
    return [(d["code"], d["name_zh"], d["name_en"]) for d in r.json()["items"]]


def renamed_events(api: Api) -> list[dict]:
    r = api.get("/audit/events", "root", params={"type": "department_renamed"})
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_admins_list_the_five_departments_with_their_calendars(api: Api) -> None:
    r = api.get("/admin/departments", "root")
    assert r.status_code == 200
    assert [(d["code"], d["name_zh"], d["name_en"]) for d in r.json()["items"]] == CONTRACT
    assert {d["calendar"] for d in r.json()["items"]} == {"standard"}
    assert api.get("/admin/departments", "cs1").status_code == 403
    assert api.get("/admin/departments", "sup").status_code == 403
    assert api.get("/admin/departments", None).status_code == 401


def test_an_admin_renames_a_department_in_both_languages(api: Api) -> None:
    r = patch(api, "customer_service", "root", {"name_zh": " 客户服务中心 ", "name_en": "Care"})
    assert r.status_code == 200, r.text
    assert r.json() == {
        "code": "customer_service",
        "name_zh": "客户服务中心",
        "name_en": "Care",
        "calendar": "standard",
    }
    assert names(api)[1] == ("customer_service", "客户服务中心", "Care")
    (event,) = renamed_events(api)
    assert event["actor"] == "root"
    assert event["data"] == {
        "department": "customer_service",
        "name_zh": "客户服务中心",
        "name_en": "Care",
        "previous_zh": "客服部",
        "previous_en": "Customer Service",
    }
    # One language alone; the other stays. The same names again change nothing.
    assert patch(api, "sales", "root", {"name_en": "Sales & Leasing"}).json()["name_zh"] == "销售部"
    assert patch(api, "sales", "root", {"name_en": "Sales & Leasing"}).status_code == 200
    assert len(renamed_events(api)) == 2
    assert api.get("/audit/verify", "root").json()["ok"] is True


def test_renaming_is_refused_for_others_unknown_departments_and_bad_names(api: Api) -> None:
    body = {"name_zh": "客户服务中心", "name_en": "Care"}
    assert patch(api, "customer_service", "cs1", body).status_code == 403
    assert patch(api, "customer_service", "sup", body).status_code == 403
    assert patch(api, "customer_service", None, body).status_code == 401
    unknown = patch(api, "marketing", "root", body)
    assert unknown.status_code == 404 and "marketing" in unknown.json()["detail"]
    for bad, field in [
        ({"name_zh": "", "name_en": "Care"}, "name_zh"),
        ({"name_zh": "   ", "name_en": "Care"}, "name_zh"),
        ({"name_zh": "客户服务中心", "name_en": "x" * 101}, "name_en"),
        ({"name_zh": "工程部"}, "name_zh"),  # another department's name
        ({"name_en": "sales"}, "name_en"),  # the same, whatever the case
        ({"name_zh": "客户服务中心", "code": "cs"}, "code"),  # departments keep their code
        ({"name_zh": 5}, "name_zh"),
    ]:
        r = patch(api, "customer_service", "root", bad)
        assert r.status_code == 422, (bad, r.text)
        assert [p["field"] for p in r.json()["detail"]] == [field], (bad, r.text)
    both = patch(api, "customer_service", "root", {"name_zh": "", "name_en": ""})
    assert [p["field"] for p in both.json()["detail"]] == ["name_zh", "name_en"]
    assert names(api) == CONTRACT
    assert renamed_events(api) == []


def test_lanes_keep_naming_departments_by_code_and_contract_names(api: Api) -> None:
    assert patch(api, "customer_service", "root", {"name_zh": "客户服务中心"}).status_code == 200
    for lane in ("customer_service", "客服部", "Customer Service"):
        assert department_for_lane(lane) == "customer_service"
    # A display name is a label that may change again: no lane stands on it.
    assert department_for_lane("客户服务中心") is None
    make_user("dora", "designer")
    # The shipped lead process has customer-service lanes named by CONTRACT.md's name.
    bpmn = (PROCESSES / "lead_follow_up.bpmn").read_bytes()
    assert "客服部".encode() in bpmn or b"customer_service" in bpmn
    r = api.deploy("dora", "lead_follow_up.bpmn", bpmn)
    assert r.status_code == 201, r.text
