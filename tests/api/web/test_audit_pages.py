"""The auditor's pages over HTTP (both databases): history search with filters and
pages, exports from the page, a case's timeline, and the verification page."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from engine import clock
from engine.db import get_engine
from engine.rounds import run_round
from tests.fixtures.shipped import Case, setup_shipped
from tests.fixtures.web_client import Browser

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai


@pytest.fixture
def auditor(db_url: str) -> Iterator[tuple[Browser, Case]]:
    api = setup_shipped()
    clock.set_global_time(T0)
    case = Case(
        api,
        "cs1",
        "complaint_handling",
        {
            "customer_name": "张伟",
            "phone": "13800138000",
            "project": "滨江壹号",
            "category": "quality",
            "description": "卫生间漏水",
        },
    )
    clock.set_global_time(T0 + timedelta(hours=1))
    case.do("acknowledge_complaint", "cs1", {"contacted": True, "notes": "已回电"})
    clock.set_global_time(None)
    run_round(T0 + timedelta(days=10))  # the open site survey: warned, breached, escalated
    browser = Browser()
    browser.sign_in("audit")
    yield browser, case
    browser.close()


def _seqs(html: str) -> list[int]:
    return [int(s) for s in re.findall(r'<td data-label="序号">(\d+)</td>', html)]


def test_search_page_filters_and_pages(auditor: tuple[Browser, Case]) -> None:
    browser, case = auditor
    page = browser.get("/audit")
    assert page.status_code == 200
    everything = _seqs(page.text)
    assert everything == sorted(everything, reverse=True)  # newest first
    assert '<td data-label="事件">超时预警' in page.text
    assert '<td data-label="事件">完成任务' in page.text
    done = browser.get("/audit", params={"type": "task_completed", "order": "asc"})
    assert len(_seqs(done.text)) == 1 and "acknowledge_complaint" in done.text
    # Keyset pages: follow "next" to the end; every event once, in order.
    seen: list[int] = []
    url = "/audit?order=asc&limit=3"
    while url:
        r = browser.get(url.replace("&amp;", "&"))
        seen += _seqs(r.text)
        found = re.search(r'<a href="([^"]+)" rel="next">', r.text)
        url = found.group(1) if found else ""
    assert seen == sorted(everything)
    by_case = browser.get("/audit", params={"instance_id": case.id, "department": "engineering"})
    assert "site_survey" in by_case.text and "acknowledge_complaint" not in by_case.text
    local = browser.get("/audit", params={"since": "2026-03-02T09:30", "until": "2026-03-02T10:30"})
    assert _seqs(local.text) and "acknowledge_complaint" in local.text  # 10:00 Shanghai time
    assert "register_complaint" not in local.text
    by_phone = browser.get("/audit", params={"customer": "13800138000", "order": "asc"})
    in_case = browser.get("/audit", params={"instance_id": case.id, "order": "asc"})
    assert _seqs(by_phone.text) == _seqs(in_case.text) != []
    bad = browser.get("/audit", params={"customer_id": "abc"})
    assert bad.status_code == 400 and "customer_id" in bad.text


def test_export_from_the_page_is_masked_and_recorded(auditor: tuple[Browser, Case]) -> None:
    browser, case = auditor
    page = browser.get("/audit", params={"instance_id": case.id, "order": "asc"})
    link = re.search(r'href="(/audit/export\?format=csv[^"]*)"', page.text)
    assert link
    r = browser.get(link.group(1).replace("&amp;", "&"))
    assert r.status_code == 200 and r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [int(row["seq"]) for row in rows] == _seqs(page.text)
    assert "13800138000" not in r.text and "138****8000" in r.text
    assert "张*" in r.text and "卫生间漏水" in r.text
    recorded = browser.get("/audit", params={"type": "history_exported"})
    assert len(_seqs(recorded.text)) == 1 and case.id in recorded.text


def test_case_timeline_page(auditor: tuple[Browser, Case]) -> None:
    browser, case = auditor
    r = browser.get(f"/audit/cases/{case.id}")
    assert r.status_code == 200
    html = r.text
    assert "生效的流程定义" in html and "complaint_handling" in html
    assert "按历史记录重放的数据与案件当前数据一致" in html
    assert "<del>∅</del> → <ins>已回电</ins>" in html
    assert "1小时" in html  # the acknowledgement took one working hour
    assert '<td data-label="事件">超时预警' in html
    assert "sup_engineering" in html  # the breach reached the department's supervisor
    assert browser.get("/audit/cases/nope").status_code == 404
    # reached from the case page and the customer's page
    assert f'href="/audit/cases/{case.id}"' in browser.get(f"/cases/{case.id}").text
    customer = re.search(r'href="/customers/(\d+)"', browser.get(f"/cases/{case.id}").text)
    assert customer
    page = browser.get(f"/customers/{customer.group(1)}").text
    assert f'href="/audit?customer_id={customer.group(1)}"' in page


def test_verification_page_names_the_first_bad_event(auditor: tuple[Browser, Case]) -> None:
    browser, case = auditor
    ok = browser.get("/audit/verify")
    assert ok.status_code == 200 and "审计日志完整" in ok.text
    assert "已校验至第" in ok.text  # the round's scheduled check ran
    with get_engine().begin() as conn:
        conn.execute(text("UPDATE history_event SET actor = 'mallory' WHERE seq = 5"))
    broken = browser.get("/audit/verify")
    assert "审计日志被篡改：第 5 条事件" in broken.text
    assert "mallory" in broken.text and "was altered" in broken.text


def test_staff_cannot_open_the_auditor_pages(auditor: tuple[Browser, Case]) -> None:
    _, case = auditor
    staff = Browser()
    try:
        staff.sign_in("cs1")
        for path in ("/audit", f"/audit/cases/{case.id}", "/audit/verify", "/audit/export"):
            assert staff.get(path).status_code == 403, path
        assert "/audit" not in staff.get("/inbox").text
    finally:
        staff.close()
