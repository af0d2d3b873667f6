"""Handing a user's work over (CONTRACT.md "Administration and staff leaving"): every open
task and every running lead they hold moves to colleagues of their department, each move
in the history; a dry run writes nothing; a supervisor's holiday cover can be handed back."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.db import unit_of_work
from engine.models import Handover, HistoryEvent, Instance, Task
from tests.crm.leads import assigned, visitor
from tests.fixtures.api_client import Api
from tests.fixtures.factories import make_user
from tests.fixtures.shipped import Case, setup_shipped


@pytest.fixture
def api(db_url: str) -> Api:
    api = setup_shipped()
    make_user("root", "admin")
    make_user("sales3", "staff", department="sales")
    make_user("sales4", "staff", department="sales")
    return api


def _lead(api: Api, case: Case) -> dict:
    """The lead of a case as GET /customers/{id} shows it."""
    for customer in api.get("/customers", "gm").json()["items"]:
        record = api.get(f"/customers/{customer['id']}", "gm").json()
        for lead in record["leads"]:
            if lead["instance_id"] == case.id:
                return lead
    raise AssertionError(f"no lead for {case.id}")


def _won(api: Api, phone: str) -> Case:
    """A lead of sales2 waiting at its contract (sign_contract assigned to sales2)."""
    case = assigned(api, consultant="sales2", phone=phone)
    case.do("follow_up", "sales2", {"stage": "won"})
    assert case.task("sign_contract")["assignee"] == "sales2"
    return case


def _queue_task_claimed_by_sales2(api: Api) -> tuple[Case, dict]:
    """An assign_consultant task sales2 claimed: theirs, but no lead of theirs."""
    case = Case(api, "sales1", "lead_follow_up", visitor(phone="13900139009"))
    task = case.task("assign_consultant")
    assert api.post(f"/tasks/{task['id']}/claim", "sales2").status_code == 200
    return case, task


def _snapshot() -> tuple:
    with unit_of_work(write=False) as s:
        return (
            s.execute(select(func.count()).select_from(HistoryEvent)).scalar_one(),
            s.execute(select(func.count()).select_from(Handover)).scalar_one(),
            sorted(s.execute(select(Task.id, Task.assignee, Task.state)).all()),
            sorted(s.execute(select(Instance.id, Instance.lock_version)).all()),
        )


def test_a_handover_moves_every_open_task_and_running_lead(api: Api) -> None:
    lead = assigned(api, consultant="sales2")
    won = _won(api, "13900139001")
    other, claimed = _queue_task_claimed_by_sales2(api)
    r = api.post("/admin/users/sales2/handover", "root", json={"to": "sales3"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["tasks"], body["leads"]) == (3, 2)
    assert {m["instance_id"] for m in body["lead_moves"]} == {lead.id, won.id}
    assert {m["to"] for m in body["task_moves"] + body["lead_moves"]} == {"sales3"}
    for case in (lead, won):
        assert case.refresh()["variables"]["consultant"] == "sales3"
        assert {t["assignee"] for t in case.open()} == {"sales3"}
        assert _lead(api, case)["consultant"] == "sales3"
    assert other.task("assign_consultant")["assignee"] == "sales3"
    assert other.refresh()["variables"].get("consultant") is None
    # each move in the case's history, with the handover and the variable's change
    [move] = [e for e in lead.history() if e["type"] == "task_assigned"]
    assert move["actor"] == "root"
    assert move["data"]["handover"] == body["handover_id"]
    assert (move["data"]["previous_assignee"], move["data"]["assignee"]) == ("sales2", "sales3")
    assert move["data"]["changes"] == [
        {"name": "consultant", "before": "sales2", "after": "sales3"}
    ]
    [plain] = [e for e in other.history() if e["type"] == "task_assigned"]
    assert "changes" not in plain["data"] and plain["task_id"] == claimed["id"]
    # one summary event listing what moved
    events = api.get("/audit/events", "audit", params={"type": "user_handed_over"}).json()
    [summary] = events["items"]
    assert summary["actor"] == "root"
    assert sorted(summary["data"]["task_ids"]) == sorted(m["task_id"] for m in body["task_moves"])
    assert sorted(summary["data"]["instance_ids"]) == sorted([lead.id, won.id])
    # later follow-ups go to the new consultant
    state = lead.do("follow_up", "sales3", {"stage": "prospect"})
    assert [t["assignee"] for t in state["open_tasks"]] == ["sales3"]
    # the old token of sales2 is refused on the tasks that are no longer theirs
    r = api.complete("sales2", won.task("sign_contract")["id"], {"contract_no": "C-1"})
    assert r.status_code == 409, r.text
    # the leaver holds nothing now, and can be deactivated
    row = api.get("/admin/users/sales2", "root").json()
    assert (row["open_tasks"], row["leads"]) == (0, 0)
    assert api.patch("/admin/users/sales2", "root", json={"active": False}).status_code == 200


def test_a_dry_run_lists_the_same_moves_and_writes_nothing(api: Api) -> None:
    assigned(api, consultant="sales2")
    _won(api, "13900139001")
    _queue_task_claimed_by_sales2(api)
    before = _snapshot()
    body = {"to": ["sales3", "sales4"], "dry_run": True}
    dry = api.post("/admin/users/sales2/handover", "root", json=body)
    assert dry.status_code == 200, dry.text
    assert _snapshot() == before  # no event, no handover, no task or case changed
    assert dry.json()["dry_run"] is True and dry.json()["handover_id"] is None
    real = api.post("/admin/users/sales2/handover", "root", json={**body, "dry_run": False})
    assert real.status_code == 200, real.text
    for key in ("tasks", "leads", "task_moves", "lead_moves", "to"):
        assert dry.json()[key] == real.json()[key], key
    assert (real.json()["tasks"], real.json()["leads"]) == (3, 2)


def test_several_recipients_get_the_leads_round_robin_each_with_its_tasks(api: Api) -> None:
    leads = [assigned(api, consultant="sales2", phone=f"1390013900{n}") for n in range(3)]
    won = _won(api, "13900139005")
    r = api.post(
        "/admin/users/sales2/handover", "root", json={"to": ["sales3", "sales4", "sales3"]}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["to"] == ["sales3", "sales4"] and (body["tasks"], body["leads"]) == (4, 4)
    by_case = {m["instance_id"]: m["to"] for m in body["lead_moves"]}
    ordered = sorted(by_case)
    assert [by_case[i] for i in ordered] == ["sales3", "sales4", "sales3", "sales4"]
    for case in (*leads, won):
        to = by_case[case.id]
        assert case.refresh()["variables"]["consultant"] == to
        assert {t["assignee"] for t in case.open()} == {to}
        assert _lead(api, case)["consultant"] == to
    for move in body["task_moves"]:
        assert move["to"] == by_case[move["instance_id"]]


def test_bad_recipients_answer_422_naming_to_and_write_nothing(api: Api) -> None:
    assigned(api, consultant="sales2")
    make_user("sales_gone", "staff", department="sales")
    assert api.patch("/admin/users/sales_gone", "root", json={"active": False}).status_code == 200
    make_user("sales_boss", "executive")
    before = _snapshot()
    for to in (
        "sales2",  # the user themselves
        "cs1",  # another department
        "sales_gone",  # inactive
        "nobody",
        "gm",  # no department
        [],
        ["sales3", "cs1"],
        "",
    ):
        r = api.post("/admin/users/sales2/handover", "root", json={"to": to})
        assert r.status_code == 422, (to, r.text)
        assert {p["field"] for p in r.json()["detail"]} == {"to"}, r.text
    r = api.post("/admin/users/sales2/handover", "root", json={"dry_run": True})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "to"
    assert _snapshot() == before


def test_only_admins_and_the_department_supervisors_hand_over(api: Api) -> None:
    assigned(api, consultant="sales2")
    before = _snapshot()
    for user in ("sales1", "sales3", "sup_customer_service", "gm", "audit", "dora"):
        r = api.post("/admin/users/sales2/handover", user, json={"to": "sales3"})
        assert r.status_code == 403, (user, r.text)
    assert api.post("/admin/users/sales2/handover", None, json={"to": "sales3"}).status_code == 401
    r = api.post("/admin/users/nobody/handover", "root", json={"to": "sales3"})
    assert r.status_code == 404
    assert _snapshot() == before
    for user in ("sales1", "gm", "audit"):
        assert api.get("/admin/handovers", user).status_code == 403
        assert api.post("/admin/handovers/1/return", user).status_code in (403, 404)


def test_a_supervisor_covers_a_holiday_and_hands_the_work_back(api: Api) -> None:
    lead = assigned(api, consultant="sales2")
    won = _won(api, "13900139001")
    other, claimed = _queue_task_claimed_by_sales2(api)
    r = api.post("/admin/users/sales2/handover", "sup_sales", json={"to": "sales3"})
    assert r.status_code == 200, r.text
    handover_id = r.json()["handover_id"]
    # while covering, sales3 works a follow-up: the next one is theirs too
    lead.do("follow_up", "sales3", {"stage": "prospect"})
    assert lead.task("follow_up")["assignee"] == "sales3"
    # and the claimed queue task was given to someone else meanwhile: it stays there
    r = api.post(f"/tasks/{claimed['id']}/assign", "sup_sales", json={"username": "sales4"})
    assert r.status_code == 200, r.text
    listed = api.get("/admin/handovers", "sup_sales", params={"username": "sales2"}).json()
    assert [h["id"] for h in listed["items"]] == [handover_id]
    assert listed["items"][0]["returned_at"] is None
    assert api.get("/admin/handovers", "sup_customer_service").json()["items"] == []
    r = api.post(f"/admin/handovers/{handover_id}/return", "sup_customer_service")
    assert r.status_code == 403
    r = api.post(f"/admin/handovers/{handover_id}/return", "sup_sales")
    assert r.status_code == 200, r.text
    back = r.json()
    assert back["leads"] == 2 and back["tasks"] == 2 and back["to"] == ["sales2"]
    for case in (lead, won):
        assert case.refresh()["variables"]["consultant"] == "sales2"
        assert {t["assignee"] for t in case.open()} == {"sales2"}
        assert _lead(api, case)["consultant"] == "sales2"
    assert other.task("assign_consultant")["assignee"] == "sales4"
    returned = [e for e in lead.history() if e["type"] == "task_assigned"][-1]
    assert returned["actor"] == "sup_sales" and returned["data"]["handed_back"] is True
    assert returned["data"]["changes"] == [
        {"name": "consultant", "before": "sales3", "after": "sales2"}
    ]
    events = api.get("/audit/events", "audit", params={"type": "handover_returned"}).json()
    assert [e["data"]["handover"] for e in events["items"]] == [handover_id]
    # once only
    r = api.post(f"/admin/handovers/{handover_id}/return", "sup_sales")
    assert r.status_code == 409
    assert api.post("/admin/handovers/999/return", "root").status_code == 404


def test_a_won_lead_at_onboarding_is_no_longer_held(api: Api) -> None:
    won = _won(api, "13900139001")
    won.do("sign_contract", "sales2", {"contract_no": "C-1", "unit": "1-101", "amount": 100})
    assert won.refresh()["status"] == "running"  # customer service onboards the owner
    row = api.get("/admin/users/sales2", "root").json()
    assert (row["open_tasks"], row["leads"]) == (0, 0)
    r = api.post("/admin/users/sales2/handover", "root", json={"to": "sales3", "dry_run": True})
    assert (r.json()["tasks"], r.json()["leads"]) == (0, 0)
    assert api.patch("/admin/users/sales2", "root", json={"active": False}).status_code == 200
    assert _lead(api, won)["consultant"] == "sales2"  # the sale stays theirs


def test_a_lead_whose_follow_up_waits_in_the_queue_moves_in_an_event_of_its_own(
    api: Api,
) -> None:
    lead = assigned(api, consultant="sales2")
    follow = lead.task("follow_up")
    assert api.post(f"/tasks/{follow['id']}/unclaim", "sup_sales").status_code == 200
    r = api.post("/admin/users/sales2/handover", "root", json={"to": "sales3"})
    assert r.status_code == 200, r.text
    assert (r.json()["tasks"], r.json()["leads"]) == (0, 1)
    assert lead.refresh()["variables"]["consultant"] == "sales3"
    assert _lead(api, lead)["consultant"] == "sales3"
    assert lead.task("follow_up")["assignee"] is None  # it stays in the queue
    [change] = [e for e in lead.history() if e["type"] == "variables_changed"]
    assert change["actor"] == "root" and change["data"]["handover"] == r.json()["handover_id"]
    assert change["data"]["changes"] == [
        {"name": "consultant", "before": "sales2", "after": "sales3"}
    ]
    # whoever completes it, the next follow-up goes to the new consultant
    state = lead.do("follow_up", "sales1", {"stage": "prospect"})
    assert [t["assignee"] for t in state["open_tasks"]] == ["sales3"]
