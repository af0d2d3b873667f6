"""processes/lead_follow_up.bpmn through the API, the customer records it feeds and the funnel."""

from __future__ import annotations

import pytest

from tests.api_client import Api
from tests.shipped import Case, setup_shipped

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


def visitor(phone: str = "13900139000", project: str = "云山府", **extra: object) -> dict:
    return {"name": "李娜", "phone": phone, "project": project, "source": "walk_in", **extra}


def assigned(api: Api, consultant: str = "sales2", **start: object) -> Case:
    case = Case(api, "sales1", "lead_follow_up", visitor(**start))
    [task] = case.open()
    assert (task["element_id"], task["department"], task["assignee"]) == (
        "assign_consultant",
        "sales",
        None,
    )
    state = case.do("assign_consultant", "sales1", {"consultant": consultant})
    [follow] = state["open_tasks"]
    assert (follow["element_id"], follow["assignee"]) == ("follow_up", consultant)
    return case


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


def test_customer_is_one_record_across_leads_and_complaints(api: Api) -> None:
    assigned(api, phone="13900139000")
    Case(api, "sales1", "lead_follow_up", visitor(phone="139 0013 9000", project="滨江壹号"))
    Case(
        api,
        "cs1",
        "complaint_handling",
        {
            "customer_name": "李娜",
            "phone": "+8613900139000",
            "category": "other",
            "description": "样板间与交付不符",
            "project": "云山府",
        },
    )
    Case(api, "sales1", "lead_follow_up", visitor(phone="13600136000"))
    everyone = api.get("/customers", "gm").json()
    assert everyone["total"] == 2
    [li] = api.get("/customers", "gm", params={"q": "0139"}).json()["items"]
    record = api.get(f"/customers/{li['id']}", "gm").json()
    assert sorted(lead["project"] for lead in record["leads"]) == ["云山府", "滨江壹号"]
    assert [c["category"] for c in record["complaints"]] == ["other"]
    by_project = api.get("/customers", "gm", params={"project": "滨江壹号"}).json()
    assert [c["id"] for c in by_project["items"]] == [li["id"]]
    # phones are masked for people not working the customer's cases
    assert api.get("/customers", "eng1", params={"q": "李"}).json()["items"][0]["phone"] == (
        "139****9000"
    )
    assert api.get("/customers", "sales2", params={"q": "李"}).json()["items"][0]["phone"] == (
        "13900139000"
    )
    assert api.get(f"/customers/{li['id']}", "prop1").json()["phone"] == "139****9000"
    assert api.get("/customers", "dora").status_code == 403
    assert api.get("/customers/999", "gm").status_code == 404


def test_funnel_counts_stages_conversion_and_lost_reasons(api: Api) -> None:
    a = assigned(api, consultant="sales2", phone="13900139001")
    a.do("follow_up", "sales2", {"stage": "prospect"})
    a.do("follow_up", "sales2", {"stage": "lost", "lost_reason": "price"})
    b = assigned(api, consultant="sales1", phone="13900139002")
    b.do("follow_up", "sales1", {"stage": "won"})
    b.do("sign_contract", "sales1", {"contract_no": "HT-2"})
    assigned(api, consultant="sales2", phone="13900139003", project="滨江壹号")
    Case(api, "sales1", "lead_follow_up", visitor(phone="13900139004"))

    funnel = api.get("/reports/funnel", "sup_sales").json()
    assert funnel["total"] == 4
    assert funnel["stages"] == {
        "visitor": 2,
        "prospect": 0,
        "near_close": 0,
        "won": 0,
        "owner": 1,
        "lost": 1,
    }
    assert funnel["reached"] == {"visitor": 4, "prospect": 2, "near_close": 1, "won": 1, "owner": 1}
    assert funnel["conversion"][0] == {
        "from": "visitor",
        "to": "prospect",
        "reached_from": 4,
        "reached_to": 2,
        "rate": 0.5,
    }
    assert funnel["lost_reasons"]["price"] == 1
    by_consultant = api.get("/reports/funnel", "gm", params={"consultant": "sales2"}).json()
    assert by_consultant["total"] == 2 and by_consultant["stages"]["lost"] == 1
    by_project = api.get("/reports/funnel", "gm", params={"project": "滨江壹号"}).json()
    assert by_project["total"] == 1
    assert api.get("/reports/funnel", "eng1").status_code == 403
