"""The inbox search by the rule of GET /customers?q= (engine/privacy.py phone_matches):
a phone only as the whole number or its last four digits, `%` and `_` plain — someone
who reads the number masked (138****8000) cannot recover it digit by digit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import event

from engine.db import get_engine
from tests.fixtures.api_client import Api
from tests.fixtures.shipped import Case, setup_shipped
from tests.fixtures.web_client import Browser

PHONE, MASKED = "13800138000", "138****8000"


@pytest.fixture
def outsider(db_url: str) -> Iterator[Browser]:
    """The property supervisor: sees every case in 全部, the phone masked."""
    api: Api = setup_shipped()
    for name, phone in (("张伟", PHONE), ("李_娜%", "13900139000")):
        Case(
            api,
            "cs1",
            "complaint_handling",
            {
                "customer_name": name,
                "phone": phone,
                "project": "滨江壹号",
                "unit": "3栋1502",
                "category": "other",
                "description": "门禁故障",
            },
        )
    browser = Browser()
    browser.sign_in("sup_property")
    yield browser
    browser.close()


def _found(browser: Browser, q: str) -> set[str]:
    r = browser.get("/inbox", params={"tab": "all", "q": q})
    assert r.status_code == 200, r.text
    if PHONE not in q:  # the page repeats what was typed
        assert PHONE not in r.text
    return {name for name in ("张伟", "李_娜%") if name in r.text}


def test_the_outsider_reads_the_phone_masked(outsider: Browser) -> None:
    page = outsider.get("/inbox?tab=all").text
    assert MASKED in page and PHONE not in page


@pytest.mark.parametrize("q", [PHONE, "138 0013 8000", "138-0013-8000", "+86" + PHONE, "8000"])
def test_the_whole_number_or_its_last_four_digits_find_the_case(outsider: Browser, q: str) -> None:
    assert _found(outsider, q) == {"张伟"}


def test_a_digit_by_digit_search_finds_nothing(outsider: Browser) -> None:
    # An attacker who sees 138****8000 tries the hidden digits one at a time.
    for n in range(4, len(PHONE)):
        assert _found(outsider, PHONE[:n]) == set(), PHONE[:n]
    for fragment in ("1380013", "38001380", "0138", "00138", "138%", "138_____8000"):
        assert _found(outsider, fragment) == set(), fragment


def test_wildcards_are_plain_characters(outsider: Browser) -> None:
    assert _found(outsider, "%") == {"李_娜%"}  # the one name holding a %
    assert _found(outsider, "_") == {"李_娜%"}
    assert _found(outsider, "李_") == {"李_娜%"}
    assert _found(outsider, "张%") == set()
    assert _found(outsider, "张") == {"张伟"}


def test_the_matching_cases_go_to_postgresql_as_one_array(db_url: str) -> None:
    # A search by four digits matches hundreds of cases at a million tasks: the count and
    # the page each carry them, as one array parameter (`= ANY`), not one per case.
    api: Api = setup_shipped()
    for n in range(12):
        Case(
            api,
            "cs1",
            "complaint_handling",
            {
                "customer_name": f"客户{n}",
                "phone": f"13900{n:02d}5678",
                "category": "other",
                "description": "门禁故障",
            },
        )
    browser = Browser()
    browser.sign_in("sup_property")
    sent: list[tuple[str, int]] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if "FROM task" in statement:
            sent.append((statement, len(parameters or ())))

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", record)
    try:
        page = browser.get("/inbox", params={"tab": "all", "q": "5678"}).text
    finally:
        event.remove(engine, "before_cursor_execute", record)
        browser.close()
    assert all(f"客户{n}" in page for n in range(12))
    searched = [(s, n) for s, n in sent if "count(*)" in s or "ORDER BY task.due_at" in s]
    as_array = [n for s, n in searched if "task.instance_id = ANY" in s]
    as_list = [n for s, n in searched if "task.instance_id IN (" in s]
    if engine.dialect.name == "postgresql":
        assert len(as_array) >= 2 and as_list == [], searched  # the count and the page
        assert max(as_array) < 12
    else:
        assert len(as_list) >= 2 and min(as_list) >= 12, searched
