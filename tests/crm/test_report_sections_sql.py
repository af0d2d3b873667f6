"""The funnel section's days in stage, now counted by the database (a window over the
stage changes, crm/web/reports_sections.py): stage changes at different times count
until the next stage, a running lead's stage until now, a closed lead's last stage
nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine import clock
from tests.api.web.test_reports_pages import _rows, _section
from tests.crm.leads import assigned
from tests.fixtures.factories import make_user
from tests.fixtures.shipped import setup_shipped
from tests.fixtures.web_client import Browser

T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)


def test_days_in_stage_count_until_the_next_stage_or_now(db_url: str) -> None:
    api = setup_shipped()
    make_user("root", "admin")
    clock.set_global_time(T0)
    lost = assigned(api, consultant="sales2", phone="13900139001")  # a visitor from T0
    running = assigned(api, consultant="sales1", phone="13900139002")
    clock.set_global_time(T0 + timedelta(days=2))
    lost.do("follow_up", "sales2", {"stage": "prospect"})  # 2 days a visitor
    running.do("follow_up", "sales1", {"stage": "prospect"})  # 2 days a visitor
    clock.set_global_time(T0 + timedelta(days=5, hours=12))
    lost.do("follow_up", "sales2", {"stage": "lost", "lost_reason": "price"})  # 3.5 days
    clock.set_global_time(T0 + timedelta(days=9))  # running: 7 days a prospect so far
    browser = Browser()
    browser.sign_in("gm")
    stages = _rows(_section(browser.get("/reports").text, "funnel"), "各阶段到达与转化")
    browser.close()
    assert stages["来访"][-1] == "2"  # (2 + 2) / 2
    assert stages["意向"][-1] == "5.2"  # (3.5 + 7) / 2 = 5.25, to one decimal
