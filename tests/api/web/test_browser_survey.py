"""The customer's survey in a real browser (Debian's chromium against `flowdesk serve`):
customer service makes the link on a closed complaint's case page and sees it with its
QR code; the customer opens it on a 390 px phone without signing in, taps a score,
writes a comment and reads the thank-you page; the case page then shows the answer.
No CSP violation on the way. Screenshots go to test-artifacts/."""

from __future__ import annotations

from tests.crm.complaints import visited_complaint
from tests.fixtures.api_client import Api
from tests.fixtures.browser import ARTIFACTS, pytestmark, shot, sign_in

__all__ = ["pytestmark"]  # the module's skip rule comes from the fixtures


def _watch_csp(page, violations: list[str]) -> None:  # type: ignore[no-untyped-def]
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )


def test_a_customer_answers_the_survey_on_a_phone(server, browser) -> None:  # type: ignore[no-untyped-def]
    base, _ = server
    case = visited_complaint(Api(), category="quality", project="滨江壹号", scores=[4])
    violations: list[str] = []

    cs = sign_in(browser, base, "cs1")
    _watch_csp(cs, violations)
    cs.goto(f"{base}/cases/{case.id}")
    cs.get_by_role("button", name="生成调查链接（二维码）").click()
    cs.wait_for_selector("figure.qr svg")
    assert "调查链接已生成" in cs.locator("p.notice").inner_text()
    url = cs.locator("a.survey-url").get_attribute("href") or ""
    assert url.startswith(base + "/survey/")
    qr = cs.locator("figure.qr svg").bounding_box()
    assert qr and qr["width"] >= 200  # big enough to scan from a phone on site
    shot(cs, "17-survey-link-qr")

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
    _watch_csp(phone, violations)
    phone.goto(url)
    assert phone.url == url  # no sign-in page in between
    assert phone.locator("h1").inner_text() == "满意度调查"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    choice = phone.locator("label.choice", has_text="满意").filter(has_text="4")
    box = choice.bounding_box()
    assert box and box["height"] >= 48 and box["width"] >= 300  # a thumb's target
    choice.click()
    phone.get_by_label("意见或建议（选填）").fill("维修师傅很专业，就是来得晚了点")
    shot(phone, "17-survey-phone-form")
    phone.get_by_role("button", name="提交评价").click()
    phone.wait_for_selector("text=感谢您的评价")
    shot(phone, "17-survey-phone-thanks")
    phone.goto(url)  # once only
    assert "不能再次使用" in phone.locator("main").inner_text()

    cs.goto(f"{base}/cases/{case.id}")
    panel = cs.locator("section.case-survey").inner_text()
    assert "客户已评价：4 分（满意）" in panel and "来得晚了点" in panel
    assert "提交了满意度调查" in cs.locator("ol.timeline").inner_text()
    cs.locator("section.case-survey").scroll_into_view_if_needed()
    cs.locator("section.case-survey").screenshot(path=str(ARTIFACTS / "17-survey-case-panel.png"))
    assert violations == []
