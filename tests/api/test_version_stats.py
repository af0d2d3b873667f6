"""`GET /processes/{key}/versions/{n}/stats` (CONTRACT.md "Designers"): the heat map's
figures of one version, each worked out by hand below from a known set of cases on two
versions of a two-step process (1 working hour for the intake, 4 for the review)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from engine import clock
from engine.rounds import run_round
from tests.fixtures.api_client import Api
from tests.fixtures.factories import FIXTURES, make_user

SH = ZoneInfo("Asia/Shanghai")
TWO_LANE = (FIXTURES / "processes" / "two_lane.bpmn").read_bytes()


def _with_sla(intake_hours: int) -> bytes:
    """The two-lane fixture with an SLA on both of its user tasks."""

    def sla(hours: int) -> bytes:
        return (
            f'<bpmn:extensionElements><spiff:properties><spiff:property name="sla_hours" '
            f'value="{hours}" /></spiff:properties></bpmn:extensionElements>'
        ).encode()

    return (
        TWO_LANE.replace(
            b'xmlns:di="http://www.omg.org/spec/DD/20100524/DI"',
            b'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" '
            b'xmlns:spiff="http://spiffworkflow.org/bpmn/schema/1.0/core"',
        )
        .replace(b'name="Intake">', b'name="Intake">' + sla(intake_hours))
        .replace(b'name="Review">', b'name="Review">' + sla(4))
    )


def _at(text: str) -> None:
    clock.set_global_time(datetime.fromisoformat(f"2026-11-23T{text}").replace(tzinfo=SH))


def _open_task(api: Api, instance_id: str, element_id: str) -> str:
    open_tasks = api.get(f"/instances/{instance_id}", "gm").json()["open_tasks"]
    return next(t["id"] for t in open_tasks if t["element_id"] == element_id)


def _complete(api: Api, user: str, instance_id: str, element_id: str, **variables: object) -> None:
    r = api.complete(user, _open_task(api, instance_id, element_id), variables)
    assert r.status_code == 200, r.text


@pytest.fixture
def api(db_url: str) -> Api:
    make_user("dora", "designer")
    make_user("root", "admin")
    make_user("cs1", "staff", department="customer_service")
    make_user("eng1", "staff", department="engineering")
    make_user("sup", "supervisor", department="customer_service")
    make_user("gm", "executive")
    make_user("audit", "auditor")
    return Api()


def _cases_on_two_versions(api: Api) -> dict[str, str]:
    """Monday 2026-11-23 (Asia/Shanghai), version 1 (intake 1 working hour):
    A done through both steps, B breached at intake then done (now at review),
    C breached and still at intake, D cancelled at intake; then version 2 (intake 2
    hours) with E at intake."""
    _at("10:00")
    assert api.deploy("dora", "two_lane.bpmn", _with_sla(1)).status_code == 201
    ids = {}
    for name in "ABCD":
        r = api.start("cs1", "two_lane")
        assert r.status_code == 201, r.text
        ids[name] = r.json()["id"]
    _at("10:15")
    r = api.post(f"/instances/{ids['D']}/cancel", "sup", json={"reason": "重复登记"})
    assert r.status_code == 200, r.text
    _at("10:30")
    _complete(api, "cs1", ids["A"], "intake")  # 30 working minutes
    _at("10:45")
    _complete(api, "eng1", ids["A"], "review", approved=True)  # 15 working minutes
    _at("11:30")
    assert run_round(clock.now()).breaches == 2  # B and C, due 11:00
    _at("12:30")
    _complete(api, "cs1", ids["B"], "intake")  # 10:00-12:00: lunch does not count
    assert api.deploy("dora", "two_lane.bpmn", _with_sla(2)).json()["version"] == 2
    _at("13:00")
    ids["E"] = api.start("cs1", "two_lane").json()["id"]
    assert api.get(f"/instances/{ids['E']}", "gm").json()["version"] == 2
    return ids


def test_each_figure_of_a_version_counts_its_own_cases(api: Api) -> None:
    _cases_on_two_versions(api)

    one = api.get("/processes/two_lane/versions/1/stats", "dora")
    assert one.status_code == 200, one.text
    assert one.json() == {
        "key": "two_lane",
        "version": 1,
        "instances": {"running": 2, "completed": 1, "cancelled": 1},  # B C · A · D
        "elements": [
            {
                "element_id": "intake",
                "completed": 2,  # A, B
                "open": 1,  # C (D's was cancelled: not counted)
                "median_working_seconds": 4500,  # median of 1800 (A) and 7200 (B)
                "breached": 2,  # B, C
                "breached_share": 0.6667,  # 2 of 3
            },
            {
                "element_id": "review",
                "completed": 1,  # A
                "open": 1,  # B
                "median_working_seconds": 900,
                "breached": 0,
                "breached_share": 0.0,
            },
        ],
    }

    two = api.get("/processes/two_lane/versions/2/stats", "gm").json()
    assert two["instances"] == {"running": 1, "completed": 0, "cancelled": 0}  # E
    assert two["elements"] == [
        {
            "element_id": "intake",
            "completed": 0,
            "open": 1,
            "median_working_seconds": None,
            "breached": 0,
            "breached_share": 0.0,
        },
        {
            "element_id": "review",
            "completed": 0,
            "open": 0,
            "median_working_seconds": None,
            "breached": 0,
            "breached_share": None,
        },
    ]


def test_who_reads_the_figures_and_what_is_not_found(api: Api) -> None:
    _at("10:00")
    assert api.deploy("dora", "two_lane.bpmn", _with_sla(1)).status_code == 201
    path = "/processes/two_lane/versions/1/stats"
    for user in ("dora", "root", "sup", "gm", "audit"):
        assert api.get(path, user).status_code == 200, user
    refused = api.get(path, "cs1")
    assert refused.status_code == 403
    assert "designers, supervisors, executives, auditors and admins" in refused.text
    assert api.client.get(f"/api/v1{path}").status_code == 401
    for missing in ("/processes/nothing/versions/1/stats", "/processes/two_lane/versions/2/stats"):
        r = api.get(missing, "dora")
        assert r.status_code == 404, r.text
    assert api.get("/processes/two_lane/versions/99999999999999/stats", "dora").status_code == 404
    assert api.get("/processes/two_lane/versions/one/stats", "dora").status_code == 422
