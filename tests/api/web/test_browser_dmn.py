"""The routing table's editor in a real browser (Debian's chromium): /designer lists
the decision tables, /designer/decisions/complaint_routing opens dmn-js's decision
table editor in Chinese; a cell written wrong is listed as a problem of its rule and
marked (clicking the problem selects the cell), fixing it clears the mark, and
deploying makes version 2 of the table and of complaint_handling, by which a new
quality complaint goes to property management — under the pages' CSP, no violation."""

from __future__ import annotations

from tests.api.web.test_browser_designer import LISTEN
from tests.fixtures.api_client import Api
from tests.fixtures.browser import pytestmark, shot, sign_in
from tests.fixtures.shipped import Case
from tests.processes.test_complaint_handling import complaint

__all__ = ["pytestmark"]  # the module's skip rule comes from the fixtures

CELL = '#dmn-editor [data-element-id="rule_quality_dept"]'


def _checked(page, after: int) -> None:  # type: ignore[no-untyped-def]
    """Wait for the server's check that follows a change."""
    page.wait_for_selector(f"#dmn-editor[data-checks]:not([data-checks='{after}'])")


def _checks(page) -> int:  # type: ignore[no-untyped-def]
    return int(page.locator("#dmn-editor").get_attribute("data-checks") or 0)


def _write(page, text: str) -> None:  # type: ignore[no-untyped-def]
    """Replace the quality rule's department cell with `text`, then leave the cell."""
    before = _checks(page)
    page.locator(CELL).click()
    # (deleted first: typing over a selection makes Chrome's editor carry the old text's
    # look as a style attribute, which the CSP refuses — the browser's, not the page's)
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.type(text)
    page.locator("#designer-editing").click()
    _checked(page, before)


def test_the_designer_changes_the_routing_and_deploys(server, browser) -> None:  # type: ignore[no-untyped-def]
    base, _ = server
    page = sign_in(browser, base, "dora", height=900)
    said: list[str] = []
    page.on(
        "console", lambda m: said.append(m.text) if "Content Security Policy" in m.text else None
    )
    page.on("pageerror", lambda exc: said.append(str(exc)))
    page.context.add_init_script(LISTEN)

    page.goto(base + "/designer")
    section = page.locator("#decision-complaint_routing")
    assert "投诉处理" in section.inner_text()  # the process that uses it
    assert section.locator('tr[data-version="1"] td').first.inner_text().startswith("第 1 版")
    section.scroll_into_view_if_needed()
    shot(page, "16-dmn-designer-list-zh")
    section.get_by_role("link", name="打开决策表编辑器").click()
    page.wait_for_url("**/designer/decisions/complaint_routing")
    page.wait_for_selector("#dmn-editor[data-ready=true]")
    _checked(page, 0)
    assert page.locator("#designer-status").inner_text() == "检查通过，可以部署"
    assert "命中策略" in page.locator("#dmn-editor").inner_text()  # dmn-js's words, translated
    assert page.locator(CELL).inner_text().strip() == '"engineering"'

    _write(page, '"property" +')  # a value left unfinished
    problems = page.locator("#problems li")
    assert problems.count() == 1
    assert problems.first.inner_text().startswith(
        "第 1 条规则，“责任部门 / Responsible department”列的结果写法有误"
    ), problems.first.inner_text()
    page.wait_for_selector(f"{CELL}.fd-problem")
    problems.get_by_role("button").first.click()
    page.wait_for_selector(f"{CELL}.fd-selected")
    shot(page, "16-dmn-problem-zh")

    _write(page, '"property"')
    page.wait_for_selector(f"{CELL}.fd-problem", state="detached")
    assert page.locator("#designer-status").inner_text() == "检查通过，可以部署"

    # The draft is the browser's until deployed.
    page.reload()
    page.wait_for_selector("#dmn-editor[data-ready=true]")
    page.locator("#designer-status", has_text="草稿").wait_for()
    assert page.locator(CELL).inner_text().strip() == '"property"'

    page.get_by_role("button", name="部署为新版本").click()
    page.wait_for_selector("#dmn-editor[data-deployed='2']")
    assert page.locator("#designer-status").inner_text() == (
        "已部署为第 2 版；“投诉处理”第 2 版随之更新，新受理的案件按新规则判断"
    )
    assert page.locator("#designer-discard").is_hidden()
    shot(page, "16-dmn-deployed-zh")

    api = Api()
    case = Case(api, "cs1", "complaint_handling", complaint("quality"))
    case.do("acknowledge_complaint", "cs1", {"contacted": True})
    assert case.task("site_survey")["department"] == "property"
    assert page.evaluate("window.__csp || []") == [] and said == [], said
