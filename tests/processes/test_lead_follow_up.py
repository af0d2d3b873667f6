"""processes/lead_follow_up.bpmn through the API, and the customer records it feeds."""

from __future__ import annotations

import pytest

from tests.crm.leads import assigned, visitor
from tests.fixtures.api_client import Api
from tests.fixtures.shipped import Case, setup_shipped

LOST_REASONS = [
    "price",
    "layout",
    "location",
    "planning",
    "competitor",
    "financing",
    "no_response",
    "other",
]


@pytest.fixture
def api(db_url: str) -> Api:
    return setup_shipped()


def test_consultant_must_be_sales_staff(api: Api) -> None:
    case = Case(api, "sales1", "lead_follow_up", visitor())
    task = case.task("assign_consultant")
    for wrong in ("eng1", "sup_sales", "nobody"):
        r = api.complete("sales1", task["id"], {"consultant": wrong})
        assert r.status_code == 422, wrong
        assert r.json()["detail"][0]["field"] == "consultant"


def test_follow_ups_repeat_and_only_the_consultant_holds_them(api: Api) -> None:
    case = assigned(api)
    follow = case.task("follow_up")
    assert api.complete("sales1", follow["id"], {"stage": "prospect"}).status_code == 409
    state = case.do(
        "follow_up",
        "sales2",
        {"stage": "prospect", "next_follow_up": "2026-12-01", "notes": "看了样板间"},
    )
    [again] = state["open_tasks"]
    assert (again["element_id"], again["assignee"]) == ("follow_up", "sales2")
    state = case.do("follow_up", "sales2", {"stage": "near_close"})
    assert state["variables"]["follow_up_count"] == 2
    assert state["variables"]["stage"] == "near_close"
    r = api.complete(
        "sales2", case.task("follow_up")["id"], {"stage": "prospect", "next_follow_up": "next week"}
    )
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "next_follow_up"


@pytest.mark.parametrize("reason", LOST_REASONS)
def test_lost_lead_requires_and_keeps_its_reason(api: Api, reason: str) -> None:
    case = assigned(api)
    r = api.complete("sales2", case.task("follow_up")["id"], {"stage": "lost"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["field"] == "lost_reason"
    r = api.complete(
        "sales2", case.task("follow_up")["id"], {"stage": "lost", "lost_reason": "too expensive"}
    )
    assert r.status_code == 422
    state = case.do("follow_up", "sales2", {"stage": "lost", "lost_reason": reason})
    assert state["status"] == "completed"
    assert state["variables"]["lost_reason"] == reason
    [customer] = api.get("/customers", "sales2", params={"q": "13900139000"}).json()["items"]
    record = api.get(f"/customers/{customer['id']}", "sales2").json()
    [lead] = record["leads"]
    assert (lead["stage"], lead["outcome"], lead["lost_reason"]) == ("lost", "lost", reason)
    assert [s["stage"] for s in lead["stage_history"]] == ["visitor", "lost"]


@pytest.mark.parametrize("referred", [True, False])
def test_won_lead_signs_onboards_and_rewards_referrals(api: Api, referred: bool) -> None:
    extra = {"source": "referral", "referrer_phone": "13700137000"} if referred else {}
    if referred:
        r = api.start("sales1", "lead_follow_up", visitor(source="referral"))
        assert r.status_code == 422 and r.json()["detail"][0]["field"] == "referrer_phone"
    case = assigned(api, **extra)
    state = case.do("follow_up", "sales2", {"stage": "won"})
    [sign] = state["open_tasks"]
    assert (sign["element_id"], sign["assignee"]) == ("sign_contract", "sales2")
    r = api.complete("sales2", sign["id"], {"unit": "9栋601", "amount": 0})
    assert {p["field"] for p in r.json()["detail"]} == {"contract_no", "amount"}
    state = case.do(
        "sign_contract", "sales2", {"unit": "9栋601", "contract_no": "HT-1", "amount": 3280000}
    )
    [onboard] = state["open_tasks"]
    assert (onboard["element_id"], onboard["department"]) == (
        "owner_onboarding",
        "customer_service",
    )
    state = case.do("owner_onboarding", "cs1", {"welcome_call_done": True})
    if referred:
        [reward] = state["open_tasks"]
        assert reward["element_id"] == "referral_reward"
        state = case.do("referral_reward", "cs1", {"reward_given": True})
    assert state["status"] == "completed"
    [customer] = api.get("/customers", "gm", params={"q": "李娜"}).json()["items"]
    assert customer["is_owner"] is True
    record = api.get(f"/customers/{customer['id']}", "gm").json()
    assert record["units"][0]["unit"] == "9栋601"
    assert record["leads"][0]["outcome"] == "won"
