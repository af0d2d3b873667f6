"""Sign-in protection in a real browser (Playwright driving Debian's chromium against
`flowdesk serve`): five wrong passwords, then the right one is refused with a Chinese
message and the form stays usable; a cookie copied before signing out opens nothing.
Screenshots go to test-artifacts/."""

from __future__ import annotations

from tests.fixtures.browser import pytestmark, shot, sign_in, submit

__all__ = ["pytestmark"]  # the module's skip rule comes from the fixtures


def _try(page, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    submit(page, page.get_by_role("button", name="登录"))


def test_the_sign_in_page_throttles_and_sign_out_ends_the_session(server, browser) -> None:  # type: ignore[no-untyped-def]
    base, _ = server
    page = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    page.goto(base + "/login")
    for _ in range(5):
        _try(page, "cs1", "wrong-pw")
        assert "用户名或密码不正确" in page.locator("p.error").inner_text()
    response = None

    def remember(r):  # type: ignore[no-untyped-def]
        nonlocal response
        if r.url.endswith("/login") and r.request.method == "POST":
            response = r

    page.on("response", remember)
    _try(page, "cs1", "secret-pass")
    assert response is not None and response.status == 429
    assert 0 < int(response.headers["retry-after"]) <= 900
    message = page.locator("p.error").inner_text()
    assert message == "登录失败次数过多，请 15 分钟后再试"
    assert page.get_by_role("button", name="登录").is_enabled()
    shot(page, "signin_throttled")

    # Another username from the same browser still signs in: the throttle is per username.
    other = sign_in(browser, base, "cs2")
    cookies = other.context.cookies()
    other.get_by_role("button", name="退出").click()
    other.wait_for_url("**/login")
    reused = browser.new_context().new_page()
    reused.context.add_cookies(cookies)
    reused.goto(base + "/inbox")
    assert reused.url.startswith(base + "/login")
    shot(reused, "signin_reused_cookie_after_sign_out")
