"""Customer records across leads and complaints (`GET /customers`, `GET /customers/{id}`)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crm.models import Customer
from engine.db import unit_of_work
from tests.crm.leads import assigned, visitor
from tests.fixtures.api_client import Api
from tests.fixtures.shipped import Case, setup_shipped


@pytest.fixture
def api(db_url: str) -> Api:
    return setup_shipped()


def test_customer_is_one_record_across_leads_and_complaints(api: Api) -> None:
    assigned(api, phone="13900139000")
    Case(api, "sales1", "lead_follow_up", visitor(phone="139 0013 9000", project="滨江壹号"))
    Case(
        api,
        "cs1",
        "complaint_handling",
        {
            "customer_name": "李娜",
            "phone": "+8613900139000",
            "category": "other",
            "description": "样板间与交付不符",
            "project": "云山府",
        },
    )
    Case(api, "sales1", "lead_follow_up", visitor(phone="13600136000"))
    everyone = api.get("/customers", "gm").json()
    assert everyone["total"] == 2
    [li] = api.get("/customers", "gm", params={"q": "9000"}).json()["items"]
    record = api.get(f"/customers/{li['id']}", "gm").json()
    assert sorted(lead["project"] for lead in record["leads"]) == ["云山府", "滨江壹号"]
    assert [c["category"] for c in record["complaints"]] == ["other"]
    by_project = api.get("/customers", "gm", params={"project": "滨江壹号"}).json()
    assert [c["id"] for c in by_project["items"]] == [li["id"]]
    # phones are masked for people not working the customer's cases
    assert api.get("/customers", "eng1", params={"q": "李"}).json()["items"][0]["phone"] == (
        "139****9000"
    )
    assert api.get("/customers", "sales2", params={"q": "李"}).json()["items"][0]["phone"] == (
        "13900139000"
    )
    assert api.get(f"/customers/{li['id']}", "prop1").json()["phone"] == "139****9000"
    assert api.get("/customers", "dora").status_code == 403
    assert api.get("/customers/999", "gm").status_code == 404


def test_a_name_fragment_pages_its_matches_in_name_order(api: Api) -> None:
    """The matches of a fragment come in name order, page after page, wherever in the
    name order they cluster (read by the name's trigrams, then sorted)."""
    at = datetime(2026, 11, 2, tzinfo=UTC)
    with unit_of_work() as s:
        for i in range(60):
            name = f"客户{i:02d}" if i % 3 else f"王{i:02d}号"  # a cluster among others
            s.add(Customer(name=name, phone=f"1391000{i:04d}", created_at=at, updated_at=at))
    first = api.get("/customers", "gm", params={"q": "王", "limit": 15}).json()
    second = api.get("/customers", "gm", params={"q": "王", "limit": 15, "offset": 15}).json()
    names = [c["name"] for c in first["items"] + second["items"]]
    assert names == sorted(f"王{i:02d}号" for i in range(0, 60, 3))
    assert first["total"] == 20
    assert api.get("/customers", "gm", params={"q": "客户5"}).json()["total"] == 7
