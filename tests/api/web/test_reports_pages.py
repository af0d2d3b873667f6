"""The report pages (`/reports`) over HTTP, both databases: who opens them, the filters
changing the figures, and the CSV and Excel downloads, each figure computed by hand on a
known small set of complaints and leads."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from api.web.reports import Section, Table, xlsx_bytes
from engine import clock
from engine.db import unit_of_work
from engine.models import HistoryEvent
from engine.rounds import run_round
from tests.crm.complaints import visited_complaint
from tests.crm.leads import assigned, visitor
from tests.fixtures.factories import make_user
from tests.fixtures.shipped import Case, setup_shipped
from tests.fixtures.web_client import Browser

T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # a Monday, 10:00 in Shanghai


@pytest.fixture
def known(db_url: str):  # type: ignore[no-untyped-def]
    """Three complaints and three leads registered on 2026-11-02, one more complaint on
    2026-11-04 (Shanghai dates)."""
    api = setup_shipped()
    make_user("root", "admin")
    clock.set_global_time(T0)
    # A: quality, 滨江壹号, visited 5. B: facilities, 翠湖花园, visited 2 (reopened), then 4.
    visited_complaint(api, category="quality", project="滨江壹号", scores=[5])
    visited_complaint(api, category="facilities", project="翠湖花园", scores=[2, 4])
    # L1: 云山府, sales2, prospect then lost for the price. L2: 滨江壹号, sales1, owner.
    # L3: 云山府, sales2, still a visitor.
    lost = assigned(api, consultant="sales2", phone="13900139001")
    lost.do("follow_up", "sales2", {"stage": "prospect"})
    lost.do("follow_up", "sales2", {"stage": "lost", "lost_reason": "price"})
    won = assigned(api, consultant="sales1", phone="13900139002", project="滨江壹号")
    won.do("follow_up", "sales1", {"stage": "won"})
    won.do("sign_contract", "sales1", {"contract_no": "HT-2"})
    Case(api, "sales1", "lead_follow_up", visitor(phone="13900139003"))
    clock.set_global_time(T0 + timedelta(days=2))
    # C: other, 滨江壹号, registered two days later, not visited yet.
    visited_complaint(api, category="other", project="滨江壹号", scores=[])
    # A month on, the work still open is late.
    clock.set_global_time(T0 + timedelta(days=30))
    run_round(clock.now())
    opened: list[Browser] = []

    def browser(user: str) -> Browser:
        b = Browser()
        b.sign_in(user)
        opened.append(b)
        return b

    yield browser
    for b in opened:
        b.close()


def _rows(html: str, caption: str) -> dict[str, list[str]]:
    """The rows of the table with this caption: first cell → the other cells."""
    found = re.search(rf"<caption>{re.escape(caption)}</caption>(.*?)</table>", html, flags=re.S)
    assert found, caption
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", found.group(1), flags=re.S):
        cells = [
            re.sub(r"<[^>]+>", "", c).strip()
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, flags=re.S)
        ]
        rows[cells[0]] = cells[1:]
    return rows


def _section(html: str, key: str) -> str:
    found = re.search(
        rf'<section class="report-section" id="section-{key}".*?</section>', html, re.S
    )
    assert found, key
    return found.group(0)


def test_who_opens_the_reports_and_bad_filters(known) -> None:  # type: ignore[no-untyped-def]
    for user in ("sup_engineering", "gm", "root"):
        page = known(user).get("/reports")
        assert page.status_code == 200, user
        assert "报表" in page.text and 'class="report-chart"' in page.text
        assert '<a href="/reports">报表</a>' in page.text  # the menu names it
    for user in ("cs1", "dora", "audit"):
        b = known(user)
        refused = b.get("/reports")
        assert refused.status_code == 403, user
        assert "报表仅供主管、高管和管理员查看" in refused.text
        assert b.get("/reports/sla.xlsx").status_code == 403
        assert '<a href="/reports">' not in b.get("/inbox").text
    anonymous = Browser()
    assert anonymous.get("/reports").status_code in (303, 401)
    anonymous.close()
    gm = known("gm")
    for query, problem in (
        ("since=yesterday", "日期格式应为 年-月-日"),
        ("since=2026-11-05&until=2026-11-01", "结束日期不能早于开始日期"),
    ):
        r = gm.get(f"/reports?{query}")
        assert r.status_code == 422 and problem in r.text, query
    assert gm.get("/reports/nothing.csv").status_code == 422


def test_figures_and_filters(known) -> None:  # type: ignore[no-untyped-def]
    gm = known("gm")
    html = gm.get("/reports").text
    for code in ("quality", "facilities", "hotline", "price", "engineering", "None", "True"):
        assert f">{code}<" not in html, code  # codes read as words
    # The funnel: 3 leads reached visitor; L1 and L2 reached prospect (L2 jumped to won,
    # which passes near-close), L2 won and became an owner.
    funnel = _section(html, "funnel")
    stages = _rows(funnel, "各阶段到达与转化")
    # Every stage change happened at once, on 11-02; L3 has waited as a visitor for the
    # 30 days since: (0 + 0 + 30) / 3 days as a visitor; a closed lead's last stage
    # counts no time.
    assert stages["来访"] == ["3", "1", "—", "10"]
    assert stages["意向"] == ["2", "0", "66.7", "0"]
    assert stages["业主"] == ["1", "1", "100", "—"]
    assert _rows(funnel, "各置业顾问") == {
        "置业顾问": ["来访数", "已成交", "已流失", "成交率 %"],
        "sales1": ["1", "1", "0", "100"],
        "sales2": ["1", "0", "1", "0"],
        "未分配顾问": ["1", "0", "0", "0"],
    }
    reasons = _rows(funnel, "流失原因")
    assert reasons["价格"] == ["1", "100"]
    assert "lost_reason=price#section-lost_leads" in funnel
    calls = _rows(_section(html, "lost_leads"), "全部流失客户")
    assert calls["李娜"][:4] == ["13900139001", "云山府", "sales2", "价格"]
    # Complaints: A and C at 滨江壹号, B (reopened) at 翠湖花园: 1 of 3 reopened.
    complaints = _section(html, "complaints")
    assert _rows(complaints, "按项目")["滨江壹号"] == ["2", "1", "0", "0"]
    assert _rows(complaints, "按项目")["翠湖花园"] == ["1", "1", "1", "100"]
    assert "3 件投诉，其中 1 件被重新打开（重开率 33.3%）" in complaints
    satisfaction = _rows(_section(html, "satisfaction"), "按项目")
    assert satisfaction["翠湖花园"] == ["2", "3", "1", "1", "0", "—"]
    assert satisfaction["滨江壹号"] == ["1", "5", "0", "0", "0", "—"]

    # The period: 2026-11-04 holds only C; the project: 云山府 holds L1 and L3.
    later = gm.get("/reports?since=2026-11-04&until=2026-11-04").text
    assert "1 件投诉，其中 0 件被重新打开" in later
    assert "统计期间内登记的 0 条来访" in later
    yunshan = gm.get("/reports", params={"project": "云山府"}).text
    assert "统计期间内登记的 2 条来访" in yunshan
    assert "0 件投诉" in yunshan
    assert 'value="云山府" selected' in yunshan
    # The department narrows the complaints and SLA to it.
    property_only = gm.get("/reports?department=property").text
    assert "1 件投诉，其中 1 件被重新打开" in property_only
    assert list(_rows(_section(property_only, "sla"), "各部门 SLA")) == ["部门", "物业部"]
    # The process: the lead process leaves the complaint sections out and its SLA counts
    # no customer-service task.
    leads_only = gm.get("/reports?process=lead_follow_up").text
    assert 'id="section-complaints"' not in leads_only
    sla = _rows(_section(leads_only, "sla"), "各部门 SLA")
    assert sla["客服部"][0] == "0"
    assert int(_rows(_section(html, "sla"), "各部门 SLA")["客服部"][0]) > 0
    # Its steps: three leads assigned (L3 still waiting), L1 followed twice and L2 once,
    # L2 signed; L2's welcome waits at customer service. The two still open breached in
    # the month's round; the breached steps come first.
    steps = _rows(_section(leads_only, "sla"), "瓶颈环节（超时最多、最慢的步骤）")
    assert [(name, cells[:6]) for name, cells in steps.items() if name != "步骤"] == [
        ("业主入住欢迎", ["客户跟进", "客服部", "1", "1", "1", "1"]),
        ("分配置业顾问", ["客户跟进", "销售部", "3", "1", "1", "1"]),
        ("签约", ["客户跟进", "销售部", "1", "0", "0", "0"]),
        ("跟进", ["客户跟进", "销售部", "3", "0", "0", "0"]),
    ]
    levels = _rows(_section(leads_only, "sla"), "各部门升级层级（任务数）")
    assert sum(int(n) for n in levels["销售部"]) == 1
    assert sum(int(n) for n in levels["客服部"]) == 1
    # The drill-down: one reason's lost leads.
    drill = gm.get("/reports?lost_reason=layout").text
    assert "流失原因：户型" in drill and "13900139001" not in _section(drill, "lost_leads")


def test_csv_and_excel_downloads(known) -> None:  # type: ignore[no-untyped-def]
    sup = known("sup_customer_service")
    r = sup.get("/reports/complaints.xlsx?project=滨江壹号")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(r.content))
    assert book.sheetnames == ["1 按类别", "2 按项目", "3 按渠道"]
    by_project = [[c.value for c in row] for row in book["2 按项目"].iter_rows()]
    assert by_project == [
        ["项目", "投诉数", "已结案", "重新打开", "重开率 %"],
        ["滨江壹号", 2, 1, 0, 0],
    ]
    categories = {row[0].value: row[1].value for row in book["1 按类别"].iter_rows(min_row=2)}
    assert categories == {"工程质量": 1, "其他": 1}

    # The call list: phone numbers whole for sales and executives, masked for the others.
    calls = sup.get("/reports/lost_leads.xlsx").content
    [sheet] = load_workbook(io.BytesIO(calls)).worksheets
    assert [c.value for c in sheet[2]][:5] == ["李娜", "139****9001", "云山府", "sales2", "价格"]
    for user in ("sup_sales", "gm"):
        [sheet] = load_workbook(
            io.BytesIO(known(user).get("/reports/lost_leads.xlsx").content)
        ).worksheets
        assert sheet["B2"].value == "13900139001", user

    text = sup.get("/reports/funnel.csv?project=云山府").content.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0] == ["各阶段到达与转化"]
    assert lines[1] == ["阶段", "到达人数", "当前停留", "自上一阶段转化率 %", "平均停留天数"]
    assert lines[2] == ["来访", "2", "1", "", "15.0"]
    assert lines[3] == ["意向", "1", "0", "50.0", "0.0"]
    sla = sup.get("/reports/sla.csv").content.decode("utf-8-sig")
    assert "按时完成率 %" in sla and "物业部" in sla

    # Every download is in the history: who, which section, which format and filters.
    with unit_of_work(write=False) as session:
        exported = session.execute(
            select(HistoryEvent.actor, HistoryEvent.data)
            .where(HistoryEvent.type == "report_exported")
            .order_by(HistoryEvent.seq)
        ).all()
    assert [(a, d["section"], d["format"]) for a, d in exported] == [
        ("sup_customer_service", "complaints", "xlsx"),
        ("sup_customer_service", "lost_leads", "xlsx"),
        ("sup_sales", "lost_leads", "xlsx"),
        ("gm", "lost_leads", "xlsx"),
        ("sup_customer_service", "funnel", "csv"),
        ("sup_customer_service", "sla", "csv"),
    ]
    assert exported[0][1]["filters"] == {"project": "滨江壹号"}
    # The auditor's history reads it in words.
    audit = known("audit").get("/audit", params={"type": "report_exported"}).text
    assert "导出了「投诉统计」（Excel），筛选条件：项目=滨江壹号" in audit
    assert "导出了「流失客户回访名单」（Excel）" in audit


def test_text_cells_never_become_formulas() -> None:
    section = Section("x", "x", [Table("表", ["名称"], [['=HYPERLINK("x")'], [3]])])
    sheet = load_workbook(io.BytesIO(xlsx_bytes(section))).worksheets[0]
    assert sheet["A2"].value == '=HYPERLINK("x")' and sheet["A2"].data_type == "s"
    assert sheet["A3"].value == 3
