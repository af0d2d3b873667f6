"""The Content-Security-Policy enforced in a real browser (Debian's chromium): the
inbox, task, case (its bpmn-js diagram drawn), 登记来访 (the duplicate-lead script
and its fetch) and audit pages work and report no violation of the policy."""

from __future__ import annotations

from tests.crm.leads import visitor
from tests.fixtures.api_client import Api
from tests.fixtures.browser import pytestmark, shot, sign_in
from tests.fixtures.shipped import Case
from tests.processes.test_complaint_handling import complaint

__all__ = ["pytestmark"]  # the module's skip rule comes from the fixtures

# Runs before any script of the page; Playwright's own scripts are not subject to CSP.
LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sourceFile);
});
"""


def _watch(page) -> list[str]:  # type: ignore[no-untyped-def]
    """Console messages about the policy (chromium logs every refusal)."""
    said: list[str] = []
    page.on(
        "console",
        lambda m: said.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.context.add_init_script(LISTEN)
    return said


def _violations(page, said: list[str]) -> list[str]:  # type: ignore[no-untyped-def]
    return [*page.evaluate("window.__csp || []"), *said]


def test_pages_work_under_the_csp_with_no_violation(server, browser) -> None:  # type: ignore[no-untyped-def]
    base, _ = server
    api = Api()
    running = Case(api, "cs1", "complaint_handling", complaint("quality"))
    [task] = running.open()
    Case(api, "sales1", "lead_follow_up", visitor("13900139000", "云山府"))

    cs = sign_in(browser, base, "cs1")
    said = _watch(cs)
    response = cs.goto(f"{base}/inbox")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "style-src 'self';" in policy
    assert _violations(cs, said) == []

    cs.goto(f"{base}/tasks/{task['id']}")
    cs.locator("form").first.wait_for()
    assert _violations(cs, said) == [], "task page"

    cs.goto(f"{base}/cases/{running.id}")
    cs.wait_for_selector("#diagram[data-ready=true]")
    assert cs.locator('#diagram [data-element-id="acknowledge_complaint"]').count() == 1
    # bpmn-js draws its canvas at the container's size: the styles it sets apply.
    box = cs.locator("#diagram svg").first.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 200
    cs.get_by_role("button", name="放大").click()
    assert _violations(cs, said) == [], "case page"
    shot(cs, "14-csp-case-diagram-zh")

    desk = sign_in(browser, base, "sales1")
    desk_said = _watch(desk)
    desk.goto(f"{base}/start/lead_follow_up")
    desk.locator("#f_phone").fill("13900139000")
    desk.get_by_label("意向项目").fill("云山府")
    desk.get_by_label("客户姓名").click()
    desk.locator("#lead-duplicate").wait_for(state="visible")
    assert "请勿重复登记" in desk.locator("#lead-duplicate").inner_text()
    assert _violations(desk, desk_said) == [], "start page"
    shot(desk, "14-csp-lead-duplicate-zh")

    auditor = sign_in(browser, base, "audit")
    audit_said = _watch(auditor)
    for path in ("/audit", f"/audit/cases/{running.id}", "/audit/verify"):
        r = auditor.goto(base + path)
        assert r.status == 200, path
        assert _violations(auditor, audit_said) == [], path
    shot(auditor, "14-csp-audit-zh")

    # The watch itself sees a refusal: an outside image and an inline style attribute.
    auditor.evaluate(
        """() => {
          const img = document.createElement("img");
          img.src = "https://example.com/x.png";
          document.body.append(img);
          document.body.setAttribute("style", "color: red");
        }"""
    )
    auditor.wait_for_function("window.__csp.length >= 2")
    caught = " ".join(_violations(auditor, audit_said))
    assert "img-src" in caught and "style-src" in caught, caught
