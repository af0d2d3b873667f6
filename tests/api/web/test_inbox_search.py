"""The inbox search by the rule of GET /customers?q= (engine/privacy.py phone_matches):
a phone only as the whole number or its last four digits, `%` and `_` plain — someone
who reads the number masked (138****8000) cannot recover it digit by digit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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
