"""What staff read in a real browser (Playwright, Debian's chromium, `flowdesk serve`):
the case page and the customer page of a complaint through survey, two departments'
proposals and approval show labels, option names, 是/否, department names and amounts
in yuan, never a variable name, a code, a boolean or a Python list. Screenshots
13-case-labels-zh and 13-customer-labels-zh go to test-artifacts/."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from engine import clock
from tests.api.web.test_page_labels import CASE_NUMBER, _complaint_through_approval, raw_tokens
from tests.fixtures.api_client import Api
from tests.fixtures.browser import pytestmark, shot, sign_in
from tests.fixtures.shipped import Case

__all__ = ["pytestmark"]  # the module's skip rule comes from the fixtures

SH = ZoneInfo("Asia/Shanghai")


def test_case_and_customer_pages_read_in_labels(server, browser) -> None:  # type: ignore[no-untyped-def]
    base, _ = server
    api = Api()
    clock.set_global_time(datetime(2026, 11, 23, 10, 0, tzinfo=SH))
    case = _complaint_through_approval(api)
    lead = Case(
        api,
        "sales1",
        "lead_follow_up",
        {
            "name": "张伟",
            "phone": "13800138000",
            "project": "云山府",
            "source": "referral",
            "referrer_phone": "13700137000",
        },
    )
    lead.do("assign_consultant", "sales1", {"consultant": "sales2"})
    lead.do("follow_up", "sales2", {"stage": "lost", "lost_reason": "price", "notes": "嫌贵"})
    clock.set_global_time(None)
    number = case.refresh()["business_key"]
    assert CASE_NUMBER.fullmatch(number)

    cs = sign_in(browser, base, "cs1")
    cs.goto(f"{base}/cases/{case.id}")
    cs.wait_for_selector("#diagram svg")
    text = cs.locator("main").inner_text()
    assert raw_tokens(text) == [], text
    assert number in text
    for label in (
        "责任部门",
        "工程部",
        "需现场勘查",
        "重新打开次数",
        "紧急",
        "热线电话",
        "工程部、物业部",
    ):
        assert label in text, label
    shot(cs, "13-case-labels-zh")

    cs.get_by_role("link", name=re.compile("客户")).first.click()
    cs.wait_for_url("**/customers/**")
    text = cs.locator("main").inner_text()
    assert raw_tokens(text) == [], text
    for words in (
        number,
        lead.refresh()["business_key"],
        "工程质量",
        "紧急",
        "处理中",
        "流失",
        "价格",
    ):
        assert words in text, words
    shot(cs, "13-customer-labels-zh")
    api.close()
