"""The sales funnel (`GET /reports/funnel`)."""

from __future__ import annotations

import pytest

from tests.crm.leads import assigned, visitor
from tests.fixtures.api_client import Api
from tests.fixtures.shipped import Case, setup_shipped


@pytest.fixture
def api(db_url: str) -> Api:
    return setup_shipped()


def test_funnel_counts_stages_conversion_and_lost_reasons(api: Api) -> None:
    a = assigned(api, consultant="sales2", phone="13900139001")
    a.do("follow_up", "sales2", {"stage": "prospect"})
    a.do("follow_up", "sales2", {"stage": "lost", "lost_reason": "price"})
    b = assigned(api, consultant="sales1", phone="13900139002")
    b.do("follow_up", "sales1", {"stage": "won"})
    b.do("sign_contract", "sales1", {"contract_no": "HT-2"})
    assigned(api, consultant="sales2", phone="13900139003", project="滨江壹号")
    Case(api, "sales1", "lead_follow_up", visitor(phone="13900139004"))

    funnel = api.get("/reports/funnel", "sup_sales").json()
    assert funnel["total"] == 4
    assert funnel["stages"] == {
        "visitor": 2,
        "prospect": 0,
        "near_close": 0,
        "won": 0,
        "owner": 1,
        "lost": 1,
    }
    assert funnel["reached"] == {"visitor": 4, "prospect": 2, "near_close": 1, "won": 1, "owner": 1}
    assert funnel["conversion"][0] == {
        "from": "visitor",
        "to": "prospect",
        "reached_from": 4,
        "reached_to": 2,
        "rate": 0.5,
    }
    assert funnel["lost_reasons"]["price"] == 1
    by_consultant = api.get("/reports/funnel", "gm", params={"consultant": "sales2"}).json()
    assert by_consultant["total"] == 2 and by_consultant["stages"]["lost"] == 1
    by_project = api.get("/reports/funnel", "gm", params={"project": "滨江壹号"}).json()
    assert by_project["total"] == 1
    assert api.get("/reports/funnel", "eng1").status_code == 403
