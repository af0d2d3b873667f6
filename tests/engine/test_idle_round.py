"""An idle round (nothing due, nothing appended) costs a few reads: one transaction in
all (the history check's), the other parts each one statement outside any."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from engine import clock
from engine.db import unit_of_work
from engine.models import Notification
from engine.rounds import run_round
from tests.engine.test_sla import complaint
from tests.fixtures.api_client import Api
from tests.fixtures.factories import make_user
from tests.fixtures.shipped import Case, setup_shipped
from tests.fixtures.statements import round_trips

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def api(db_url: str) -> Api:
    found = setup_shipped()
    make_user("root", "admin")  # told of a year with only a computed schedule
    return found


def test_an_idle_round_is_one_transaction_and_a_read_a_part(api: Api) -> None:
    start = datetime(2026, 11, 23, 10, 0, tzinfo=SH)
    clock.set_global_time(start)
    case = Case(api, "cs1", "complaint_handling", complaint("quality"))
    case.do("acknowledge_complaint", "cs1", {"contacted": True})
    busy = start + timedelta(days=2)  # the survey warned and breached; admins told of 2027
    clock.set_global_time(busy)
    result = run_round(busy)
    assert result.warnings + result.breaches >= 1 and result.history_ok
    with unit_of_work(write=False) as s:
        told = s.scalars(
            select(Notification.dedup_key).where(Notification.kind == "calendar_computed")
        ).all()
    assert told, "the busy round told the admins of the computed year"

    idle = busy + timedelta(minutes=1)
    clock.set_global_time(idle)
    with round_trips() as sent:
        nothing = run_round(idle)
    assert nothing.warnings == nothing.breaches == nothing.escalations == 0
    assert nothing.history_ok and nothing.events_verified == 0
    begins = [s for s in sent if s.startswith("BEGIN")]
    assert len(begins) == 1, sent  # the history check's: it records when it checked
    writes = [s for s in sent if s.startswith(("INSERT", "UPDATE", "DELETE", "COPY"))]
    assert all(s.startswith("UPDATE audit_check") for s in writes), writes
    assert not any("FOR UPDATE" in s and "audit_check" not in s for s in sent), sent
    statements = [s for s in sent if not s.startswith(("BEGIN", "COMMIT", "ROLLBACK"))]
    # timers, SLA, outbox, the calendar's 2 reads, the check's 3 and its write, seal,
    # witness
    assert len(statements) <= 11, statements
