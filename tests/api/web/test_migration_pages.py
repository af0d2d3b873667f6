"""/designer/{key}/migrate over HTTP (both databases): a dry run lists each running case
with its number, customer and open tasks and says in Chinese whether it can move and why
not, writing nothing; migrating moves those that can; designers and admins only."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.db import unit_of_work
from engine.models import HistoryEvent
from tests.fixtures.api_client import Api
from tests.fixtures.factories import make_user
from tests.fixtures.shipped import PROCESSES, Case, setup_shipped
from tests.fixtures.web_client import signed_in_browsers
from tests.processes.test_complaint_handling import complaint

# Version 2 calls the site survey `site_visit`: a case waiting at the survey cannot move.
RENAMED = (PROCESSES / "complaint_handling.bpmn").read_text(encoding="utf-8")
RENAMED = RENAMED.replace("site_survey", "site_visit")
PAGE = "/designer/complaint_handling/migrate"


def two_cases_and_version_2(api: Api) -> tuple[Case, Case]:
    """A complaint waiting at the acknowledgement and one at the site survey (李娜), then
    version 2, which renames the survey."""
    waiting = Case(api, "cs1", "complaint_handling", complaint("quality"))
    surveyed = Case(
        api,
        "cs1",
        "complaint_handling",
        complaint("quality", customer_name="李娜", phone="13900139001"),
    )
    surveyed.do("acknowledge_complaint", "cs1", {"contacted": True})
    r = api.deploy("dora", "complaint_handling.bpmn", RENAMED.encode())
    assert r.status_code == 201 and r.json()["version"] == 2, r.text
    return waiting, surveyed


@pytest.fixture
def cases(db_url: str):  # type: ignore[no-untyped-def]
    api = setup_shipped()
    make_user("root", "admin")
    waiting, surveyed = two_cases_and_version_2(api)
    with signed_in_browsers() as open_browser:
        yield api, open_browser, waiting, surveyed


def _events() -> int:
    with unit_of_work(write=False) as s:
        return int(s.execute(select(func.count()).select_from(HistoryEvent)).scalar_one())


def _row(html: str, instance_id: str) -> str:
    return html.split(f'data-instance="{instance_id}"', 1)[1].split("</tr>", 1)[0]


def test_dry_run_then_migrate(cases) -> None:  # type: ignore[no-untyped-def]
    api, open_browser, waiting, surveyed = cases
    dora = open_browser("dora")
    page = dora.get(PAGE)
    assert page.status_code == 200
    assert "迁移运行中的案件" in page.text and "第 1 版（运行中 2 件）" in page.text
    assert '<option value="1" selected>' in page.text  # the version with running cases

    before = _events()
    dry = dora.post(PAGE, {"from_version": "1", "to_version": "2", "action": "dry_run"})
    assert dry.status_code == 200, dry.text
    assert "2 件中 1 件可以迁移；未写入任何数据" in dry.text
    ok_row = _row(dry.text, waiting.id)
    assert 'data-ok="yes"' in ok_row and "可以迁移" in ok_row and "张伟" in ok_row
    assert "首次响应" in ok_row  # its open task, by name
    assert waiting.state["business_key"] in ok_row  # the case number
    refused = _row(dry.text, surveyed.id)
    assert 'data-ok="no"' in refused and "李娜" in refused
    assert "不能迁移" in refused and "待办任务“现场勘查”在第 2 版中已删除" in refused
    for code in ("True", "False", "None", "[", "problem_", "site_survey"):
        assert code not in dry.text.split("<main", 1)[1]
    assert _events() == before

    moved = dora.post(PAGE, {"from_version": "1", "to_version": "2", "action": "migrate"})
    assert moved.status_code == 200, moved.text
    assert "已把 1 件案件从第 1 版迁移到第 2 版；1 件未迁移" in moved.text
    assert "已迁移" in _row(moved.text, waiting.id)
    assert waiting.refresh()["version"] == 2 and surveyed.refresh()["version"] == 1
    case_page = dora.get(f"/cases/{waiting.id}")
    assert "把案件从第 1 版迁移到第 2 版" in case_page.text


def test_bad_choices_and_the_wrong_people(cases) -> None:  # type: ignore[no-untyped-def]
    api, open_browser, waiting, _ = cases
    root = open_browser("root")
    assert root.get(PAGE).status_code == 200
    same = root.post(PAGE, {"from_version": "2", "to_version": "2", "action": "dry_run"})
    assert same.status_code == 422
    assert "案件已在第 2 版：请选择另一个版本" in same.text and "<form" in same.text
    before = _events()
    assert (
        root.post(PAGE, {"from_version": "1", "action": "migrate"}, csrf=False).status_code == 403
    )
    for user in ("cs1", "sup_customer_service", "audit"):
        browser = open_browser(user)
        assert browser.get(PAGE).status_code == 403, user
        browser.csrf = root.csrf  # even with a token, not theirs to do
        assert browser.post(PAGE, {"from_version": "1", "action": "migrate"}).status_code == 403
    assert _events() == before and waiting.refresh()["version"] == 1
