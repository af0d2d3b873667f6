"""Leads started and assigned through the API, for the lead and customer tests."""

from __future__ import annotations

from engine.db import unit_of_work
from engine.identity import create_user
from tests.fixtures.api_client import Api
from tests.fixtures.shipped import Case


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


def sales_staff(username: str, display_name: str, *roles: str) -> None:
    """Add a sales staff member with a Chinese display name (the pages show it)."""
    with unit_of_work() as session:
        create_user(
            session,
            username=username,
            password="secret-pass",
            roles=list(roles) or ["staff"],
            department="sales",
            display_name=display_name,
        )
