"""Moving running cases in a real browser (Debian's chromium): from /designer the
designer opens the migration page of complaint_handling, runs a dry run (one case can
move, the one at the survey that version 2 renamed cannot, said in Chinese), then
migrates; the moved case's page tells of it."""

from __future__ import annotations

from tests.fixtures.api_client import Api
from tests.fixtures.browser import pytestmark, shot, sign_in

from .test_migration_pages import two_cases_and_version_2

__all__ = ["pytestmark"]  # the module's skip rule comes from the fixtures


def test_designer_dry_runs_and_migrates(server, browser) -> None:  # type: ignore[no-untyped-def]
    base, _ = server
    api = Api()
    waiting, surveyed = two_cases_and_version_2(api)

    page = sign_in(browser, base, "dora", height=800)
    page.get_by_role("link", name="流程设计").click()
    page.wait_for_url("**/designer")
    page.locator("#process-complaint_handling").get_by_role("link", name="迁移运行中的案件").click()
    page.wait_for_url("**/designer/complaint_handling/migrate")
    page.get_by_label("从版本").select_option("1")
    page.get_by_label("迁移到").select_option("2")
    page.get_by_role("button", name="试运行（不写入）").click()
    page.wait_for_selector(".migration-cases")
    assert "2 件中 1 件可以迁移" in page.locator("#migration-result-title").inner_text()
    ok = page.locator(f'tr[data-instance="{waiting.id}"]')
    assert "可以迁移" in ok.inner_text() and "张伟" in ok.inner_text()
    refused = page.locator(f'tr[data-instance="{surveyed.id}"]').inner_text()
    assert "不能迁移" in refused and "现场勘查" in refused and "李娜" in refused
    shot(page, "16-designer-migration-dry-run-zh")

    page.get_by_role("button", name="迁移", exact=True).click()
    page.wait_for_selector("text=已把 1 件案件从第 1 版迁移到第 2 版")
    assert "已迁移" in page.locator(f'tr[data-instance="{waiting.id}"]').inner_text()
    shot(page, "16-designer-migration-done-zh")
    assert waiting.refresh()["version"] == 2 and surveyed.refresh()["version"] == 1
    page.locator(f'tr[data-instance="{waiting.id}"] a').click()
    page.wait_for_selector("text=把案件从第 1 版迁移到第 2 版")
