"""The decision tables' pages over HTTP (both databases): /designer lists the deployed
tables with their versions and the processes using them; /designer/decisions/{id}
carries the newest version for dmn-js's editor; its check and deploy (a new version of
the table and of complaint_handling, or none when unchanged, or 422 with nothing
deployed); everyone but designers and admins gets 403, a post without the page's
CSRF token 403."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from engine.db import unit_of_work
from engine.models import HistoryEvent, ProcessVersion
from tests.api.test_decision_deploy import BROKEN, REROUTED, ROUTING
from tests.fixtures.factories import make_user
from tests.fixtures.shipped import setup_shipped
from tests.fixtures.web_client import signed_in_browsers

PAGE = "/designer/decisions/complaint_routing"


@pytest.fixture
def browsers(db_url: str):  # type: ignore[no-untyped-def]
    api = setup_shipped()
    make_user("root", "admin")
    with signed_in_browsers() as open_browser:
        yield api, open_browser


def _versions() -> int:
    with unit_of_work(write=False) as s:
        return s.execute(select(func.count()).select_from(ProcessVersion)).scalar_one()


def _editor_data(html: str) -> dict:
    found = re.search(
        r'<script id="editor-data" type="application/json">(.*?)</script>', html, re.S
    )
    assert found, html
    return json.loads(found.group(1))


def test_the_designer_lists_the_decision_tables(browsers) -> None:  # type: ignore[no-untyped-def]
    _, open_browser = browsers
    html = open_browser("dora").get("/designer").text
    section = html.split('id="decision-complaint_routing"', 1)[1].split("</section>", 1)[0]
    assert "责任部门 / Responsible department" in section
    assert "使用它的流程：投诉处理" in section
    assert f'href="{PAGE}"' in section and "第 1 版" in section and "系统" in section
    assert "决策表" in html
    assert open_browser("root").get("/designer").status_code == 200


@pytest.mark.parametrize("user", ["cs1", "sup_customer_service", "gm", "audit"])
def test_only_designers_and_admins_edit_a_table(browsers, user: str) -> None:  # type: ignore[no-untyped-def]
    _, open_browser = browsers
    b = open_browser(user)
    r = b.get(PAGE)
    assert r.status_code == 403 and "Traceback" not in r.text
    assert b.post(f"{PAGE}/validate", {"xml": ROUTING}).status_code == 403
    before = _versions()
    assert b.post(f"{PAGE}/deploy", {"xml": REROUTED}).status_code == 403
    assert _versions() == before


def test_the_editor_page_check_and_deploy(browsers) -> None:  # type: ignore[no-untyped-def]
    _, open_browser = browsers
    b = open_browser("dora")
    page = b.get(PAGE)
    assert page.status_code == 200
    data = _editor_data(page.text)
    assert data["version"] == 1 and data["xml"] == ROUTING
    assert data["validate_url"] == f"{PAGE}/validate" and data["texts"]["designer_valid"]
    assert '<script src="/static/dist/dmn.js"></script>' in page.text
    assert "使用它的流程：投诉处理" in page.text
    assert b.get("/designer/decisions/no_such_table").status_code == 404
    # a process is not a decision table
    assert b.get("/designer/decisions/complaint_handling").status_code == 404

    checked = b.post(f"{PAGE}/validate", {"xml": BROKEN})
    assert checked.status_code == 200 and checked.json()["ok"] is False
    [problem] = checked.json()["problems"]
    assert problem["element_id"] == "rule_quality"
    assert problem["message"].startswith("第 1 条规则，“投诉类别 / Category”列的条件写法有误")
    assert b.post(f"{PAGE}/validate", {"xml": BROKEN}, csrf=False).status_code == 403
    assert b.post(f"{PAGE}/validate", {"xml": ""}).json()["problems"][0]["message"] == (
        "没有收到决策表"
    )
    other = ROUTING.replace('<decision id="complaint_routing"', '<decision id="routing_two"')
    [wrong] = b.post(f"{PAGE}/validate", {"xml": other}).json()["problems"]
    assert wrong["message"] == "文件中的决策编号应为 complaint_routing"

    before = _versions()
    refused = b.post(f"{PAGE}/deploy", {"xml": BROKEN})
    assert refused.status_code == 422 and refused.json()["ok"] is False
    assert b.post(f"{PAGE}/deploy", {"xml": REROUTED}, csrf=False).status_code == 403
    unchanged = b.post(f"{PAGE}/deploy", {"xml": ROUTING})
    assert unchanged.status_code == 200
    assert unchanged.json()["message"] == "决策表与第 1 版相同，未生成新版本"
    assert _versions() == before

    deployed = b.post(f"{PAGE}/deploy", {"xml": REROUTED})
    assert deployed.status_code == 201, deployed.text
    assert deployed.json() == {
        "key": "complaint_routing",
        "version": 2,
        "created": True,
        "message": "已部署为第 2 版；“投诉处理”第 2 版随之更新，新受理的案件按新规则判断",
        "processes": [{"key": "complaint_handling", "version": 2, "created": True}],
    }
    assert _versions() == before + 2
    with unit_of_work(write=False) as s:
        events = s.execute(
            select(HistoryEvent)
            .where(HistoryEvent.type == "definition_deployed")
            .order_by(HistoryEvent.seq.desc())
            .limit(2)
        ).scalars()
        assert {(e.actor, e.process_key, e.data["version"]) for e in events} == {
            ("dora", "complaint_routing", 2),
            ("dora", "complaint_handling", 2),
        }
    assert _editor_data(b.get(PAGE).text)["version"] == 2
    assert open_browser("root").get(PAGE).status_code == 200


def test_the_editor_page_says_when_its_bundle_is_not_built(browsers, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from api.web import designer_decisions

    _, open_browser = browsers
    monkeypatch.setattr(designer_decisions, "BUNDLE", tmp_path / "dmn.js")
    page = open_browser("dora").get(PAGE)
    assert page.status_code == 200
    assert "设计器的前端文件尚未生成" in page.text and "/static/dist/dmn.js" not in page.text
