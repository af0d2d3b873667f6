"""`GET /reports/scorecards`: every figure worked out by hand on a known set of complaints
(done on time, breached, escalated to levels 2 and 3, scored by staff and by customers),
who may read whose card, and the refusals of bad parameters."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import select

from engine import clock
from engine.db import dispose_engines, unit_of_work
from engine.migrations import alembic_config
from engine.models import RatingCredit
from engine.rounds import run_round
from engine.scorecards import rebuild_credits
from tests.crm.complaints import complaint_data, visited_complaint
from tests.fixtures.api_client import Api
from tests.fixtures.factories import make_user
from tests.fixtures.shipped import STAFF, SUPERVISORS, Case, setup_shipped

SH = ZoneInfo("Asia/Shanghai")


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant of the week of Monday 2026-11-02, Asia/Shanghai."""
    when = datetime(2026, 11, day, hour, minute, tzinfo=SH)
    clock.set_global_time(when)
    return when


@pytest.fixture
def api(db_url: str) -> Api:
    """Monday 10:00: A (quality) done in one round, visit 5, the customer answers 4; B
    (other: customer service's own) visited 2, reopened and visited 4; C and D wait at
    the acknowledgement (due 12:00, 2 working hours). D breaches and cs1 acknowledges it
    at 13:00; C climbs to level 2 (Tuesday 12:00) and level 3 (Thursday 12:00) before
    cs2 acknowledges it; then B's customer answers 1."""
    api = setup_shipped()
    make_user("root", "admin")
    _at(2, 10)
    a = visited_complaint(api, category="quality", project="滨江壹号", scores=[5])
    b = visited_complaint(api, category="other", project="滨江壹号", scores=[2, 4])
    c = Case(api, "cs1", "complaint_handling", complaint_data("quality", "翠湖花园"))
    d = Case(api, "cs1", "complaint_handling", complaint_data("quality", "翠湖花园"))
    link_a = api.post(f"/instances/{a.id}/survey", "cs1").json()["url"]
    link_b = api.post(f"/instances/{b.id}/survey", "cs1").json()["url"]
    assert api.client.post(link_a, data={"score": "4"}).status_code == 200
    _at(2, 12, 30)
    run_round(clock.now())
    _at(2, 13)
    d.do("acknowledge_complaint", "cs1", {"contacted": True})
    _at(3, 12, 30)
    run_round(clock.now())
    _at(5, 12, 30)
    run_round(clock.now())
    assert c.task("acknowledge_complaint")["escalation_level"] == 3
    c.do("acknowledge_complaint", "cs2", {"contacted": True})
    assert api.client.post(link_b, data={"score": "1"}).status_code == 200
    return api


def _cards(api: Api, user: str = "gm", status: int = 200, **params: str) -> dict:
    r = api.get("/reports/scorecards", user, params=params)
    assert r.status_code == status, r.text
    return {item["key"]: item for item in r.json()["items"]} if status == 200 else r.json()


def _card(done, with_due, on_time, pct, breached, esc, l2, l3, rated, avg, answered, c_avg):  # type: ignore[no-untyped-def]
    return {
        "tasks_completed": done,
        "with_due": with_due,
        "on_time": on_time,
        "on_time_pct": pct,
        "breached": breached,
        "escalated": esc,
        "escalated_level_2": l2,
        "escalated_level_3": l3,
        "rated": rated,
        "average": avg,
        "customer_answered": answered,
        "customer_average": c_avg,
    }


ZERO = _card(0, 0, 0, None, 0, 0, 0, 0, 0, None, 0, None)
# By hand. cs1: A's acknowledgement and approval (2), B's acknowledgement and two rounds
# of proposal, approval and fix (7), D's late acknowledgement (1): 10 done, 9 on time,
# one breach (level 1). Worked A and B before their scores: visits 5, 2, 4 (11/3), the
# customers 4 and 1 (2.5).
CS1 = _card(10, 10, 9, 90.0, 1, 1, 0, 0, 3, 3.67, 2, 2.5)
# cs2: A's confirmation and visit (2), B's two confirmations and visits (4), C's
# acknowledgement after level 3 (1): 7 done, 6 on time; the same cases rated.
CS2 = _card(7, 7, 6, 85.7, 1, 1, 1, 1, 3, 3.67, 2, 2.5)
# eng1: A's survey, proposal and fix, on time; A's visit 5 and answer 4. C and D's site
# surveys are still open.
ENG1 = _card(3, 3, 3, 100.0, 0, 0, 0, 0, 1, 5.0, 1, 4.0)
# Customer service adds cs1 and cs2 (17 tasks, 15 on time), but counts each score once:
# A's and B's visits (5, 2, 4) and answers (4, 1), not twice.
CUSTOMER_SERVICE = _card(17, 17, 15, 88.2, 2, 2, 1, 1, 3, 3.67, 2, 2.5)


def _figures(card: dict) -> dict:
    return {k: v for k, v in card.items() if k not in ("key", "display_name", "department")}


