"""`GET /reports/satisfaction` (CONTRACT.md): each figure computed by hand on a known set
of complaints with known return-visit scores, a reopen and the customers' own answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine import clock
from tests.crm.complaints import visited_complaint
from tests.fixtures.api_client import Api
from tests.fixtures.factories import make_user
from tests.fixtures.shipped import setup_shipped

T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # a Monday, 10:00 in Shanghai


@pytest.fixture
def api(db_url: str) -> Api:
    api = setup_shipped()
    make_user("root", "admin")
    clock.set_global_time(T0)
    # (category, project, return-visit scores, the customer's own answer)
    known = {
        "A": ("quality", "滨江壹号", [5], 4),
        "B": ("quality", "滨江壹号", [2, 4], 5),  # reopened once
        "C": ("facilities", "翠湖花园", [3], 1),
        "D": ("other", "翠湖花园", [1, 5], None),  # reopened; link made, never answered
    }
    for category, project, scores, answer in known.values():
        case = visited_complaint(api, category=category, project=project, scores=scores)
        link = api.post(f"/instances/{case.id}/survey", "cs1").json()["url"]
        if answer is not None:
            answered = api.client.post(link, data={"score": str(answer)})
            assert answered.status_code == 200, answered.text
    clock.set_global_time(T0 + timedelta(days=2))
    # E: registered two days later, no project, not visited yet
    visited_complaint(api, category="contract", project=None, scores=[])
    return api


def _items(api: Api, user: str = "gm", **params: str) -> dict:
    r = api.get("/reports/satisfaction", user, params=params)
    assert r.status_code == 200, r.text
    return {item["key"]: item for item in r.json()["items"]}


def _row(returned, average, low, reopened, answered, customer_average) -> dict:  # type: ignore[no-untyped-def]
    return {
        "returned": returned,
        "average": average,
        "low": low,
        "reopened": reopened,
        "customer_answered": answered,
        "customer_average": customer_average,
    }


# By hand: 滨江壹号 has A (5) and B (2, then 4): 3 visits, 11/3, one low, B reopened,
# answers 4 and 5. 翠湖花园 has C (3) and D (1, then 5): 3 visits, 9/3, one low, D
# reopened, C's answer 1. E has no project and nothing yet.
BY_PROJECT = {
    "滨江壹号": _row(3, 11 / 3, 1, 1, 2, 4.5),
    "翠湖花园": _row(3, 3.0, 1, 1, 1, 1.0),
    None: _row(0, None, 0, 0, 0, None),
}
BY_CATEGORY = {
    "quality": _row(3, 11 / 3, 1, 1, 2, 4.5),
    "facilities": _row(1, 3.0, 0, 0, 1, 1.0),
    "other": _row(2, 3.0, 1, 1, 0, None),
    "contract": _row(0, None, 0, 0, 0, None),
}
# The responsible department of each category (CONTRACT.md).
BY_DEPARTMENT = {
    "engineering": BY_CATEGORY["quality"],
    "property": BY_CATEGORY["facilities"],
    "customer_service": BY_CATEGORY["other"],
    "cost_contracts": BY_CATEGORY["contract"],
}


def _without_keys(items: dict) -> dict:
    return {key: {k: v for k, v in item.items() if k != "key"} for key, item in items.items()}


def test_each_figure_by_project_category_and_department_and_the_period(api: Api) -> None:
    # One set of cases for every grouping: building it is the slow part.
    for group_by, expected in (
        ("project", BY_PROJECT),
        ("category", BY_CATEGORY),
        ("department", BY_DEPARTMENT),
    ):
        got = _without_keys(_items(api, group_by=group_by))
        assert set(got) == set(expected), group_by
        for key, row in expected.items():
            assert got[key] == pytest.approx(row), (group_by, key)

    # The period selects the complaints registered in it.
    day = (T0 + timedelta(days=1)).isoformat()
    assert set(_items(api, group_by="project", since=day)) == {None}
    before = _items(api, group_by="project", until=day)
    assert set(before) == {"滨江壹号", "翠湖花园"}
    assert before["滨江壹号"]["returned"] == 3


def test_who_reads_it_and_bad_parameters(api: Api) -> None:
    for user in ("sup_engineering", "sup_customer_service", "gm", "root"):
        assert set(_items(api, user, group_by="department")) == set(BY_DEPARTMENT), user
    for user in ("cs1", "eng1", "dora"):
        assert api.get("/reports/satisfaction", user).status_code == 403, user
    assert api.get("/reports/satisfaction", None).status_code == 401
    for params, field in (
        ({"group_by": "consultant"}, "group_by"),
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-13-01"}, "until"),
        ({"since": "2026-11-03T00:00:00+08:00", "until": "2026-11-01T00:00:00+08:00"}, "until"),
    ):
        r = api.get("/reports/satisfaction", "gm", params=params)
        assert r.status_code == 422, params
        assert [p["field"] for p in r.json()["detail"]] == [field], r.text
