"""The designer's workbench in a real browser (Debian's chromium): /designer lists the
processes, /designer/complaint_handling opens bpmn-js's Modeler with its palette and
flowdesk's properties panel; breaking a lane's department marks the lane and lists
the problem (clicking it selects the lane), fixing it clears the mark, an SLA changed
in the panel survives a reload as the browser's draft, and deploying makes version 2,
with every spiff extension of the file kept — under the pages' CSP, no violation."""

from __future__ import annotations

from engine.db import unit_of_work
from engine.definitions import get_version
from tests.fixtures.api_client import Api
from tests.fixtures.browser import pytestmark, shot, sign_in
from tests.fixtures.shipped import PROCESSES, Case
from tests.processes.test_complaint_handling import complaint

__all__ = ["pytestmark"]  # the module's skip rule comes from the fixtures

LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sourceFile);
});
"""
LANE = '#modeler .djs-element[data-element-id="lane_engineering"]'
TASK = '#modeler .djs-element[data-element-id="acknowledge_complaint"]'


def _checked(page, after: int) -> None:  # type: ignore[no-untyped-def]
    """Wait for the server's check that follows a change."""
    # (a selector, not a function: the page's CSP allows no eval, Playwright's included)
    page.wait_for_selector(f"#modeler[data-checks]:not([data-checks='{after}'])")


def _checks(page) -> int:  # type: ignore[no-untyped-def]
    return int(page.locator("#modeler").get_attribute("data-checks") or 0)


def _click_lane(page) -> None:  # type: ignore[no-untyped-def]
    """Select the lane by clicking its header (the band with its name, at its left)."""
    box = page.locator(LANE).bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 12, box["y"] + box["height"] / 2)


def test_designer_models_breaks_fixes_and_deploys(server, browser) -> None:  # type: ignore[no-untyped-def]
    base, _ = server
    Case(Api(), "cs1", "complaint_handling", complaint("quality"))
    page = sign_in(browser, base, "dora", height=900)
    said: list[str] = []
    page.on(
        "console", lambda m: said.append(m.text) if "Content Security Policy" in m.text else None
    )
    page.on("pageerror", lambda exc: said.append(str(exc)))
    page.context.add_init_script(LISTEN)

    page.get_by_role("link", name="流程设计").click()
    page.wait_for_url("**/designer")
    first = page.locator('#process-complaint_handling tr[data-version="1"] td')
    assert first.nth(0).inner_text().startswith("第 1 版")
    assert [first.nth(n).inner_text() for n in (3, 6)] == ["1", "1"]  # running, open tasks
    shot(page, "16-designer-processes-zh")

    page.locator("#process-complaint_handling").get_by_role("link", name="打开流程设计器").click()
    page.wait_for_url("**/designer/complaint_handling")
    page.wait_for_selector("#modeler[data-ready=true]")
    _checked(page, 0)
    assert page.locator(".djs-palette .entry").count() >= 8  # the Modeler's palette
    assert page.locator('.djs-palette [aria-label="任务"]').count() == 1
    assert page.locator("#designer-status").inner_text() == "检查通过，可以部署"
    assert page.locator(".fd-problem").count() == 0

    # The lane's department: the generic name field of the panel, then flowdesk's choice.
    _click_lane(page)
    page.locator(
        "#properties .bio-properties-panel-group-header", has_text="flowdesk 属性"
    ).wait_for()
    department = page.get_by_label("泳道所属部门")
    assert department.input_value() == "engineering"
    before = _checks(page)
    name = page.locator("#properties").get_by_label("名称", exact=True)
    name.fill("维修组")
    _checked(page, before)
    page.wait_for_selector(f"{LANE}.fd-problem")
    problems = page.locator("#problems li")
    assert problems.first.inner_text().startswith("维修组：泳道名称“维修组”不是部门")
    assert page.locator("#designer-status").inner_text().startswith("发现")
    assert department.input_value() == ""
    shot(page, "16-designer-lane-problem-zh")

    page.locator("#modeler svg").first.click(position={"x": 5, "y": 5})  # select nothing
    problems.get_by_role("button").first.click()
    page.wait_for_selector(f"{LANE}.selected")

    before = _checks(page)
    page.get_by_label("泳道所属部门").select_option("engineering")
    _checked(page, before)
    page.wait_for_selector(f"{LANE}.fd-problem", state="detached")
    assert page.locator("#designer-status").inner_text() == "检查通过，可以部署", page.locator(
        "#problems"
    ).inner_text()

    # A task's SLA for urgent complaints, in flowdesk's group of the panel.
    page.locator(TASK).click()
    urgent = page.get_by_label("时效：紧急（工作小时）")
    assert urgent.input_value() == "1"
    assert page.get_by_label("工作日历：紧急").input_value() == "round_the_clock"
    assert "表单：" in page.locator("#properties").inner_text()
    before = _checks(page)
    urgent.fill("3")
    _checked(page, before)
    shot(page, "16-designer-sla-panel-zh")

    # The draft is the browser's until deployed.
    page.reload()
    page.wait_for_selector("#modeler[data-ready=true]")
    page.locator("#designer-status", has_text="草稿").wait_for()
    assert page.locator("#designer-discard").is_visible()
    page.locator(TASK).click()
    assert page.get_by_label("时效：紧急（工作小时）").input_value() == "3"

    page.get_by_role("button", name="部署为新版本").click()
    page.wait_for_selector("#modeler[data-deployed='2']")
    assert page.locator("#designer-status").inner_text() == "已部署为第 2 版"
    assert page.locator("#designer-discard").is_hidden()
    assert "正在编辑第 2 版" in page.locator("#designer-editing").inner_text()
    shot(page, "16-designer-deployed-zh")

    with unit_of_work(write=False) as session:
        deployed = get_version(session, "complaint_handling")
        assert deployed.version == 2 and deployed.deployed_by == "dora"
        xml = deployed.content
    assert '<spiff:property name="sla_hours_urgent" value="3"' in xml
    assert 'name="工程部"' in xml
    shipped = (PROCESSES / "complaint_handling.bpmn").read_text(encoding="utf-8")
    for kept in (
        "spiff:calledDecisionId",
        "spiff:postScript",
        'spiff:scriptsOnInstances="true"',
        "<bpmn:loopDataInputRef>departments</bpmn:loopDataInputRef>",
        "<spiff:property ",
    ):
        assert xml.count(kept) == shipped.count(kept), kept
    assert page.evaluate("window.__csp || []") == [] and said == [], said
