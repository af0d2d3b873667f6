"""The staff scorecards page in a real browser (Playwright driving Debian's chromium
against `flowdesk serve`): the executive follows the nav's 考核 link, picks November and
reads each department's table with its total. Screenshots go to test-artifacts/."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from engine import clock
from tests.crm.complaints import visited_complaint
from tests.fixtures.api_client import Api
from tests.fixtures.browser import pytestmark, shot, sign_in

__all__ = ["pytestmark"]  # the module's skip rule comes from the fixtures


def test_executive_reads_the_scorecards_of_november(server, browser) -> None:  # type: ignore[no-untyped-def]
    base, _ = server
    api = Api()
    clock.set_global_time(datetime(2026, 11, 2, 10, tzinfo=ZoneInfo("Asia/Shanghai")))
    case = visited_complaint(api, category="quality", project="滨江壹号", scores=[5])
    link = api.post(f"/instances/{case.id}/survey", "cs1").json()["url"]
    assert api.client.post(link, data={"score": "4"}).status_code == 200

    page = sign_in(browser, base, "gm")
    page.get_by_role("link", name="考核").click()
    page.wait_for_url("**/reports/scorecards")
    page.get_by_label("开始日期").fill("2026-11-01")
    page.get_by_label("结束日期").fill("2026-11-30")
    page.get_by_role("button", name="查询").click()
    page.wait_for_url("**/reports/scorecards?since=2026-11-01&until=2026-11-30*")
    engineering = page.locator("section.scorecard", has=page.get_by_role("heading", name="工程部"))
    row = engineering.get_by_role("row", name="eng1")
    assert row.get_by_role("cell").all_inner_texts()[1:3] == ["3", "100.0%"]
    assert "5.00（1）" in row.inner_text() and "4.00（1）" in row.inner_text()
    assert "部门合计" in engineering.inner_text()
    shot(page, "scorecards_executive")
