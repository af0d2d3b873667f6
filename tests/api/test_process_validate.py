"""`POST /processes/validate` (CONTRACT.md "Designers"): the checks of a deploy, located
on the element, with nothing written; designers and admins only."""

from __future__ import annotations

from sqlalchemy import func, select

from engine.db import unit_of_work
from engine.models import HistoryEvent, ProcessVersion
from tests.fixtures.factories import make_user
from tests.fixtures.shipped import PROCESSES, setup_shipped

COMPLAINT = (PROCESSES / "complaint_handling.bpmn").read_bytes()


def _counts() -> tuple[int, int]:
    with unit_of_work(write=False) as s:
        versions = s.execute(select(func.count()).select_from(ProcessVersion)).scalar_one()
        events = s.execute(select(func.count()).select_from(HistoryEvent)).scalar_one()
    return versions, events


def _validate(api, user: str, content: bytes, filename: str = "complaint_handling.bpmn"):  # type: ignore[no-untyped-def]
    return api.post("/processes/validate", user, files={"file": (filename, content, "text/xml")})


def test_a_lane_naming_no_department_is_a_located_problem_and_nothing_is_written(
    db_url: str,
) -> None:
    api = setup_shipped()
    make_user("root", "admin")
    before = _counts()
    broken = COMPLAINT.replace('name="工程部"'.encode(), 'name="维修组"'.encode())
    r = _validate(api, "dora", broken)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ok"] is False
    lane = [p for p in body["problems"] if p["element_id"] == "lane_engineering"]
    assert lane and lane[0]["element_name"] == "维修组"
    # the API speaks English, as its deploy and the command line do
    assert lane[0]["message"].startswith("the lane '维修组' does not name a department; use sales")
    assert set(body["problems"][0]) == {"element_id", "element_name", "message"}
    assert _counts() == before  # no version, no event

    good = _validate(api, "root", COMPLAINT)
    assert good.status_code == 200 and good.json() == {"ok": True, "problems": []}
    assert _counts() == before


def test_only_designers_and_admins_validate(db_url: str) -> None:
    api = setup_shipped()
    for user in ("cs1", "sup_customer_service", "gm", "audit"):
        r = _validate(api, user, COMPLAINT)
        assert r.status_code == 403, (user, r.text)
    assert (
        api.client.post(
            "/api/v1/processes/validate", files={"file": ("x.bpmn", COMPLAINT, "text/xml")}
        ).status_code
        == 401
    )


def test_bad_input_is_a_problem_not_a_500(db_url: str) -> None:
    api = setup_shipped()
    r = _validate(api, "dora", b"<not-xml", "x.bpmn")
    assert r.status_code == 200 and r.json()["ok"] is False and r.json()["problems"]
    missing = api.post("/processes/validate", "dora")
    assert missing.status_code == 422 and missing.json()["detail"][0]["field"] == "file"
