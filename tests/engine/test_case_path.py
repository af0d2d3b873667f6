"""engine/case_path.py: what of its diagram a complaint went through, read from its
workflow (gateways, script and rule tasks, events and the flows taken), and the case
page's diagram data built from it (both databases)."""

from __future__ import annotations

import json
import re

from engine.case_path import CasePath, case_path
from engine.db import unit_of_work
from engine.models import Instance
from tests.fixtures.shipped import Case, setup_shipped
from tests.fixtures.web_client import Browser
from tests.processes.test_complaint_handling import complaint

AUTOMATIC = {"start_complaint", "prepare_case", "route_complaint", "gw_needs_survey"}


def _path(case: Case) -> CasePath:
    with unit_of_work(write=False) as session:
        instance = session.get(Instance, case.id)
        assert instance is not None
        return case_path(session, instance)


def _surveyed_and_rejected_once(case: Case) -> None:
    case.do("acknowledge_complaint", "cs1", {"contacted": True})
    case.do("site_survey", "eng1", {"findings": "顶板渗水"})
    case.do("propose_solution", "eng1", {"solution": "更换防水层"})
    case.do("approve_solution", "cs1", {"approved": False, "comments": "请补充费用"})
    case.do("propose_solution", "eng1", {"solution": "更换防水层，费用3800元"})


def test_a_running_case_passed_its_automatic_steps_and_stands_at_its_open_task(
    db_url: str,
) -> None:
    case = Case(setup_shipped(), "cs1", "complaint_handling", complaint("quality"))
    path = _path(case)
    assert path.passed == ["prepare_case", "start_complaint"]
    assert path.flows == ["flow_prepared", "flow_start"]  # the flow into the open task too
    assert path.current == "acknowledge_complaint"

    _surveyed_and_rejected_once(case)
    path = _path(case)
    assert AUTOMATIC | {"site_survey", "gw_survey_done", "prepare_proposals", "gw_approved"} <= set(
        path.passed
    )
    assert "approve_solution" in path.passed  # once, in the rejected round
    assert {"flow_survey", "flow_rejected", "flow_reviewed"} <= set(path.flows)
    assert not {"flow_no_survey", "flow_approved", "end_closed"} & set(path.flows + path.passed)
    assert path.current == "approve_solution"  # the second round's review is open


def test_a_closed_case_passed_every_element_of_its_way_to_the_end_event(db_url: str) -> None:
    case = Case(setup_shipped(), "cs1", "complaint_handling", complaint("quality"))
    _surveyed_and_rejected_once(case)
    case.do("approve_solution", "cs1", {"approved": True})
    case.do("execute_fix", "eng1", {"work_done": "已更换防水层"})
    case.do("confirm_resolution", "cs2", {"resolved": True})
    assert case.do("return_visit", "cs2", {"satisfaction": 5})["status"] == "completed"

    path = _path(case)
    assert set(path.passed) == AUTOMATIC | {
        "acknowledge_complaint",
        "site_survey",
        "gw_survey_done",
        "prepare_proposals",
        "propose_solution",
        "approve_solution",
        "gw_approved",
        "execute_fix",
        "confirm_resolution",
        "gw_resolved",
        "return_visit",
        "gw_satisfied",
        "end_closed",
    }
    assert "reopen_case" not in path.passed
    assert {"flow_rejected", "flow_approved", "flow_resolved", "flow_satisfied"} <= set(path.flows)
    assert not {"flow_no_survey", "flow_not_resolved", "flow_unhappy", "flow_reopened"} & set(
        path.flows
    )
    assert path.current == "end_closed"

    # The case page hands the same to its diagram, as JSON data (not a script).
    browser = Browser()
    try:
        browser.sign_in("cs1")
        page = browser.get(f"/cases/{case.id}")
    finally:
        browser.close()
    assert page.status_code == 200
    found = re.search(
        r'<script id="case-diagram" type="application/json">(.*?)</script>', page.text, re.S
    )
    assert found is not None
    diagram = json.loads(found.group(1))
    assert diagram["done"] == path.passed and diagram["flows"] == path.flows
    assert (diagram["open"], diagram["breached"], diagram["focus"]) == ([], [], "end_closed")
