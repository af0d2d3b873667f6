"""Deploying and validating a DMN decision table through the API (both databases):
`POST /processes/validate` takes a .dmn by the rules of a deploy, its problems located
on the rule; a deployed table reaches new complaints (the calling process gets a new
version built with it), running ones keep theirs; nothing is deployed on a problem."""

from __future__ import annotations

from sqlalchemy import func, select

from engine.db import unit_of_work
from engine.definitions import deploy_folder
from engine.identity import SYSTEM
from engine.models import HistoryEvent, ProcessVersion
from tests.fixtures.factories import make_user
from tests.fixtures.shipped import PROCESSES, Case, setup_shipped
from tests.processes.test_complaint_handling import complaint

ROUTING = (PROCESSES / "complaint_routing.dmn").read_text(encoding="utf-8")
QUALITY_DEPT = '<outputEntry id="rule_quality_dept"><text>"engineering"</text>'
# Quality complaints go to property management instead of engineering.
REROUTED = ROUTING.replace(QUALITY_DEPT, QUALITY_DEPT.replace("engineering", "property"))
BROKEN = ROUTING.replace('<text>"quality"</text>', "<text>quality ==</text>")


def _counts() -> tuple[int, int]:
    with unit_of_work(write=False) as s:
        versions = s.execute(select(func.count()).select_from(ProcessVersion)).scalar_one()
        events = s.execute(select(func.count()).select_from(HistoryEvent)).scalar_one()
    return versions, events


def _upload(table: str) -> dict:
    return {"file": ("complaint_routing.dmn", table.encode("utf-8"), "text/xml")}


def _survey_department(api, case: Case) -> str:  # type: ignore[no-untyped-def]
    """Acknowledge the complaint; return the department its site survey went to."""
    case.do("acknowledge_complaint", "cs1", {"contacted": True})
    return case.task("site_survey")["department"]


def test_validating_a_dmn_locates_the_rule_and_writes_nothing(db_url: str) -> None:
    api = setup_shipped()
    make_user("root", "admin")
    before = _counts()
    r = api.post("/processes/validate", "dora", files=_upload(BROKEN))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ok"] is False
    assert [p["element_id"] for p in body["problems"]] == ["rule_quality"]
    assert body["problems"][0]["message"].startswith(
        "rule 1, input '投诉类别 / Category': the test is not valid: syntax error"
    )
    good = api.post("/processes/validate", "root", files=_upload(REROUTED))
    assert good.json() == {"ok": True, "problems": []}
    assert _counts() == before
    for user in ("cs1", "sup_customer_service", "gm", "audit"):
        assert api.post("/processes/validate", user, files=_upload(REROUTED)).status_code == 403


def test_a_refused_table_deploys_nothing(db_url: str) -> None:
    api = setup_shipped()
    before = _counts()
    r = api.deploy("dora", "complaint_routing.dmn", BROKEN.encode("utf-8"))
    assert r.status_code == 422, r.text
    assert [p["element_id"] for p in r.json()["detail"]] == ["rule_quality"]
    assert _counts() == before
    assert api.deploy("cs1", "complaint_routing.dmn", REROUTED.encode()).status_code == 403


def test_a_deployed_table_routes_new_complaints_and_running_ones_keep_theirs(
    db_url: str,
) -> None:
    api = setup_shipped()
    running = Case(api, "cs1", "complaint_handling", complaint("quality"))

    r = api.deploy("dora", "complaint_routing.dmn", REROUTED.encode("utf-8"))
    assert r.status_code == 201, r.text
    deployed = {p["key"]: (p["version"], p["created"]) for p in r.json()["processes"]}
    # the calling process, rebuilt with the new table, is a new version of the same file
    assert deployed == {"complaint_routing": (2, True), "complaint_handling": (2, True)}
    versions = api.get("/processes/complaint_handling/versions", "dora").json()
    assert versions[0]["content_hash"] == versions[1]["content_hash"]
    assert versions[1]["deployed_by"] == "dora"

    fresh = Case(api, "cs1", "complaint_handling", complaint("quality"))
    assert fresh.state["version"] == 2
    assert _survey_department(api, fresh) == "property"
    assert _survey_department(api, running) == "engineering"  # started on version 1

    # The same table again: nothing new, the calling process neither.
    again = api.deploy("dora", "complaint_routing.dmn", REROUTED.encode("utf-8"))
    assert again.status_code == 200, again.text
    assert not any(p["created"] for p in again.json()["processes"])
    with unit_of_work(write=False) as s:
        events = s.execute(
            select(HistoryEvent.process_key).where(HistoryEvent.type == "definition_deployed")
        ).scalars()
        assert sorted(events) == sorted(
            ["complaint_routing", "complaint_handling", "lead_follow_up"] * 1
            + ["complaint_routing", "complaint_handling"]
        )


def test_a_start_up_keeps_a_table_deployed_since(db_url: str) -> None:
    """`flowdesk serve` deploys the processes folder: a file deployed before and replaced
    since (the routing table changed in the browser) is not deployed over it."""
    api = setup_shipped()
    assert api.deploy("dora", "complaint_routing.dmn", REROUTED.encode()).status_code == 201
    before = _counts()
    with unit_of_work() as session:
        results = deploy_folder(session, folder=PROCESSES, actor=SYSTEM)
    assert {r.key: (r.version, r.created) for r in results} == {
        "complaint_routing": (2, False),
        "complaint_handling": (2, False),
        "lead_follow_up": (1, False),
    }
    assert _counts() == before
    fresh = Case(api, "cs1", "complaint_handling", complaint("quality"))
    assert _survey_department(api, fresh) == "property"


def test_the_same_diagram_under_another_name_is_unchanged(db_url: str) -> None:
    """The specs compared for "unchanged" hold the file's name; only what they call counts."""
    api = setup_shipped()
    content = (PROCESSES / "complaint_handling.bpmn").read_bytes()
    r = api.deploy("dora", "my_copy.bpmn", content)
    assert r.status_code == 200, r.text
    assert r.json()["processes"][0]["created"] is False
