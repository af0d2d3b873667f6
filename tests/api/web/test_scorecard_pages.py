"""The staff scorecards page over HTTP (both databases): a table per department with its
people and the department's total, in Chinese; staff see only their own card; the period
filter; a bad date and a reader without scorecards refused."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from engine import clock
from tests.crm.complaints import visited_complaint
from tests.fixtures.shipped import setup_shipped
from tests.fixtures.web_client import Browser, signed_in_browsers

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def open_browser(db_url: str) -> Iterator:  # type: ignore[type-arg]
    """Monday 2026-11-02: one quality complaint done on time, visited 5, answered 4."""
    api = setup_shipped()
    clock.set_global_time(datetime(2026, 11, 2, 10, tzinfo=SH))
    case = visited_complaint(api, category="quality", project="滨江壹号", scores=[5])
    link = api.post(f"/instances/{case.id}/survey", "cs1").json()["url"]
    assert api.client.post(link, data={"score": "4"}).status_code == 200
    clock.set_global_time(datetime(2026, 11, 20, 10, tzinfo=SH))
    with signed_in_browsers() as opener:
        yield opener


def _row(html: str, name: str, department: str = "") -> list[str]:
    """The cells of the table row that starts with `name` (in that department's table)."""
    if department:
        html = next(part for part in html.split("<section") if f"<h2>{department}</h2>" in part)
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S):
        cells = [
            re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        if cells and cells[0] == name:
            return cells
    raise AssertionError(f"no row {name}")


ENG1 = ["3", "100.0%", "0", "0", "0", "0", "5.00（1）", "4.00（1）"]


def _clean(html: str) -> None:
    for word in ("None", "True", "False", "escalated_level", "on_time_pct", "[", "{"):
        assert word not in re.sub(r"<[^>]+>", " ", html), word


def test_executive_sees_every_department_with_totals(open_browser) -> None:  # type: ignore[no-untyped-def]
    gm: Browser = open_browser("gm")
    r = gm.get("/reports/scorecards")  # this month so far: the 2nd is in it
    assert r.status_code == 200, r.text
    html = r.text
    assert "员工考核" in html and "部门合计" in html
    headings = re.findall(r"<h2>(.*?)</h2>", html)
    assert headings == ["销售部", "客服部", "物业部", "工程部", "成本合约部"]  # CONTRACT.md's order
    # eng1: site survey, proposal, fix, all on time; the visit 5 and the answer 4.
    assert _row(html, "eng1")[1:] == ENG1
    # cs1 acknowledged and approved; cs2 confirmed and visited: 4 in customer service.
    assert _row(html, "cs1")[1:3] == ["2", "100.0%"]
    assert _row(html, "sales1")[1:] == ["0", "—", "0", "0", "0", "0", "—", "—"]
    assert _row(html, "部门合计", "客服部")[1:3] == ["4", "100.0%"]
    assert _row(html, "部门合计", "工程部")[1:] == ENG1
    _clean(html)

    # A period without the case: nothing done.
    later = gm.get("/reports/scorecards?since=2026-11-03&until=2026-11-30&department=engineering")
    assert later.status_code == 200
    assert "<h2>客服部</h2>" not in later.text
    assert _row(later.text, "eng1")[1:] == ["0", "—", "0", "0", "0", "0", "—", "—"]
    assert 'value="2026-11-03"' in later.text

    gm.post("/language", data={"language": "en", "back": "/inbox"})
    english = gm.get("/reports/scorecards?since=2026-11-01&until=2026-11-30").text
    assert "Staff scorecards" in english and "Department total" in english
    assert _row(english, "eng1")[-2:] == ["5.00 (1)", "4.00 (1)"]


def test_staff_see_their_own_card_and_the_refusals(open_browser) -> None:  # type: ignore[no-untyped-def]
    cs1: Browser = open_browser("cs1")
    inbox = cs1.get("/inbox")
    assert 'href="/reports/scorecards"' in inbox.text  # the nav's link
    mine = cs1.get("/reports/scorecards?since=2026-11-01&until=2026-11-30")
    assert mine.status_code == 200
    assert "我的考核" in mine.text and "部门合计" not in mine.text
    assert _row(mine.text, "cs1")[1:3] == ["2", "100.0%"]
    assert "cs2" not in mine.text and "eng1" not in mine.text
    _clean(mine.text)
    assert cs1.get("/reports/scorecards?department=engineering").status_code == 403

    sup = open_browser("sup_engineering")
    theirs = sup.get("/reports/scorecards").text
    assert "<h2>工程部</h2>" in theirs and "<h2>客服部</h2>" not in theirs
    for bad in ("since=yesterday", "until=9999-12-31"):
        refused = sup.get(f"/reports/scorecards?{bad}")
        assert refused.status_code == 422 and "请填写日期" in refused.text, bad
    backwards = sup.get("/reports/scorecards?since=2026-11-05&until=2026-11-01")
    assert backwards.status_code == 422 and "结束时间必须晚于开始时间" in backwards.text

    auditor = open_browser("audit")
    assert auditor.get("/reports/scorecards").status_code == 403
    assert 'href="/reports/scorecards"' not in auditor.get("/audit").text
