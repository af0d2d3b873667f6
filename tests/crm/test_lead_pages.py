"""The 登记来访 page and the lead rule (both databases): the phone look-up names the
running leads and their consultants before anything is submitted, the page's check
answers per project, and a submit made anyway is refused with the same words."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from engine.db import unit_of_work
from engine.models import HistoryEvent, Instance
from tests.crm.leads import assigned, sales_staff
from tests.fixtures.api_client import Api
from tests.fixtures.shipped import setup_shipped
from tests.fixtures.web_client import Browser


@pytest.fixture
def api(db_url: str) -> Api:
    return setup_shipped()


@pytest.fixture
def browser_of() -> Iterator:  # type: ignore[type-arg]
    opened: list[Browser] = []

    def open_as(user: str) -> Browser:
        b = Browser()
        b.sign_in(user)
        opened.append(b)
        return b

    yield open_as
    for b in opened:
        b.close()


def _written() -> tuple[int, int]:
    with unit_of_work(write=False) as s:
        return (
            s.execute(select(func.count()).select_from(Instance)).scalar_one(),
            s.execute(select(func.count()).select_from(HistoryEvent)).scalar_one(),
        )


def test_phone_lookup_warns_of_the_running_lead_and_submit_is_refused(api: Api, browser_of) -> None:  # type: ignore[no-untyped-def]
    sales_staff("sales_zhou", "周杰")
    first = assigned(api, consultant="sales_zhou", phone="13900139000", project="云山府")
    b = browser_of("sales1")
    page = b.get("/start/lead_follow_up?phone=139 0013 9000")
    assert page.status_code == 200
    assert "该客户已有跟进中的线索" in page.text
    assert "云山府" in page.text and "置业顾问：周杰" in page.text
    assert f'href="/cases/{first.id}"' in page.text
    assert "/static/crm/lead-duplicate.js" in page.text
    assert 'data-duplicate-check="/start/lead_follow_up/running"' in page.text
    # the page's live check, per project
    same = b.get("/start/lead_follow_up/running?phone=13900139000&project=云山府").json()
    assert same["instance_id"] == first.id and same["consultant"] == "sales_zhou"
    assert "周杰" in same["message"] and "云山府" in same["message"]
    other = b.get("/start/lead_follow_up/running?phone=13900139000&project=滨江壹号").json()
    assert other == {"message": None, "instance_id": None, "consultant": None}
    script = b.get("/static/crm/lead-duplicate.js")
    assert script.status_code == 200 and "data-duplicate-check" in script.text
    # submitted anyway: refused with the same words, the form kept, nothing written
    before = _written()
    b.get("/start/lead_follow_up")
    refused = b.post(
        "/start/lead_follow_up",
        {"name": "李娜", "phone": "13900139000", "project": "云山府", "source": "walk_in"},
    )
    assert refused.status_code == 409
    assert "置业顾问：周杰" in refused.text and 'value="云山府"' in refused.text
    assert _written() == before
    # another project registers normally
    b.get("/start/lead_follow_up")
    ok = b.post(
        "/start/lead_follow_up",
        {"name": "李娜", "phone": "13900139000", "project": "滨江壹号", "source": "walk_in"},
    )
    assert ok.status_code == 303, ok.text


def test_the_check_is_for_those_who_start_cases(api: Api, browser_of) -> None:  # type: ignore[no-untyped-def]
    assigned(api, phone="13900139000")
    assert (
        browser_of("audit")
        .get("/start/lead_follow_up/running?phone=13900139000&project=云山府")
        .status_code
        == 403
    )
    anonymous = Browser()
    try:
        r = anonymous.get("/start/lead_follow_up/running?phone=13900139000&project=云山府")
        assert r.status_code == 303
    finally:
        anonymous.close()


def test_case_history_says_the_lead_moved_with_the_reassigned_follow_up(
    api: Api, browser_of
) -> None:  # type: ignore[no-untyped-def]
    sales_staff("sales_zhou", "周杰")
    case = assigned(api, consultant="sales2")
    follow = case.task("follow_up")
    r = api.post(f"/tasks/{follow['id']}/assign", "sup_sales", json={"username": "sales_zhou"})
    assert r.status_code == 200, r.text
    supervisor = browser_of("sup_sales")
    assert "把 跟进 转派给 周杰，置业顾问改为 周杰" in supervisor.get(f"/cases/{case.id}").text
    supervisor.post("/language", {"language": "en", "back": "/inbox"})
    assert "; Consultant now 周杰" in supervisor.get(f"/cases/{case.id}").text
