"""The staff scorecards (`engine.scorecards.scorecards`) over many tasks.

    python -m bench.scorecards [--tasks 100000] [--requests 10] [--backend both]

A fresh database (PostgreSQL `flowdesk_bench_scorecards`, or FLOWDESK_BENCH_DATABASE_URL;
SQLite in a temporary file) with the shipped processes, 10 staff and a supervisor per
department, and N completed complaint task rows (four per case) spread over a year:
10% breached, half of those escalated to level 2; every case's last task a scored
return visit, a third of the cases with the customer's own answer. Then the cards read
N times — everyone for one month, one department for one month, one person for the
year — median and p95; on PostgreSQL the plan of the monthly task aggregate.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.engine import make_url

from bench.sla_sweep import ROOT, fresh_database
from bench.version_stats import _fresh_sqlite, _timed

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/flowdesk_bench_scorecards"
YEAR = datetime(2026, 1, 1, tzinfo=UTC)
MONTH = (datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC))
ELEMENTS = ("acknowledge_complaint", "propose_solution", "execute_fix", "return_visit")


def _populate(n: int) -> list[str]:
    from crm.models import SurveyLink
    from engine.db import unit_of_work
    from engine.definitions import deploy_folder, get_version
    from engine.departments import department_codes
    from engine.identity import SYSTEM, create_user, use_low_cost_hashing_for_tests
    from engine.models import Instance, Task

    use_low_cost_hashing_for_tests()
    people: list[tuple[str, str]] = []
    with unit_of_work() as s:
        deploy_folder(s, folder=ROOT / "processes", actor=SYSTEM)
        version_id = get_version(s, "complaint_handling", 1).id
        for dept in department_codes():
            for i in range(10):
                create_user(
                    s,
                    username=f"{dept}_{i}",
                    password="bench-pass-1",
                    roles=["staff"],
                    department=dept,
                )
                people.append((f"{dept}_{i}", dept))
            create_user(
                s,
                username=f"{dept}_sup",
                password="bench-pass-1",
                roles=["supervisor"],
                department=dept,
            )
        create_user(s, username="gm", password="bench-pass-1", roles=["executive"])
    rng = random.Random(17)
    instances, tasks, links = [], [], []
    for i in range(n // len(ELEMENTS)):
        instance_id = str(uuid.UUID(int=i + 1))
        started = YEAR + timedelta(minutes=rng.randint(0, 360 * 24 * 60))
        instances.append(
            {
                "id": instance_id,
                "process_key": "complaint_handling",
                "version_id": version_id,
                "version": 1,
                "status": "completed",
                "variables": {},
                "workflow_state": "",
                "serializer_version": "1.5",
                "started_at": started,
                "lock_version": 1,
            }
        )
        for j, element in enumerate(ELEMENTS):
            who, dept = rng.choice(people)
            done = started + timedelta(hours=4 * (j + 1))
            breached = rng.random() < 0.1
            tasks.append(
                {
                    "id": str(uuid.UUID(int=(i + 1) * 8 + j)),
                    "instance_id": instance_id,
                    "process_key": "complaint_handling",
                    "element_id": element,
                    "name": "任务",
                    "department": dept,
                    "assignee": who,
                    "state": "completed",
                    "created_at": done - timedelta(hours=4),
                    "due_at": done - timedelta(hours=1) if breached else done + timedelta(hours=4),
                    "sla_status": "breached" if breached else "on_track",
                    "escalation_level": (2 if rng.random() < 0.5 else 1) if breached else 0,
                    "working_seconds": 4 * 3600,
                    "completed_at": done,
                    "completed_by": who,
                    "submitted": {"satisfaction": rng.randint(1, 5)}
                    if element == "return_visit"
                    else {},
                    "paused_seconds": 0,
                }
            )
        if i % 3 == 0:
            links.append(
                {
                    "token_hash": uuid.UUID(int=i + 1).hex * 2,
                    "instance_id": instance_id,
                    "created_by": "customer_service_0",
                    "created_at": done,
                    "expires_at": done + timedelta(days=14),
                    "answered_at": done + timedelta(hours=2),
                    "score": rng.randint(1, 5),
                }
            )
    with unit_of_work() as s:
        for rows, table in ((instances, Instance), (tasks, Task), (links, SurveyLink)):
            for start in range(0, len(rows), 5000):
                s.execute(insert(table), rows[start : start + 5000])
    return [name for name, _ in people]


def run(url: str, tasks: int, requests: int) -> None:
    """Fill a fresh database at `url` and print the cards' read times."""
    import crm
    from engine import scorecards
    from engine.db import get_engine, unit_of_work
    from engine.identity import Actor

    crm.install()  # the complaints' ratings
    fresh_database(url) if url.startswith("postgresql") else _fresh_sqlite(url)
    started = time.perf_counter()
    people = _populate(tasks)
    with unit_of_work() as s:  # the credits, as the steps and the survey answers write them
        credited = scorecards.rebuild_credits(s)
    print(f"  {tasks} tasks, {credited} rating credits written in ", end="")
    print(f"{time.perf_counter() - started:.1f} s")
    if url.startswith("postgresql"):
        with get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    gm = Actor("gm", frozenset({"executive"}))
    since, until = MONTH
    reads = {
        "everyone, one month, per person": dict(group_by="person", since=since, until=until),
        "everyone, one month, per department": dict(
            group_by="department", since=since, until=until
        ),
        "one department, one month": dict(since=since, until=until, department="engineering"),
        "one person, the whole year": dict(username=people[0]),
    }
    for label, params in reads.items():

        def read(params: dict = params) -> None:  # type: ignore[type-arg]
            with unit_of_work(write=False) as s:
                assert scorecards.scorecards(s, actor=gm, **params)["items"]

        read()
        median, p95 = _timed(read, requests)
        print(f"  {label}: median {median:.1f} ms, p95 {p95:.1f} ms")
    if url.startswith("postgresql"):
        with get_engine().connect() as conn:
            plan = conn.exec_driver_sql(
                "EXPLAIN ANALYZE SELECT completed_by, count(*) FROM task WHERE state = 'completed'"
                " AND completed_at >= %(since)s AND completed_at < %(until)s GROUP BY completed_by",
                {"since": since, "until": until},
            )
            print("  plan of the monthly task aggregate:")
            for (line,) in plan:
                print(f"    {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    if args.backend in ("sqlite", "both"):
        folder = Path(tempfile.mkdtemp(prefix="flowdesk-bench-"))
        print(f"scorecards on SQLite ({args.tasks} tasks)")
        run(f"sqlite:///{folder / 'flowdesk.db'}", args.tasks, args.requests)
    if args.backend in ("postgresql", "both"):
        url = os.environ.get("FLOWDESK_BENCH_DATABASE_URL", DEFAULT_URL)
        where = make_url(url).render_as_string(hide_password=True)
        print(f"scorecards on {where} ({args.tasks} tasks)")
        run(url, args.tasks, args.requests)


if __name__ == "__main__":
    main()
