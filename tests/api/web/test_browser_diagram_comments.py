"""Issue 13 in a real browser (Debian's chromium at 1366×768): the case diagram opens
legible, zooms with its buttons and marks everything a closed case passed; a comment
or a draft on the task page keeps what was typed in the form."""

from __future__ import annotations

from tests.fixtures.api_client import Api
from tests.fixtures.browser import pytestmark, shot, sign_in
from tests.fixtures.shipped import Case
from tests.processes.test_complaint_handling import complaint

__all__ = ["pytestmark"]  # the module's skip rule comes from the fixtures


def _scale(page) -> float:  # type: ignore[no-untyped-def]
    return float(page.locator("#diagram").get_attribute("data-scale") or 0)


def _closed_complaint() -> Case:
    case = Case(Api(), "cs1", "complaint_handling", complaint("quality"))
    case.do("acknowledge_complaint", "cs1", {"contacted": True})
    case.do("site_survey", "eng1", {"findings": "主卧顶板渗水"})
    case.do("propose_solution", "eng1", {"solution": "更换防水层"})
    case.do("approve_solution", "cs1", {"approved": True})
    case.do("execute_fix", "eng1", {"work_done": "已更换防水层"})
    case.do("confirm_resolution", "cs2", {"resolved": True})
    assert case.do("return_visit", "cs2", {"satisfaction": 5})["status"] == "completed"
    return case


def test_the_case_diagram_reads_zooms_and_marks_the_way_taken(server, browser) -> None:  # type: ignore[no-untyped-def]
    base, _ = server
    running = Case(Api(), "cs1", "complaint_handling", complaint("quality"))
    closed = _closed_complaint()
    cs = sign_in(browser, base, "cs1")

    # A running case opens legible, on its open task, with the colours explained.
    cs.goto(f"{base}/cases/{running.id}")
    cs.wait_for_selector("#diagram[data-ready=true]")
    assert _scale(cs) >= 0.8  # 2850 px wide: fitted whole it would be ~0.45
    legend = cs.locator("ul.legend").inner_text()
    for words in ("已经过", "已走过的路线", "正在处理", "已超时", "尚未经过"):
        assert words in legend
    open_task = cs.locator('[data-element-id="acknowledge_complaint"]')
    assert "fd-open" in (open_task.get_attribute("class") or "")
    box, frame = open_task.bounding_box(), cs.locator("#diagram").bounding_box()
    assert box and frame and frame["x"] <= box["x"] <= frame["x"] + frame["width"] - box["width"]

    # The buttons zoom in and out, show it whole and come back.
    start = _scale(cs)
    cs.get_by_role("button", name="放大").click()
    assert _scale(cs) > start
    cs.get_by_role("button", name="缩小").click()
    cs.get_by_role("button", name="缩小").click()
    assert _scale(cs) < start
    cs.get_by_role("button", name="显示全图").click()
    assert _scale(cs) < 0.6
    cs.get_by_role("button", name="回到当前步骤").click()
    assert abs(_scale(cs) - start) < 0.01

    # A closed case: the start event, gateways, script and rule tasks, the end event
    # and the flows it took are done; the branches it did not take are not.
    cs.goto(f"{base}/cases/{closed.id}")
    cs.wait_for_selector("#diagram[data-ready=true]")
    assert _scale(cs) >= 0.8

    def classes(element_id: str) -> str:
        return cs.locator(f'[data-element-id="{element_id}"]').get_attribute("class") or ""

    for element_id in (
        "start_complaint",
        "prepare_case",
        "route_complaint",
        "gw_needs_survey",
        "gw_satisfied",
        "end_closed",
        "flow_survey",
        "flow_satisfied",
    ):
        assert "fd-done" in classes(element_id), element_id
    for element_id in ("reopen_case", "flow_no_survey", "flow_unhappy"):
        assert "fd-done" not in classes(element_id), element_id
    assert cs.locator(".fd-open").count() == 0
    shot(cs, "13-case-diagram-zh")


def test_a_comment_and_a_draft_keep_what_was_typed(server, browser) -> None:  # type: ignore[no-untyped-def]
    base, _ = server
    case = Case(Api(), "cs1", "complaint_handling", complaint("quality"))
    case.do("acknowledge_complaint", "cs1", {"contacted": True})
    survey = case.task("site_survey")
    eng = sign_in(browser, base, "eng1")
    eng.goto(f"{base}/tasks/{survey['id']}")
    eng.get_by_label("勘查结果").fill("主卧顶板渗水，需更换防水层")
    eng.get_by_label("工程部").check()
    eng.get_by_label("物业部").check()
    eng.get_by_label("备注", exact=True).fill("已约业主明早九点上门")
    eng.get_by_role("button", name="添加备注").click()
    eng.wait_for_url("**said=comment**")

    def kept() -> bool:
        return (
            eng.get_by_label("勘查结果").input_value() == "主卧顶板渗水，需更换防水层"
            and eng.get_by_label("工程部").is_checked()
            and eng.get_by_label("物业部").is_checked()
            and not eng.get_by_label("销售部").is_checked()
        )

    assert kept()
    comments = eng.locator("ul.comments").inner_text()
    assert "eng1" in comments and "已约业主明早九点上门" in comments
    assert eng.locator(".field.invalid").count() == 0
    assert eng.get_by_label("备注", exact=True).input_value() == ""
    shot(eng, "13-comment-keeps-form-zh")

    # A draft with an unsent comment stays across a reload and a later visit.
    eng.get_by_label("勘查结果").fill("主卧顶板渗水，需更换防水层；楼上卫生间地漏松动")
    eng.get_by_label("备注", exact=True).fill("等物业确认楼上是否有人")
    eng.get_by_role("button", name="保存草稿").click()
    eng.wait_for_url("**said=draft**")
    assert "草稿已保存" in eng.content()
    eng.goto(f"{base}/inbox")
    eng.goto(f"{base}/tasks/{survey['id']}")
    assert eng.get_by_label("勘查结果").input_value().endswith("楼上卫生间地漏松动")
    assert eng.get_by_label("物业部").is_checked()
    assert eng.get_by_label("备注", exact=True).input_value() == "等物业确认楼上是否有人"

    # Completing from there sends the kept values.
    eng.get_by_role("button", name="提交完成").click()
    eng.wait_for_url("**/inbox?done=**")
    assert sorted(t["department"] for t in case.open()) == ["engineering", "property"]