def test_each_figure_per_person_and_department_and_the_period(api: Api) -> None:
    people = _cards(api, group_by="person")
    assert set(people) == set(STAFF) | set(SUPERVISORS)
    assert _figures(people["cs1"]) == CS1
    assert _figures(people["cs2"]) == CS2
    assert _figures(people["eng1"]) == ENG1
    assert people["eng1"]["department"] == "engineering"
    for name in ("prop1", "sales1", "sup_engineering"):
        assert _figures(people[name]) == ZERO, name

    departments = _cards(api, group_by="department")
    assert set(departments) == {
        "customer_service",
        "engineering",
        "property",
        "sales",
        "cost_contracts",
    }
    assert _figures(departments["customer_service"]) == CUSTOMER_SERVICE
    assert _figures(departments["engineering"]) == ENG1  # eng1 and a supervisor with none
    assert _figures(departments["sales"]) == ZERO

    # Monday only: C's acknowledgement (Thursday) and B's answer (Thursday) are later.
    monday = {"since": "2026-11-02T00:00:00+08:00", "until": "2026-11-03T00:00:00+08:00"}
    early = _cards(api, **monday)
    assert _figures(early["cs1"]) == _card(10, 10, 9, 90.0, 1, 1, 0, 0, 3, 3.67, 1, 4.0)
    assert _figures(early["cs2"]) == _card(6, 6, 6, 100.0, 0, 0, 0, 0, 3, 3.67, 1, 4.0)
    late = _cards(api, since="2026-11-03T00:00:00+08:00")
    assert _figures(late["cs1"]) == _card(0, 0, 0, None, 0, 0, 0, 0, 0, None, 1, 1.0)
    assert _figures(late["cs2"]) == _card(1, 1, 0, 0.0, 1, 1, 1, 1, 0, None, 1, 1.0)
    assert _figures(late["eng1"]) == ZERO  # B is not a case eng1 worked


def test_who_reads_whose_cards(api: Api) -> None:
    # Staff: their own card only.
    assert set(_cards(api, "cs1")) == {"cs1"}
    assert _figures(_cards(api, "cs1", username="cs1")["cs1"]) == CS1
    for params in (
        {"username": "cs2"},
        {"department": "customer_service"},
        {"group_by": "department"},
    ):
        assert _cards(api, "cs1", 403, **params)["detail"], params
    # Supervisors: their department.
    assert set(_cards(api, "sup_customer_service")) == {"cs1", "cs2", "sup_customer_service"}
    assert set(_cards(api, "sup_customer_service", group_by="department")) == {"customer_service"}
    assert set(_cards(api, "sup_engineering", username="eng1")) == {"eng1"}
    for params in ({"username": "eng1"}, {"department": "engineering"}):
        _cards(api, "sup_customer_service", 403, **params)
    # Executives and admins: everyone, or the department asked for.
    assert set(_cards(api, "gm", department="engineering")) == {"eng1", "sup_engineering"}
    assert _figures(_cards(api, "root", username="cs2")["cs2"]) == CS2
    for user in ("audit", "dora"):
        _cards(api, user, 403)
    assert api.get("/reports/scorecards", None).status_code == 401


def test_bad_parameters_name_their_field(db_url: str) -> None:
    api = setup_shipped()
    for params, field in (
        ({"group_by": "team"}, "group_by"),
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-13-01"}, "until"),
        ({"since": "2026-11-03T00:00:00+08:00", "until": "2026-11-01T00:00:00+08:00"}, "until"),
        ({"department": "marketing"}, "department"),
        ({"username": "nobody"}, "username"),
    ):
        r = api.get("/reports/scorecards", "gm", params=params)
        assert r.status_code == 422, params
        assert [p["field"] for p in r.json()["detail"]] == [field], r.text


def test_a_score_counts_for_those_who_had_worked_the_case_by_then(db_url: str) -> None:
    api = setup_shipped()
    _at(2, 10)
    # Visited 2 (reopened at the proposal): sales1 proposed and fixed before the visit.
    case = visited_complaint(api, category="sales_promise", project="滨江壹号", scores=[2])
    _at(2, 11)
    case.do("propose_solution", "sales2", {"solution": "补偿"})  # after the score
    cards = _cards(api, "sup_sales")
    assert (cards["sales1"]["rated"], cards["sales1"]["average"]) == (1, 2.0)
    assert (cards["sales2"]["tasks_completed"], cards["sales2"]["rated"]) == (1, 0)
    assert _cards(api, "sup_sales", group_by="department")["sales"]["rated"] == 1


def _credits() -> set[tuple]:
    with unit_of_work(write=False) as s:
        rows = s.execute(
            select(
                RatingCredit.username,
                RatingCredit.source,
                RatingCredit.ref,
                RatingCredit.instance_id,
                RatingCredit.at,
                RatingCredit.score,
            )
        )
        return {tuple(row) for row in rows}


def test_each_rating_is_credited_as_it_is_given_by_the_rule_the_migration_fills_in(
    api: Api, db_url: str
) -> None:
    """The credits the steps and the survey answers wrote are those of the rule (everyone
    who had completed a task of the case by then), as `rebuild_credits` derives them from
    the rating sources and as revision 0015 fills them in for an older database."""
    written = _credits()
    by_person: dict[tuple[str, str], list[int]] = {}
    for username, source, _ref, _case, _at, score in written:
        by_person.setdefault((username, source), []).append(score)
    assert sorted(by_person[("cs1", "staff")]) == [2, 4, 5]
    assert sorted(by_person[("cs1", "customer")]) == [1, 4]
    assert sorted(by_person[("eng1", "staff")]) == [5]  # A only: B is customer service's own
    assert ("cs2", "customer") in by_person and ("sup_cs", "staff") not in by_person
    with unit_of_work() as s:
        assert rebuild_credits(s) == len(written)
    assert _credits() == written
    config = alembic_config(db_url)
    try:
        command.downgrade(config, "0014")  # a database from before the credits
        command.upgrade(config, "head")  # filled from the tasks and survey answers
    finally:
        command.upgrade(config, "head")
        dispose_engines()  # pooled connections knew the old table
    assert _credits() == written
    assert _figures(_cards(api)["cs1"]) == CS1
