"""The designer's heat map and version compare in a real browser (Debian's chromium):
on /designer/complaint_handling the heat map of version 1 colours and badges its tasks
from the cases on it (one acknowledged in time, one breached and still open), and
/designer/complaint_handling/compare shows version 1 beside a changed version 2 with
the renamed step, the changed SLA (a flowdesk extension property) and the moved step
marked and listed in Chinese — under the pages' CSP, no error."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from playwright.sync_api import Route

from engine import clock
from engine.rounds import run_round
from tests.fixtures.api_client import Api
from tests.fixtures.browser import pytestmark, shot, sign_in
from tests.fixtures.shipped import PROCESSES, Case
from tests.processes.test_complaint_handling import complaint

__all__ = ["pytestmark"]  # the module's skip rule comes from the fixtures

SH = ZoneInfo("Asia/Shanghai")
ACK = '#heatmap-canvas .djs-element[data-element-id="acknowledge_complaint"]'


def _version_two() -> bytes:
    """Version 1 with the return visit renamed, 4 working hours to acknowledge a normal
    complaint instead of 2, and the confirmation step moved down."""
    v1 = (PROCESSES / "complaint_handling.bpmn").read_text(encoding="utf-8")
    v2 = (
        v1.replace('name="回访">', 'name="电话回访">', 1)
        .replace(
            '<spiff:property name="sla_hours_normal" value="2" />',
            '<spiff:property name="sla_hours_normal" value="4" />',
            1,
        )
        .replace(
            'bpmnElement="confirm_resolution"><dc:Bounds x="1990" y="120"',
            'bpmnElement="confirm_resolution"><dc:Bounds x="1990" y="150"',
            1,
        )
    )
    assert v2.count("电话回访") == 1 and 'value="4"' in v2 and 'y="150"' in v2
    return v2.encode("utf-8")


def test_designer_reads_the_heat_map_and_compares_two_versions(server, browser) -> None:  # type: ignore[no-untyped-def]
    base, _ = server
    api = Api()
    clock.set_global_time(datetime(2026, 11, 23, 10, 0, tzinfo=SH))  # a Monday
    done, late = (Case(api, "cs1", "complaint_handling", complaint("quality")) for _ in "12")
    clock.set_global_time(datetime(2026, 11, 23, 10, 30, tzinfo=SH))
    done.do("acknowledge_complaint", "cs1", {"contacted": True})
    assert run_round(datetime(2026, 11, 23, 15, 0, tzinfo=SH)).breaches == 1  # due 12:00
    clock.set_global_time(None)
    deployed = api.deploy("dora", "complaint_handling.bpmn", _version_two())
    assert deployed.status_code == 201 and deployed.json()["version"] == 2, deployed.text

    page = sign_in(browser, base, "dora", height=900)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(base + "/designer/complaint_handling")
    page.wait_for_selector("#modeler[data-ready=true]")

    # The heat map opens on version 2; its figures are held back until the designer
    # has chosen version 1 and it is shown: the late answer must not replace it.
    held: list[Route] = []
    page.route("**/designer/complaint_handling/versions/2/stats", lambda route: held.append(route))
    page.get_by_role("button", name="热力图").click()
    assert page.locator("#modeler").is_hidden()
    loading = "document.getElementById('heatmap-summary').textContent === '正在读取统计…'"
    page.wait_for_function(loading)
    page.get_by_label("查看版本").select_option("1")
    page.wait_for_selector("#heatmap-canvas[data-ready=true][data-version='1']")
    assert len(held) == 1
    with page.expect_response("**/versions/2/stats"):
        held[0].continue_()
    page.wait_for_timeout(300)  # time for the late answer's handling, were it not dropped
    assert page.locator("#heatmap-canvas").get_attribute("data-version") == "1"
    summary = page.locator("#heatmap-summary").inner_text()
    assert summary == "第 1 版的案件：运行中 2 件，已完成 0 件，已取消 0 件", summary
    badges = page.locator('.fd-heat-badges[data-element-id="acknowledge_complaint"]')
    assert badges.inner_text().split("\n") == ["已办 1", "在办 1", "中位用时 30分", "超时 1（50%）"]
    page.wait_for_selector(f"{ACK}.fd-heat-2")  # half breached: the 20%–50% colour
    assert "超时 20%–50%" in page.locator("#heatmap-legend").inner_text()
    shot(page, "16-designer-heatmap-zh")
    page.get_by_label("着色依据").select_option("volume")
    page.wait_for_selector(f"{ACK}.fd-heat-3")  # the busiest step
    assert "办理量多" in page.locator("#heatmap-legend").inner_text()

    page.get_by_role("link", name="版本比较").click()
    page.wait_for_url("**/designer/complaint_handling/compare")
    page.wait_for_selector("#compare-changes[data-changes]")
    assert page.locator("#compare-summary").inner_text() == "共 3 处变更"
    rows = {
        r.get_attribute("data-element-id"): r.inner_text()
        for r in page.locator("#compare-changes tbody tr").all()
    }
    assert set(rows) == {"return_visit", "acknowledge_complaint", "confirm_resolution"}, rows
    assert rows["return_visit"].split("\t")[:2] == ["修改", "电话回访"]
    assert "名称：回访 → 电话回访" in rows["return_visit"]
    assert "时效：一般（工作小时）：2 → 4" in rows["acknowledge_complaint"]
    assert rows["confirm_resolution"].startswith("移动")
    new = '#compare-new .djs-element[data-element-id="{}"]'
    page.wait_for_selector(new.format("return_visit") + ".fd-changed")
    page.wait_for_selector(new.format("confirm_resolution") + ".fd-moved")
    shot(page, "16-designer-compare-zh")
    assert errors == []
