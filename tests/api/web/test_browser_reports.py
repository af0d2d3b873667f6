"""The report pages in a real browser (Playwright, Debian's chromium): a supervisor opens
/reports, ECharts draws every chart (as SVG) beside its table under the page's
Content-Security-Policy, the project filter narrows the figures, and the section's
Excel download opens in openpyxl with the figures the table shows."""

from __future__ import annotations

from openpyxl import load_workbook

from tests.api.web.test_browser_csp import _violations, _watch
from tests.crm.complaints import visited_complaint
from tests.crm.leads import assigned
from tests.fixtures.api_client import Api
from tests.fixtures.browser import pytestmark, shot, sign_in

__all__ = ["pytestmark"]  # the module's skip rule comes from the fixtures


def test_supervisor_reads_charts_filters_and_downloads_excel(server, browser) -> None:  # type: ignore[no-untyped-def]
    base, _ = server
    api = Api()
    visited_complaint(api, category="quality", project="滨江壹号", scores=[5])
    visited_complaint(api, category="facilities", project="翠湖花园", scores=[2, 4])
    lost = assigned(api, consultant="sales2", phone="13900139001")
    lost.do("follow_up", "sales2", {"stage": "lost", "lost_reason": "price"})
    assigned(api, consultant="sales1", phone="13900139002", project="滨江壹号")

    sup = sign_in(browser, base, "sup_customer_service")
    said = _watch(sup)
    sup.get_by_role("link", name="报表").click()
    sup.wait_for_url("**/reports")
    charts = sup.locator(".report-chart")
    sup.wait_for_function(
        "[...document.querySelectorAll('.report-chart')].every(c => c.querySelector('svg, canvas'))"
    )
    assert charts.count() >= 8
    assert sup.locator(".report-chart svg").count() == charts.count()
    assert "滨江壹号" in sup.locator("#section-complaints").inner_text()
    assert "工程质量" in sup.locator("#section-complaints").inner_text()
    shot(sup, "15-reports-zh")

    sup.get_by_label("项目", exact=True).select_option("翠湖花园")
    sup.get_by_role("button", name="筛选").click()
    sup.wait_for_url("**/reports?**")
    complaints = sup.locator("#section-complaints")
    assert "1 件投诉，其中 1 件被重新打开（重开率 100%）" in complaints.inner_text()
    assert "滨江壹号" not in complaints.inner_text()
    sup.wait_for_function(
        "[...document.querySelectorAll('.report-chart')].every(c => c.querySelector('svg'))"
    )
    shot(sup, "15-reports-project-zh")

    with sup.expect_download() as download:
        complaints.get_by_role("link", name="导出 Excel").click()
    assert download.value.suggested_filename == "report-complaints.xlsx"
    with open(download.value.path(), "rb") as saved:
        book = load_workbook(saved)
    rows = [[c.value for c in row] for row in book["2 按项目"].iter_rows()]
    assert rows == [
        ["项目", "投诉数", "已结案", "重新打开", "重开率 %"],
        ["翠湖花园", 1, 1, 1, 100],
    ]
    assert _violations(sup, said) == []
