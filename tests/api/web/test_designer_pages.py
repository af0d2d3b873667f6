"""The designer's pages over HTTP (both databases): /designer lists every process by
version with its cases, open tasks and breaches; /designer/{key} carries the newest
version for the modeler; the modeler's check and deploy; everyone else gets 403."""

from __future__ import annotations

import json
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from engine import clock
from engine.db import unit_of_work
from engine.models import HistoryEvent, ProcessVersion
from engine.rounds import run_round
from tests.fixtures.factories import make_user
from tests.fixtures.shipped import PROCESSES, Case, setup_shipped
from tests.fixtures.web_client import signed_in_browsers
from tests.processes.test_complaint_handling import complaint

SH = ZoneInfo("Asia/Shanghai")
COMPLAINT = (PROCESSES / "complaint_handling.bpmn").read_text(encoding="utf-8")
# Version 2: one English name changed, so the file deploys anew.
CHANGED = COMPLAINT.replace('value="Acknowledge the complaint"', 'value="Call the customer"')
BROKEN = COMPLAINT.replace('name="工程部"', 'name="维修组"')


@pytest.fixture
def browsers(db_url: str):  # type: ignore[no-untyped-def]
    api = setup_shipped()
    make_user("root", "admin")
    with signed_in_browsers() as open_browser:
        yield api, open_browser


def _versions() -> int:
    with unit_of_work(write=False) as s:
        return s.execute(select(func.count()).select_from(ProcessVersion)).scalar_one()


def _row(html: str, key: str, version: int) -> list[str]:
    """The cells of one version's row of a process's table, as text."""
    section = html.split(f'id="process-{key}"', 1)[1].split("</section>", 1)[0]
    row = section.split(f'data-version="{version}"', 1)[1].split("</tr>", 1)[0]
    return [
        re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)
    ]


