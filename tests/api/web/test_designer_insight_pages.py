"""The heat map's reads and the version compare page over HTTP (both databases): the
designer's page carries the versions for its heat map; its script reads a version's
figures (with their words in Chinese) and diagram with the session cookie; the compare
page carries both versions and which forms differ; everyone else gets 403, an unknown
process or version 404."""

from __future__ import annotations

import json
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from engine import clock
from tests.fixtures.factories import make_user
from tests.fixtures.shipped import PROCESSES, Case, setup_shipped
from tests.fixtures.web_client import signed_in_browsers
from tests.processes.test_complaint_handling import complaint

SH = ZoneInfo("Asia/Shanghai")
COMPLAINT = (PROCESSES / "complaint_handling.bpmn").read_text(encoding="utf-8")
CHANGED = COMPLAINT.replace('name="回访">', 'name="电话回访">')
READS = (
    "/designer/complaint_handling/versions/1/stats",
    "/designer/complaint_handling/versions/1/bpmn",
    "/designer/complaint_handling/compare",
)


@pytest.fixture
def browsers(db_url: str):  # type: ignore[no-untyped-def]
    api = setup_shipped()
    make_user("root", "admin")
    with signed_in_browsers() as open_browser:
        yield api, open_browser


def _embedded(html: str, script_id: str) -> dict:
    found = re.search(
        rf'<script id="{script_id}" type="application/json">(.*?)</script>', html, re.S
    )
    assert found, script_id
    return json.loads(found.group(1))


def test_the_heat_map_reads_a_versions_figures_and_diagram(browsers) -> None:  # type: ignore[no-untyped-def]
    api, open_browser = browsers
    clock.set_global_time(datetime(2026, 11, 23, 10, 0, tzinfo=SH))  # a Monday
    case = Case(api, "cs1", "complaint_handling", complaint("quality"))
    clock.set_global_time(datetime(2026, 11, 23, 11, 15, tzinfo=SH))
    case.do("acknowledge_complaint", "cs1", {"contacted": True})
    assert api.deploy("dora", "complaint_handling.bpmn", CHANGED.encode()).status_code == 201

    b = open_browser("dora")
    page = b.get("/designer/complaint_handling")
    assert page.status_code == 200
    heatmap = _embedded(page.text, "heatmap-data")
    assert heatmap["versions"] == [
        {"value": 1, "label": "第 1 版"},
        {"value": 2, "label": "第 2 版"},
    ]
    assert heatmap["stats_url"] == "/designer/complaint_handling/versions/{n}/stats"
    assert (
        ">热力图</button>" in page.text
        and 'href="/designer/complaint_handling/compare"' in page.text
    )

    stats = b.get("/designer/complaint_handling/versions/1/stats")
    assert stats.status_code == 200
    body = stats.json()
    assert body["summary"] == "第 1 版的案件：运行中 1 件，已完成 0 件，已取消 0 件"
    ack = next(e for e in body["elements"] if e["element_id"] == "acknowledge_complaint")
    assert (ack["completed"], ack["open"], ack["median_working_seconds"]) == (1, 0, 4500)
    assert [ack[k] for k in ("passed_text", "open_text", "median_text", "breached_text")] == [
        "已办 1",
        "在办 0",
        "中位用时 1小时15分",
        "超时 0（0%）",
    ]
    survey = next(e for e in body["elements"] if e["element_id"] == "site_survey")
    assert (survey["open"], survey["median_text"]) == (1, "中位用时 —")
    newer = b.get("/designer/complaint_handling/versions/2/stats").json()
    assert newer["summary"] == "第 2 版的案件：运行中 0 件，已完成 0 件，已取消 0 件"

    diagram = b.get("/designer/complaint_handling/versions/2/bpmn")
    assert diagram.status_code == 200 and diagram.text == CHANGED
    assert diagram.headers["content-type"].startswith("application/xml")
    for missing in (
        "/designer/complaint_handling/versions/3/stats",
        "/designer/complaint_handling/versions/3/bpmn",
        "/designer/no_such_process/versions/1/stats",
    ):
        assert b.get(missing).status_code == 404, missing


def test_the_compare_page_carries_both_versions(browsers) -> None:  # type: ignore[no-untyped-def]
    api, open_browser = browsers
    forms = (PROCESSES.parent / "forms" / "complaint_handling.json").read_text(encoding="utf-8")
    other_forms = forms.replace('"回访记录"', '"电话回访记录"', 1)
    assert other_forms != forms
    r = api.post(
        "/processes",
        "dora",
        files={
            "file": ("complaint_handling.bpmn", CHANGED.encode(), "text/xml"),
            "forms": ("complaint_handling.json", other_forms.encode(), "application/json"),
        },
    )
    assert r.status_code == 201, r.text
    b = open_browser("root")
    page = b.get("/designer/complaint_handling/compare")  # the newest and the one before
    assert page.status_code == 200
    data = _embedded(page.text, "compare-data")
    assert (data["old"]["version"], data["new"]["version"]) == (1, 2)
    assert data["old"]["xml"] == COMPLAINT and data["new"]["xml"] == CHANGED
    assert data["forms_changed"] == ["return_visit"]
    assert data["texts"]["designer_change_added"] == "新增"
    assert data["severities"]["normal"] == "一般"
    assert "版本比较" in page.text and '<option value="2" selected>第 2 版</option>' in page.text

    same = b.get("/designer/complaint_handling/compare?a=2&b=2")
    assert same.status_code == 200 and "请选择两个不同的版本" in same.text
    assert b.get("/designer/complaint_handling/compare?a=1&b=7").status_code == 404
    assert b.get("/designer/complaint_handling/compare?a=one").status_code == 422
    assert b.get("/designer/no_such_process/compare").status_code == 404


@pytest.mark.parametrize("user", ["cs1", "sup_customer_service", "gm", "audit"])
def test_only_designers_and_admins_read_them_on_the_pages(browsers, user: str) -> None:  # type: ignore[no-untyped-def]
    _, open_browser = browsers
    b = open_browser(user)
    for path in READS:
        r = b.get(path)
        assert r.status_code == 403, (user, path)
        assert "Traceback" not in r.text
