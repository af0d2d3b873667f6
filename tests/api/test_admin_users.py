"""The admin API of users (CONTRACT.md "Administration and staff leaving"): list, add,
show, change, deactivate and reactivate, new password — admins only, every change in
the history with its actor and never a password."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from engine import clock
from engine.db import unit_of_work
from engine.models import HistoryEvent, User
from tests.crm.leads import assigned, visitor
from tests.fixtures.api_client import Api
from tests.fixtures.factories import make_user
from tests.fixtures.shipped import Case, setup_shipped
from tests.fixtures.web_client import Browser

NEW = {
    "username": "sales9",
    "password": "a-long-pass",
    "roles": ["staff"],
    "department": "sales",
    "display_name": "王芳",
    "email": "wang@example.com",
}


@pytest.fixture
def api(db_url: str) -> Api:
    api = setup_shipped()
    make_user("root", "admin")
    make_user("sales3", "staff", department="sales")
    return api


def _events(type_: str) -> list[HistoryEvent]:
    with unit_of_work(write=False) as s:
        return list(
            s.scalars(
                select(HistoryEvent).where(HistoryEvent.type == type_).order_by(HistoryEvent.seq)
            )
        )


def _user_count() -> int:
    with unit_of_work(write=False) as s:
        return s.execute(select(func.count()).select_from(User)).scalar_one()


def _row(api: Api, username: str) -> dict:
    r = api.get("/admin/users", "root")
    assert r.status_code == 200, r.text
    [row] = [u for u in r.json()["items"] if u["username"] == username]
    return row


def _token(api: Api, username: str, password: str) -> int:
    r = api.client.post("/api/v1/auth/token", data={"username": username, "password": password})
    return r.status_code


def test_the_list_shows_every_user_with_their_work_and_last_sign_in(api: Api) -> None:
    assigned(api, consultant="sales2")
    r = api.get("/admin/users", "root")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == len(body["items"]) == _user_count()
    names = [u["username"] for u in body["items"]]
    assert names == sorted(names)
    sales2 = _row(api, "sales2")
    assert set(sales2) == {
        "username",
        "display_name",
        "email",
        "department",
        "roles",
        "active",
        "created_at",
        "last_signin_at",
        "open_tasks",
        "leads",
    }
    assert (sales2["department"], sales2["roles"], sales2["active"]) == ("sales", ["staff"], True)
    assert (sales2["open_tasks"], sales2["leads"]) == (1, 1)
    assert sales2["last_signin_at"] is None  # sales2 has not signed in yet
    assert _row(api, "sales1")["last_signin_at"] is not None  # sales1 started the lead
    # a page sign-in sets it too, at the server's clock
    clock.set_global_time(clock.now().replace(year=2031))
    b = Browser()
    try:
        b.sign_in("sales2")
    finally:
        b.close()
    assert _row(api, "sales2")["last_signin_at"].startswith("2031-")


def test_an_admin_adds_a_user_who_then_signs_in(api: Api) -> None:
    r = api.post("/admin/users", "root", json=NEW)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["username"] == "sales9" and created["display_name"] == "王芳"
    assert (created["department"], created["roles"], created["active"]) == (
        "sales",
        ["staff"],
        True,
    )
    assert created["email"] == "wang@example.com"
    assert _token(api, "sales9", "a-long-pass") == 200
    [event] = _events("user_created")
    assert event.actor == "root"
    assert event.data["username"] == "sales9" and event.data["roles"] == ["staff"]
    assert "a-long-pass" not in json.dumps(event.data) and "password" not in event.data
    # display_name and email are optional
    r = api.post(
        "/admin/users",
        "root",
        json={"username": "gm2", "password": "another-pass", "roles": ["executive"]},
    )
    assert r.status_code == 201, r.text
    assert r.json()["display_name"] == "gm2" and r.json()["department"] is None


def test_adding_refuses_a_taken_name_and_names_each_bad_field(api: Api) -> None:
    before = _user_count()
    r = api.post("/admin/users", "root", json={**NEW, "username": "sales2"})
    assert r.status_code == 409, r.text
    assert "sales2" in r.json()["detail"]
    cases = {
        "roles": {**NEW, "roles": ["staff", "wizard"]},
        "department": {**NEW, "department": "marketing"},
        "password": {**NEW, "password": "secret-pw"},  # 9 characters
        "email": {**NEW, "email": "not an address"},
    }
    for field, body in cases.items():
        r = api.post("/admin/users", "root", json=body)
        assert r.status_code == 422, (field, r.text)
        assert [p["field"] for p in r.json()["detail"]] == [field], r.text
    r = api.post("/admin/users", "root", json={"username": "x1"})
    assert r.status_code == 422
    assert {p["field"] for p in r.json()["detail"]} == {"password", "roles"}
    r = api.post("/admin/users", "root", json={**NEW, "role": "staff"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "role"
    assert _user_count() == before
    assert _events("user_created") == []


ADMIN_CALLS = [
    ("get", "/admin/users", None),
    ("get", "/admin/users/sales2", None),
    ("post", "/admin/users", NEW),
    ("patch", "/admin/users/sales2", {"display_name": "X"}),
    ("post", "/admin/users/sales2/password", {"password": "a-long-pass"}),
]


def test_only_admins_manage_users(api: Api) -> None:
    for user in ("sales1", "sup_sales", "gm", "audit", "dora"):
        for method, path, body in ADMIN_CALLS:
            kw = {"json": body} if body is not None else {}
            r = getattr(api, method)(path, user, **kw)
            assert r.status_code == 403, (user, method, path, r.text)
    for method, path, body in ADMIN_CALLS:
        kw = {"json": body} if body is not None else {}
        assert getattr(api, method)(path, None, **kw).status_code == 401
    assert _user_count() == 17 and _events("user_updated") == []
    assert api.get("/admin/users/nobody", "root").status_code == 404
    assert api.patch("/admin/users/nobody", "root", json={"active": False}).status_code == 404


def test_deactivating_ends_tokens_and_sign_in_at_once_and_reactivating_restores(
    api: Api,
) -> None:
    api.login("sales3")
    b = Browser()
    try:
        b.sign_in("sales3")
        assert api.get("/tasks", "sales3").status_code == 200
        r = api.patch("/admin/users/sales3", "root", json={"active": False})
        assert r.status_code == 200, r.text
        assert r.json()["active"] is False
        assert api.get("/tasks", "sales3").status_code == 401  # the old token
        assert _token(api, "sales3", "secret-pass") == 401
        page = b.get("/inbox")
        assert page.status_code == 303 and page.headers["location"].startswith("/login")
        b.get("/login")
        r = b.post("/login", {"username": "sales3", "password": "secret-pass", "next": "/inbox"})
        assert r.status_code == 401
        # deactivating again changes nothing and records nothing
        assert api.patch("/admin/users/sales3", "root", json={"active": False}).status_code == 200
        r = api.patch("/admin/users/sales3", "root", json={"active": True})
        assert r.status_code == 200 and r.json()["active"] is True
        assert _token(api, "sales3", "secret-pass") == 200
        b.sign_in("sales3")
    finally:
        b.close()
    [off] = _events("user_deactivated")
    [on] = _events("user_reactivated")
    assert (off.actor, off.data) == ("root", {"username": "sales3", "sessions_ended": 1})
    assert (on.actor, on.data) == ("root", {"username": "sales3"})
    assert _row(api, "sales3")["active"] is True


def test_a_user_holding_work_cannot_be_deactivated(api: Api) -> None:
    assigned(api, consultant="sales2")
    assigned(api, consultant="sales2", phone="13900139001")
    api.login("sales2")
    r = api.patch("/admin/users/sales2", "root", json={"active": False, "display_name": "张三"})
    assert r.status_code == 409, r.text
    detail = r.json()["detail"]
    assert set(detail) == {"message", "open_tasks", "leads"}
    assert (detail["open_tasks"], detail["leads"]) == (2, 2)
    assert "sales2" in detail["message"]
    # nothing changed: still active, same name, their token still works, no event
    row = _row(api, "sales2")
    assert (row["active"], row["display_name"]) == (True, "sales2")
    assert api.get("/tasks", "sales2").status_code == 200
    assert _events("user_deactivated") == [] and _events("user_updated") == []
    shown = api.get("/admin/users/sales2", "root").json()
    assert len(shown["open_task_list"]) == 2 and len(shown["lead_list"]) == 2
    assert {lead["variables"][0] for lead in shown["lead_list"]} == {"consultant"}
    # nobody deactivates themselves
    r = api.patch("/admin/users/root", "root", json={"active": False})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "active"


def test_changing_a_user_records_each_field_before_and_after(api: Api) -> None:
    r = api.patch(
        "/admin/users/sales3",
        "root",
        json={
            "roles": ["staff", "supervisor"],
            "display_name": "李四",
            "email": "li@example.com",
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["roles"] == ["staff", "supervisor"] and r.json()["display_name"] == "李四"
    [event] = _events("user_updated")
    assert event.actor == "root"
    assert event.data["changes"] == [
        {"name": "roles", "before": ["staff"], "after": ["staff", "supervisor"]},
        {"name": "display_name", "before": "sales3", "after": "李四"},
        {"name": "email", "before": None, "after": "li@example.com"},
    ]
    for body, field in (
        ({"roles": ["boss"]}, "roles"),
        ({"department": "nowhere"}, "department"),
        ({"department": None}, "department"),  # staff belong to a department
        ({"email": "x"}, "email"),
        ({"display_name": "  "}, "display_name"),
        ({"username": "renamed"}, "username"),
    ):
        r = api.patch("/admin/users/sales3", "root", json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["detail"][0]["field"] == field, r.text
    assert len(_events("user_updated")) == 1
    # moving to another department
    r = api.patch("/admin/users/sales3", "root", json={"department": "property"})
    assert r.status_code == 200 and r.json()["department"] == "property"


def test_an_admin_sets_a_new_password(api: Api) -> None:
    api.login("sales3")
    r = api.post("/admin/users/sales3/password", "root", json={"password": "secret-pw"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "password"
    assert api.get("/tasks", "sales3").status_code == 200
    r = api.post("/admin/users/sales3/password", "root", json={"password": "brand-new-pass"})
    assert r.status_code == 200, r.text
    assert api.get("/tasks", "sales3").status_code == 401
    assert _token(api, "sales3", "secret-pass") == 401
    assert _token(api, "sales3", "brand-new-pass") == 200
    [event] = _events("user_password_changed")
    assert event.actor == "root" and event.data["username"] == "sales3"
    assert "brand-new-pass" not in json.dumps(event.data)


def test_a_deactivated_user_is_no_longer_offered_or_accepted_as_assignee(api: Api) -> None:
    assert api.patch("/admin/users/sales3", "root", json={"active": False}).status_code == 200
    case = Case(api, "sales1", "lead_follow_up", visitor())
    task = case.task("assign_consultant")
    r = api.complete("sales1", task["id"], {"consultant": "sales3"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "consultant"
    r = api.post(f"/tasks/{task['id']}/assign", "sup_sales", json={"username": "sales3"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "username"
    b = Browser()
    try:
        b.sign_in("sup_sales")
        page = b.get(f"/tasks/{task['id']}").text
        assert 'value="sales2"' in page and 'value="sales3"' not in page
    finally:
        b.close()
    # their history stays: the list still shows them, inactive
    assert _row(api, "sales3")["active"] is False