def test_the_process_list_by_version(browsers) -> None:  # type: ignore[no-untyped-def]
    api, open_browser = browsers
    clock.set_global_time(datetime(2026, 11, 23, 10, 0, tzinfo=SH))
    Case(api, "cs1", "complaint_handling", complaint("quality"))
    done = Case(
        api, "cs1", "lead_follow_up", {"name": "李雷", "phone": "13900139000", "project": "云山府"}
    )
    r = api.deploy("dora", "complaint_handling.bpmn", CHANGED.encode())
    assert r.status_code == 201 and r.json()["version"] == 2
    Case(api, "cs1", "complaint_handling", complaint("other"))
    # A week later the version-1 complaint's first task is breached; the newer one too.
    clock.set_global_time(datetime(2026, 11, 30, 10, 0, tzinfo=SH))
    run_round(clock.now())
    assert done.id

    page = open_browser("dora").get("/designer")
    assert page.status_code == 200
    html = page.text
    assert "流程与版本" in html and "投诉处理" in html and "客户跟进" in html
    assert 'href="/designer/complaint_handling"' in html
    newest = _row(html, "complaint_handling", 2)
    first = _row(html, "complaint_handling", 1)
    # version, deployed at, by, running, completed, cancelled, open tasks, breached open, breached
    assert newest[0].startswith("第 2 版") and "最新" in newest[0]
    assert newest[2] == "dora" and first[2] == "系统"
    assert newest[3:] == ["1", "0", "0", "1", "1", "1"]
    assert first[3:] == ["1", "0", "0", "1", "1", "1"]
    assert re.match(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", newest[1]), newest[1]
    assert _row(html, "lead_follow_up", 1)[3] == "1"
    assert "True" not in html and "complaint_handling</" not in html

    assert open_browser("root").get("/designer").status_code == 200


@pytest.mark.parametrize("user", ["cs1", "sup_customer_service", "gm", "audit"])
def test_only_designers_and_admins_open_the_designer(browsers, user: str) -> None:  # type: ignore[no-untyped-def]
    _, open_browser = browsers
    b = open_browser(user)
    for path in ("/designer", "/designer/complaint_handling"):
        r = b.get(path)
        assert r.status_code == 403, (user, path)
        assert "flowdesk" in r.text and "Traceback" not in r.text
    assert b.post("/designer/complaint_handling/validate", {"xml": COMPLAINT}).status_code == 403
    before = _versions()
    assert b.post("/designer/complaint_handling/deploy", {"xml": CHANGED}).status_code == 403
    assert _versions() == before


def test_the_modeler_page_check_and_deploy(browsers) -> None:  # type: ignore[no-untyped-def]
    _, open_browser = browsers
    b = open_browser("dora")
    page = b.get("/designer/complaint_handling")
    assert page.status_code == 200
    data = json.loads(
        re.search(
            r'<script id="modeler-data" type="application/json">(.*?)</script>', page.text, re.S
        ).group(1)
    )
    assert data["version"] == 1 and data["xml"] == COMPLAINT
    assert {"value": "engineering", "label": "工程部"} in data["departments"]
    assert data["forms"]["acknowledge_complaint"] and data["texts"]["designer_valid"]
    assert '<script src="/static/dist/designer.js"></script>' in page.text
    assert b.get("/designer/no_such_process").status_code == 404

    checked = b.post("/designer/complaint_handling/validate", {"xml": BROKEN})
    assert checked.status_code == 200 and checked.json()["ok"] is False
    [lane] = [p for p in checked.json()["problems"] if p["element_id"] == "lane_engineering"]
    assert (
        lane["message"]
        == "泳道名称“维修组”不是部门：请改为销售部、客服部、物业部、工程部或成本合约部"
    )
    assert (
        b.post("/designer/complaint_handling/validate", {"xml": BROKEN}, csrf=False).status_code
        == 403
    )
    assert b.post("/designer/complaint_handling/validate", {"xml": ""}).json()["ok"] is False
    bad_sla = COMPLAINT.replace(
        'name="sla_hours_urgent" value="1"', 'name="sla_hours_urgent" value="abc"'
    )
    [sla] = b.post("/designer/complaint_handling/validate", {"xml": bad_sla}).json()["problems"]
    assert sla["element_id"] == "acknowledge_complaint"
    assert (
        sla["message"]
        == "时效属性 sla_hours_urgent 的值 'abc' 无效：请填写大于 0 的工作小时（天）数"
    )
    # Every check reads in Chinese here, not only the lane, department and SLA ones.
    not_executable = COMPLAINT.replace('isExecutable="true"', 'isExecutable="false"')
    [off] = b.post("/designer/complaint_handling/validate", {"xml": not_executable}).json()[
        "problems"
    ]
    assert off["message"] == '流程未标记为可执行（isExecutable="true"）；只能部署可执行的流程'

    before = _versions()
    refused = b.post("/designer/complaint_handling/deploy", {"xml": BROKEN})
    assert refused.status_code == 422 and refused.json()["ok"] is False
    unchanged = b.post("/designer/complaint_handling/deploy", {"xml": COMPLAINT})
    assert unchanged.status_code == 200
    assert unchanged.json()["created"] is False and "未生成新版本" in unchanged.json()["message"]
    assert _versions() == before
    deployed = b.post("/designer/complaint_handling/deploy", {"xml": CHANGED})
    assert deployed.status_code == 201, deployed.text
    assert deployed.json() == {
        "key": "complaint_handling",
        "version": 2,
        "created": True,
        "message": "已部署为第 2 版",
    }
    with unit_of_work(write=False) as s:
        event = (
            s.execute(
                select(HistoryEvent)
                .where(HistoryEvent.type == "definition_deployed")
                .order_by(HistoryEvent.seq.desc())
            )
            .scalars()
            .first()
        )
        assert event.actor == "dora" and event.data["version"] == 2
    assert (
        json.loads(
            re.search(
                r'id="modeler-data" type="application/json">(.*?)</script>',
                b.get("/designer/complaint_handling").text,
                re.S,
            ).group(1)
        )["version"]
        == 2
    )


def test_a_renamed_department_keeps_its_lane_names(browsers) -> None:  # type: ignore[no-untyped-def]
    """The lane choice shows the department's display name but names the lane as
    CONTRACT.md does (a renamed department's new name names no lane)."""
    api, open_browser = browsers
    renamed = api.client.patch(
        "/api/v1/admin/departments/engineering",
        json={"name_zh": "工程维修部"},
        headers=api._headers("root"),
    )
    assert renamed.status_code == 200, renamed.text
    page = open_browser("dora").get("/designer/complaint_handling")
    data = json.loads(
        re.search(
            r'id="modeler-data" type="application/json">(.*?)</script>', page.text, re.S
        ).group(1)
    )
    assert {"value": "engineering", "label": "工程维修部"} in data["departments"]
    assert data["department_names"]["engineering"] == ["工程部", "Engineering"]


def test_the_modeler_page_says_when_its_bundle_is_not_built(
    browsers, monkeypatch, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from api.web import designer

    _, open_browser = browsers
    monkeypatch.setattr(designer, "BUNDLE", tmp_path / "designer.js")
    page = open_browser("dora").get("/designer/complaint_handling")
    assert page.status_code == 200
    assert "设计器的前端文件尚未生成" in page.text and "/static/dist/designer.js" not in page.text
