"""The case record across departments through the API: every step's submission kept as
its own record (`steps`), the proposals of a round, loops told apart by `round`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from alembic import command
from sqlalchemy import select, update

from engine import clock
from engine.db import dispose_engines, unit_of_work
from engine.migrations import alembic_config
from engine.models import HistoryEvent, Task
from tests.crm.leads import assigned
from tests.fixtures.api_client import Api
from tests.fixtures.shipped import Case, setup_shipped

COMPLAINT = {
    "customer_name": "张伟",
    "phone": "13800138000",
    "project": "滨江壹号",
    "unit": "3栋1502",
    "channel": "hotline",
    "category": "quality",
    "severity": "normal",
    "description": "卫生间漏水，楼下天花板渗水",
}
APPROVAL = "同意两部门方案，工程部先换管，物业部随后清理"
VISIT = "客户对维修结果满意，建议加强巡检"


@pytest.fixture
def api(db_url: str) -> Api:
    return setup_shipped()


def _record(step: dict[str, Any]) -> tuple[str, str, str | None, dict[str, Any], int]:
    return (
        step["element_id"],
        step["department"],
        step["completed_by"],
        step["data"],
        step["round"],
    )


def _surveyed(api: Api) -> Case:
    case = Case(api, "cs1", "complaint_handling", COMPLAINT)
    case.do("acknowledge_complaint", "cs1", {"contacted": True, "notes": "已回电，约明早上门"})
    case.do(
        "site_survey",
        "eng1",
        {"findings": "主卫给水管接头锈蚀渗漏", "departments": ["engineering", "property"]},
    )
    return case


def _propose(case: Case, engineering: dict[str, Any], property_: dict[str, Any]) -> dict:
    case.do("propose_solution", "eng1", engineering, department="engineering")
    return case.do("propose_solution", "prop1", property_, department="property")


def test_every_step_keeps_its_own_record_through_the_whole_complaint(api: Api) -> None:
    case = _surveyed(api)
    _propose(
        case,
        {"solution": "更换主卫给水管及接头", "cost_estimate": 3800},
        {"solution": "清理楼下天花板"},
    )
    seen: list[list[dict[str, Any]]] = [case.refresh()["steps"]]
    for element_id, user, data in [
        ("approve_solution", "cs1", {"approved": True, "comments": APPROVAL}),
        ("execute_fix", "eng1", {"work_done": "已更换给水管，试压合格"}),
        ("confirm_resolution", "cs2", {"resolved": True}),
        ("return_visit", "cs1", {"satisfaction": 5, "comments": VISIT}),
    ]:
        answer = case.do(element_id, user, data)
        steps = case.refresh()["steps"]
        assert answer["steps"] == steps  # the completion answers the case as it now is
        # Nothing a later step submits changes what an earlier step recorded.
        assert steps[: len(seen[-1])] == seen[-1]
        assert len(steps) == len(seen[-1]) + 1
        seen.append(steps)

    state = case.refresh()
    assert state["status"] == "completed"
    assert [_record(s) for s in state["steps"]] == [
        (
            "acknowledge_complaint",
            "customer_service",
            "cs1",
            {"contacted": True, "notes": "已回电，约明早上门"},
            1,
        ),
        (
            "site_survey",
            "engineering",
            "eng1",
            {"findings": "主卫给水管接头锈蚀渗漏", "departments": ["engineering", "property"]},
            1,
        ),
        (
            "propose_solution",
            "engineering",
            "eng1",
            {"solution": "更换主卫给水管及接头", "cost_estimate": 3800},
            1,
        ),
        (
            "propose_solution",
            "property",
            "prop1",
            {"solution": "清理楼下天花板", "cost_estimate": None},
            1,
        ),
        (
            "approve_solution",
            "customer_service",
            "cs1",
            {"approved": True, "comments": APPROVAL},
            1,
        ),
        ("execute_fix", "engineering", "eng1", {"work_done": "已更换给水管，试压合格"}, 1),
        ("confirm_resolution", "customer_service", "cs2", {"resolved": True}, 1),
        ("return_visit", "customer_service", "cs1", {"satisfaction": 5, "comments": VISIT}, 1),
    ]
    # Both comments stay readable: the approval's and the return visit's.
    comments = {
        s["element_id"]: s["data"]["comments"] for s in state["steps"] if "comments" in s["data"]
    }
    assert comments == {"approve_solution": APPROVAL, "return_visit": VISIT}
    assert state["variables"]["proposals"] == [
        {
            "department": "engineering",
            "solution": "更换主卫给水管及接头",
            "cost_estimate": 3800,
            "completed_by": "eng1",
        },
        {
            "department": "property",
            "solution": "清理楼下天花板",
            "cost_estimate": None,
            "completed_by": "prop1",
        },
    ]
    # No department's own proposal fields linger as if they were the case's.
    assert not {"solution", "cost_estimate", "proposal"} & set(state["variables"])
    names = {s["element_id"]: s["name"] for s in state["steps"]}
    assert names["approve_solution"] == "方案审核"
    for step in state["steps"]:
        assert set(step) == {
            "task_id",
            "element_id",
            "name",
            "department",
            "completed_by",
            "completed_at",
            "data",
            "round",
        }
        assert step["completed_at"].endswith("+00:00")
    history = [e for e in case.history() if e["type"] == "task_completed"]
    assert [e["task_id"] for e in history] == [s["task_id"] for s in state["steps"]]


def test_the_task_shows_the_steps_before_it(api: Api) -> None:
    case = _surveyed(api)
    _propose(
        case,
        {"solution": "换管", "cost_estimate": 3800.5},
        {"solution": "清理", "cost_estimate": 0},
    )
    approval = case.task("approve_solution")
    detail = api.get(f"/tasks/{approval['id']}", "cs2").json()
    assert [(s["element_id"], s["department"]) for s in detail["steps"]] == [
        ("acknowledge_complaint", "customer_service"),
        ("site_survey", "engineering"),
        ("propose_solution", "engineering"),
        ("propose_solution", "property"),
    ]
    assert detail["steps"][1]["data"]["findings"] == "主卫给水管接头锈蚀渗漏"
    assert [(p["department"], p["cost_estimate"]) for p in detail["variables"]["proposals"]] == [
        ("engineering", 3800.5),
        ("property", 0),
    ]
    # Someone who may not read the case reads none of its steps either.
    assert api.get(f"/tasks/{approval['id']}", "sales1").status_code == 403
    assert api.get(f"/instances/{case.id}", "sales1").status_code == 403


def test_a_rejected_approval_and_a_reopened_case_start_new_rounds(api: Api) -> None:
    case = _surveyed(api)
    _propose(case, {"solution": "整体更换", "cost_estimate": 12000}, {"solution": "清理"})
    case.do(
        "approve_solution", "cs1", {"approved": False, "comments": "费用过高，请给出局部维修方案"}
    )
    state = _propose(
        case, {"solution": "局部维修", "cost_estimate": 3800}, {"solution": "清理并除味"}
    )
    # The proposals are the round's own, not the rejected ones.
    assert [
        (p["department"], p["solution"], p["cost_estimate"])
        for p in state["variables"]["proposals"]
    ] == [
        ("engineering", "局部维修", 3800),
        ("property", "清理并除味", None),
    ]
    case.do("approve_solution", "cs1", {"approved": True, "comments": "同意"})
    case.do("execute_fix", "eng1", {"work_done": "局部维修完成"})
    case.do("confirm_resolution", "cs1", {"resolved": False})
    case.do("execute_fix", "eng1", {"work_done": "补做防水"})
    case.do("confirm_resolution", "cs1", {"resolved": True})
    case.do("return_visit", "cs1", {"satisfaction": 2, "comments": "仍有异味"})
    state = _propose(case, {"solution": "彻底更换", "cost_estimate": 9000}, {"solution": "除味"})
    steps = state["steps"]
    assert [(s["element_id"], s["department"], s["round"]) for s in steps] == [
        ("acknowledge_complaint", "customer_service", 1),
        ("site_survey", "engineering", 1),
        ("propose_solution", "engineering", 1),
        ("propose_solution", "property", 1),
        ("approve_solution", "customer_service", 1),
        ("propose_solution", "engineering", 2),
        ("propose_solution", "property", 2),
        ("approve_solution", "customer_service", 2),
        ("execute_fix", "engineering", 1),
        ("confirm_resolution", "customer_service", 1),
        ("execute_fix", "engineering", 2),
        ("confirm_resolution", "customer_service", 2),
        ("return_visit", "customer_service", 1),
        ("propose_solution", "engineering", 3),
        ("propose_solution", "property", 3),
    ]
    rejected = steps[4]["data"]
    assert rejected == {"approved": False, "comments": "费用过高，请给出局部维修方案"}
    assert [s["data"]["solution"] for s in steps if s["element_id"] == "propose_solution"] == [
        "整体更换",
        "清理",
        "局部维修",
        "清理并除味",
        "彻底更换",
        "除味",
    ]
    assert [p["solution"] for p in state["variables"]["proposals"]] == ["彻底更换", "除味"]


def test_a_leads_notes_are_kept_per_step(api: Api) -> None:
    case = assigned(api, notes="周末带家人来看三房")
    case.do("follow_up", "sales2", {"stage": "visitor", "notes": "首次回访，客户关注学区"})
    state = case.do(
        "follow_up",
        "sales2",
        {"stage": "prospect", "notes": "看了样板间，预算300万", "next_follow_up": "2026-12-10"},
    )
    follow_ups = [s for s in state["steps"] if s["element_id"] == "follow_up"]
    assert [(s["round"], s["completed_by"], s["data"]) for s in follow_ups] == [
        (
            1,
            "sales2",
            {
                "stage": "visitor",
                "notes": "首次回访，客户关注学区",
                "next_follow_up": None,
                "lost_reason": None,
            },
        ),
        (
            2,
            "sales2",
            {
                "stage": "prospect",
                "notes": "看了样板间，预算300万",
                "next_follow_up": "2026-12-10",
                "lost_reason": None,
            },
        ),
    ]
    assert state["steps"][0]["data"] == {"consultant": "sales2"}
    # The case variables hold the latest notes; the registration's stay in its history.
    assert state["variables"]["notes"] == "看了样板间，预算300万"
    [started] = [e for e in case.history() if e["type"] == "instance_started"]
    assert started["data"]["variables"]["notes"] == "周末带家人来看三房"


def test_order_and_rounds_hold_when_every_step_shares_one_instant(api: Api) -> None:
    clock.set_global_time(datetime(2026, 12, 2, 10, 0, tzinfo=UTC))  # a frozen clock
    case = _surveyed(api)
    _propose(case, {"solution": "整体更换"}, {"solution": "清理"})
    case.do("approve_solution", "cs1", {"approved": False, "comments": "费用过高"})
    state = _propose(case, {"solution": "局部维修"}, {"solution": "除味"})
    assert len({s["completed_at"] for s in state["steps"]}) == 1
    assert [(s["element_id"], s["round"], s["data"].get("solution")) for s in state["steps"]] == [
        ("acknowledge_complaint", 1, None),
        ("site_survey", 1, None),
        ("propose_solution", 1, "整体更换"),
        ("propose_solution", 1, "清理"),
        ("approve_solution", 1, None),
        ("propose_solution", 2, "局部维修"),
        ("propose_solution", 2, "除味"),
    ]


def _seqs(instance_id: str) -> dict[str, tuple[int | None, int | None]]:
    with unit_of_work(write=False) as s:
        rows = s.execute(
            select(Task.id, Task.created_seq, Task.completed_seq).where(
                Task.instance_id == instance_id
            )
        )
        return {task_id: (created, completed) for task_id, created, completed in rows}


def test_the_answer_keeps_the_record_from_the_rows_and_older_rows_from_the_history(
    api: Api, db_url: str
) -> None:
    """A completion's answer builds the record from the task rows it loaded (the seqs of
    their events on them); the same record comes from `GET /instances/{id}`, from rows
    whose seqs revision 0016 filled in from the history, and from rows without them."""
    clock.set_global_time(datetime(2026, 12, 2, 10, 0, tzinfo=UTC))  # one instant for all
    case = _surveyed(api)
    _propose(case, {"solution": "整体更换"}, {"solution": "清理"})
    case.do("approve_solution", "cs1", {"approved": False, "comments": "费用过高"})
    answered = _propose(case, {"solution": "局部维修"}, {"solution": "除味"})["steps"]
    assert [(s["element_id"], s["round"]) for s in answered][-3:] == [
        ("approve_solution", 1),
        ("propose_solution", 2),
        ("propose_solution", 2),
    ]
    read = api.get(f"/instances/{case.id}", "gm").json()["steps"]
    assert read == answered
    stamped = _seqs(case.id)
    assert all(created is not None for created, _ in stamped.values())
    with unit_of_work(write=False) as s:
        for task_id, (created, completed) in stamped.items():
            events = {
                e.type: e.seq
                for e in s.scalars(select(HistoryEvent).where(HistoryEvent.task_id == task_id))
            }
            assert (created, completed) == (
                events["task_created"],
                events.get("task_completed"),
            )
    config = alembic_config(db_url)
    try:
        command.downgrade(config, "0015")  # rows from before the seqs were kept on them
        command.upgrade(config, "head")  # filled from the history
    finally:
        command.upgrade(config, "head")
        dispose_engines()
    assert _seqs(case.id) == stamped
    with unit_of_work() as s:  # rows written without them (a bulk copy)
        s.execute(update(Task).values(created_seq=None, completed_seq=None))
    assert api.get(f"/instances/{case.id}", "gm").json()["steps"] == answered
