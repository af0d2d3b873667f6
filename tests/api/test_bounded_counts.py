"""Lists count their rows up to a bound and then say so (issue 18: a count must not read a
million index entries): `GET /tasks` and `GET /customers` answer `total` with
`total_exact`, the inbox shows "3+" with its Chinese explanation — never a wrong number."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from api.web import inbox
from engine import queries
from tests.fixtures.api_client import Api
from tests.fixtures.shipped import Case, setup_shipped
from tests.fixtures.web_client import Browser

COMPLAINT = {
    "category": "other",
    "description": "门禁故障",
    "project": "滨江壹号",
    "unit": "3栋1502",
}


@pytest.fixture
def api(db_url: str) -> Iterator[Api]:
    """Four complaint cases: four open tasks in customer service, four customers."""
    api = setup_shipped()
    for n in range(4):
        Case(
            api,
            "cs1",
            "complaint_handling",
            {**COMPLAINT, "customer_name": f"王{n}", "phone": f"1380013800{n}"},
        )
    yield api


def test_the_task_count_stops_at_the_bound_and_says_so(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    params = {"scope": "department", "limit": 2}
    exact = api.get("/tasks", "cs1", params=params).json()
    assert (exact["total"], exact["total_exact"], len(exact["items"])) == (4, True, 2)
    monkeypatch.setattr(queries, "COUNT_LIMIT", 3)
    page = api.get("/tasks", "cs1", params=params).json()
    assert (page["total"], page["total_exact"], len(page["items"])) == (3, False, 2)
    monkeypatch.setattr(queries, "COUNT_LIMIT", 4)  # exactly the bound: still exact
    page = api.get("/tasks", "cs1", params=params).json()
    assert (page["total"], page["total_exact"]) == (4, True)


def test_a_page_past_the_bound_is_counted_to_its_end(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queries, "COUNT_LIMIT", 1)
    params = {"scope": "department", "offset": 2, "limit": 1}
    page = api.get("/tasks", "cs1", params=params).json()
    assert (page["total"], page["total_exact"], len(page["items"])) == (3, False, 1)
    page = api.get("/tasks", "cs1", params={**params, "limit": 2}).json()
    assert (page["total"], page["total_exact"], len(page["items"])) == (4, True, 2)


def test_the_customer_count_stops_at_the_bound_and_says_so(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    params = {"q": "王", "limit": 1}
    found = api.get("/customers", "cs1", params=params).json()
    assert (found["total"], found["total_exact"]) == (4, True)
    monkeypatch.setattr(queries, "COUNT_LIMIT", 2)
    found = api.get("/customers", "cs1", params=params).json()
    assert (found["total"], found["total_exact"], len(found["items"])) == (2, False, 1)
    one = api.get("/customers", "cs1", params={"q": "38002"}).json()  # no such last four
    assert (one["total"], one["total_exact"]) == (0, True)
    one = api.get("/customers", "cs1", params={"q": "8002"}).json()
    assert (one["total"], one["total_exact"], [c["name"] for c in one["items"]]) == (
        1,
        True,
        ["王2"],
    )


def test_the_inbox_says_more_than_in_chinese_when_the_count_stops(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    browser = Browser()
    browser.sign_in("cs1")
    monkeypatch.setattr(inbox, "PAGE_SIZE", 1)
    monkeypatch.setattr(queries, "COUNT_LIMIT", 2)
    page = browser.get("/inbox?tab=department").text
    assert re.search(r'部门队列 <span class="count">2\+</span>', page), page
    assert 'title="超过 2 条，只数到 2 条"' in page
    assert "1 / 2+ (2+)" in page and "下一页" in page
    page = browser.get("/inbox?tab=department&page_no=4").text  # the last one
    assert "4 / 4 (4)" in page and "下一页" not in page
    monkeypatch.setattr(queries, "COUNT_LIMIT", 10)
    page = browser.get("/inbox?tab=department").text
    assert re.search(r'部门队列 <span class="count">4</span>', page), page
    assert "1 / 4 (4)" in page and "超过" not in page
    browser.close()


def test_a_page_of_every_state_is_the_same_order_as_one_sort(api: Api) -> None:
    # Two cases acknowledged: completed tasks beside the open ones, due times mixed.
    for case_id in [t["instance_id"] for t in api.tasks("cs1", scope="department")][:2]:
        [ack] = [t for t in api.tasks("cs1", scope="department") if t["instance_id"] == case_id]
        assert api.complete("cs1", ack["id"], {"contacted": True}).status_code == 200
    every = api.get("/tasks", "gm", params={"scope": "all", "state": "any", "limit": 500}).json()
    states = [t["state"] for t in every["items"]]
    assert sorted(set(states)) == ["completed", "open"] and every["total"] == len(states) == 6
    far = "9999-12-31T23:59:59+00:00"  # no due time: last
    keys = [(t["due_at"] or far, t["created_at"], t["id"]) for t in every["items"]]
    assert keys == sorted(keys)
    paged = [
        api.get(
            "/tasks", "gm", params={"scope": "all", "state": "any", "limit": 1, "offset": n}
        ).json()["items"][0]["id"]
        for n in range(6)
    ]
    assert paged == [t["id"] for t in every["items"]]
