"""Leads: one consultant per customer and project (CONTRACT.md). A second running lead of
a phone on a project is refused with 409 naming the first and writing nothing; a
follow-up or contract task reassigned moves the lead to the new consultant."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from crm.models import Customer, Lead
from engine.db import unit_of_work
from engine.models import HistoryEvent, Instance, Task
from tests.crm.leads import assigned, visitor
from tests.fixtures.api_client import Api
from tests.fixtures.shipped import Case, setup_shipped


@pytest.fixture
def api(db_url: str) -> Api:
    return setup_shipped()


def _counts() -> tuple[int, int, int, int, int]:
    with unit_of_work(write=False) as s:
        return tuple(  # type: ignore[return-value]
            s.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (Instance, HistoryEvent, Customer, Lead, Task)
        )


def test_second_running_lead_of_a_phone_on_a_project_is_refused(api: Api) -> None:
    first = assigned(api, consultant="sales2", phone="13900139000", project="云山府")
    before = _counts()
    with unit_of_work(write=False) as s:
        customer_name = s.execute(select(Customer.name)).scalar_one()
    r = api.start("sales1", "lead_follow_up", visitor(phone="139 0013 9000", name="李娜娜"))
    assert r.status_code == 409, r.text
    detail = r.json()["detail"]
    assert set(detail) == {"message", "instance_id", "consultant"}
    assert detail["instance_id"] == first.id
    assert detail["consultant"] == "sales2"
    assert "云山府" in detail["message"]
    # nothing written: no instance, no event, no customer change
    assert _counts() == before
    with unit_of_work(write=False) as s:
        assert s.execute(select(Customer.name)).scalar_one() == customer_name


def test_running_lead_without_consultant_answers_null(api: Api) -> None:
    first = Case(api, "sales1", "lead_follow_up", visitor())
    r = api.start("sales2", "lead_follow_up", visitor())
    assert r.status_code == 409, r.text
    assert r.json()["detail"]["instance_id"] == first.id
    assert r.json()["detail"]["consultant"] is None


def test_other_project_or_ended_lead_starts_normally(api: Api) -> None:
    lost = assigned(api, phone="13900139000", project="云山府")
    assert api.start("sales1", "lead_follow_up", visitor(project="滨江壹号")).status_code == 201
    lost.do("follow_up", "sales2", {"stage": "lost", "lost_reason": "price"})
    assert lost.refresh()["status"] == "completed"
    again = Case(api, "sales1", "lead_follow_up", visitor(project="云山府"))
    r = api.post(f"/instances/{again.id}/cancel", "sup_sales", json={"reason": "重复登记测试"})
    assert r.status_code == 200, r.text
    assert api.start("sales1", "lead_follow_up", visitor(project="云山府")).status_code == 201
    # a complaint of the same phone is no lead: never refused
    complaint = {
        "customer_name": "李娜",
        "phone": "13900139000",
        "category": "other",
        "description": "样板间与交付不符",
        "project": "云山府",
    }
    assert api.start("cs1", "complaint_handling", complaint).status_code == 201


def test_two_registrations_at_once_make_one_lead(api: Api, db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite serializes every write transaction; the race is PostgreSQL's")
    for user in ("sales1", "sales2"):
        api.login(user)
    barrier = threading.Barrier(4)
    answers: list[int] = []
    bodies: list[dict] = []

    def register(user: str, phone: str) -> None:
        barrier.wait()
        r = api.start(user, "lead_follow_up", visitor(phone=phone))
        answers.append(r.status_code)
        bodies.append(r.json())

    threads = [
        threading.Thread(target=register, args=(user, phone))
        for phone in ("13700137000", "13600136000")
        for user in ("sales1", "sales2")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [201, 201, 409, 409], bodies
    with unit_of_work(write=False) as s:
        assert s.execute(select(func.count()).select_from(Lead)).scalar_one() == 2
        assert s.execute(select(func.count()).select_from(Customer)).scalar_one() == 2
    winners = {b["id"] for b in bodies if "id" in b}
    assert {b["detail"]["instance_id"] for b in bodies if "detail" in b} == winners


def _customer_lead(api: Api, case: Case) -> dict:
    [customer] = api.get("/customers", "gm").json()["items"]
    record = api.get(f"/customers/{customer['id']}", "gm").json()
    [lead] = [lead for lead in record["leads"] if lead["instance_id"] == case.id]
    return lead


def test_reassigned_follow_up_moves_the_lead_to_the_new_consultant(api: Api) -> None:
    case = assigned(api, consultant="sales1")
    follow = case.task("follow_up")
    r = api.post(f"/tasks/{follow['id']}/assign", "sup_sales", json={"username": "sales2"})
    assert r.status_code == 200, r.text
    assert r.json()["assignee"] == "sales2"
    detail = api.get(f"/tasks/{follow['id']}", "sales2").json()
    assert detail["variables"]["consultant"] == "sales2"
    assert case.refresh()["variables"]["consultant"] == "sales2"
    assert _customer_lead(api, case)["consultant"] == "sales2"
    [event] = [e for e in case.history() if e["type"] == "task_assigned"]
    assert event["actor"] == "sup_sales"
    assert event["data"]["assignee"] == "sales2"
    assert event["data"]["previous_assignee"] == "sales1"
    assert {"name": "consultant", "before": "sales1", "after": "sales2"} in event["data"]["changes"]
    # the old consultant no longer holds it; the new one completes it
    assert api.complete("sales1", follow["id"], {"stage": "prospect"}).status_code in (403, 409)
    state = case.do("follow_up", "sales2", {"stage": "prospect", "notes": "看了样板间"})
    [following] = state["open_tasks"]
    assert (following["element_id"], following["assignee"]) == ("follow_up", "sales2")
    assert [t["id"] for t in api.tasks("sales2", scope="mine")] == [following["id"]]
    assert api.tasks("sales1", scope="mine") == []
    assert _customer_lead(api, case)["consultant"] == "sales2"


def test_reassigned_contract_moves_the_lead_and_plain_tasks_keep_their_variables(
    api: Api,
) -> None:
    case = assigned(api, consultant="sales2")
    case.do("follow_up", "sales2", {"stage": "won"})
    contract = case.task("sign_contract")
    assert contract["assignee"] == "sales2"
    r = api.post(f"/tasks/{contract['id']}/assign", "gm", json={"username": "sales1"})
    assert r.status_code == 200, r.text
    assert case.refresh()["variables"]["consultant"] == "sales1"
    assert _customer_lead(api, case)["consultant"] == "sales1"
    # assigning someone outside sales is refused and changes nothing
    r = api.post(f"/tasks/{contract['id']}/assign", "gm", json={"username": "cs1"})
    assert r.status_code == 422, r.text
    assert case.refresh()["variables"]["consultant"] == "sales1"
    case.do("sign_contract", "sales1", {"contract_no": "HT-001", "amount": 1200000})
    onboarding = case.task("owner_onboarding")
    # a task without `assignee_variable` is assigned without touching the case data
    before = case.refresh()["variables"]
    r = api.post(
        f"/tasks/{onboarding['id']}/assign", "sup_customer_service", json={"username": "cs2"}
    )
    assert r.status_code == 200, r.text
    assert case.refresh()["variables"] == before
    assert _customer_lead(api, case)["consultant"] == "sales1"
