"""Case numbers (both databases): every complaint and lead numbered in turn within its
year, the demo's as the pages', a client's own key kept, never one number twice when
cases start at the same moment."""

from __future__ import annotations

import re
import threading
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from crm.demo import seed_demo
from engine import clock, runtime
from engine.db import unit_of_work
from engine.identity import actor_for
from engine.models import HistoryEvent, Instance, User
from tests.fixtures.shipped import setup_shipped

SH = ZoneInfo("Asia/Shanghai")
PROCESSES = Path(__file__).resolve().parents[2] / "processes"
FORMAT = re.compile(r"(TS|XS)-\d{4}-\d{6}")


def _complaint(phone: str = "13800138000") -> dict:
    return {"customer_name": "张伟", "phone": phone, "category": "other", "description": "x"}


def _keys() -> list[str | None]:
    with unit_of_work(write=False) as session:
        return list(
            session.execute(select(Instance.business_key).order_by(Instance.started_at)).scalars()
        )


def test_complaints_and_leads_are_numbered_in_turn_per_year(db_url: str) -> None:
    api = setup_shipped()
    clock.set_global_time(datetime(2026, 12, 31, 23, 0, tzinfo=SH))
    first = api.start("cs1", "complaint_handling", _complaint())
    assert first.json()["business_key"] == "TS-2026-000001"
    lead = {"name": "李娜", "phone": "13900139000", "project": "云山府", "source": "walk_in"}
    assert api.start("sales1", "lead_follow_up", lead).json()["business_key"] == "XS-2026-000001"
    # A client's own key is kept, and one that looks like a number but is none is skipped.
    own = api.start("cs1", "complaint_handling", _complaint(), business_key="TS-2026-ABCDEF")
    assert own.json()["business_key"] == "TS-2026-ABCDEF"
    assert api.start("cs1", "complaint_handling", _complaint()).json()["business_key"] == (
        "TS-2026-000002"
    )
    # The history's start event records the number.
    with unit_of_work(write=False) as session:
        started = session.execute(
            select(HistoryEvent).where(
                HistoryEvent.instance_id == first.json()["id"],
                HistoryEvent.type == "instance_started",
            )
        ).scalar_one()
        assert started.data["business_key"] == "TS-2026-000001"
    # The year is Shanghai's: 2027 starts its own count.
    clock.set_global_time(datetime(2027, 1, 1, 0, 30, tzinfo=SH))
    assert api.start("cs1", "complaint_handling", _complaint()).json()["business_key"] == (
        "TS-2027-000001"
    )
    clock.set_global_time(None)


def test_cases_started_at_once_never_share_a_number(db_url: str) -> None:
    setup_shipped()
    with unit_of_work(write=False) as session:
        actor = actor_for(session.execute(select(User).where(User.username == "cs1")).scalar_one())
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def start(n: int) -> None:
        try:
            barrier.wait()
            with unit_of_work() as session:
                runtime.start_instance(
                    session,
                    process_key="complaint_handling",
                    variables=_complaint(f"1380013800{n}"),
                    actor=actor,
                )
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    year = clock.now().astimezone(SH).year
    assert sorted(_keys()) == [f"TS-{year}-{n:06d}" for n in range(1, 7)]  # type: ignore[type-var]


def test_the_demo_numbers_its_cases_as_the_pages_do(db_url: str) -> None:
    seed_demo(PROCESSES)
    keys = _keys()
    assert keys and all(key and FORMAT.fullmatch(key) for key in keys), keys
    assert len(set(keys)) == len(keys)
