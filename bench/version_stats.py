"""The heat map's figures (`engine.version_stats.version_stats`) over many tasks.

    python -m bench.version_stats [--tasks 100000] [--requests 20] [--backend both]

A fresh database (PostgreSQL `flowdesk_bench_version_stats`, or
FLOWDESK_BENCH_DATABASE_URL; SQLite in a temporary file) with the shipped processes,
complaint_handling deployed twice and N task rows spread over its seven user tasks,
four per instance, 3/4 of them on version 1 (70% completed with a working time, 20%
open, 10% cancelled; 10% breached); then the figures of version 1 read N times: median
and p95. On PostgreSQL also the per-element query alone with its median by
the database's histogram (engine/report_sql.py) and by Python (the SQLite way).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.engine import make_url

from bench.sla_sweep import ROOT, fresh_database

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/flowdesk_bench_version_stats"
T = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
ELEMENTS = (
    "acknowledge_complaint",
    "site_survey",
    "propose_solution",
    "approve_solution",
    "execute_fix",
    "confirm_resolution",
    "return_visit",
)


def _populate(n: int) -> None:
    from engine.db import unit_of_work
    from engine.definitions import deploy_files, deploy_folder, get_version
    from engine.identity import SYSTEM
    from engine.models import Instance, Task

    source = (ROOT / "processes" / "complaint_handling.bpmn").read_bytes()
    with unit_of_work() as s:
        deploy_folder(s, folder=ROOT / "processes", actor=SYSTEM)
        changed = source.replace(b'value="Return visit"', b'value="Call back"')
        deploy_files(s, files=[("complaint_handling.bpmn", changed)], actor=SYSTEM)
        versions = [get_version(s, "complaint_handling", v).id for v in (1, 2)]
    rng = random.Random(16)
    instances, tasks = [], []
    for i in range(n // 4):
        instance_id = str(uuid.UUID(int=i + 1))
        on_one = i % 4 != 3
        instances.append(
            {
                "id": instance_id,
                "process_key": "complaint_handling",
                "version_id": versions[0 if on_one else 1],
                "version": 1 if on_one else 2,
                "status": rng.choice(("running", "running", "completed", "cancelled")),
                "variables": {},
                "workflow_state": "",
                "serializer_version": "1.5",
                "started_at": T,
                "lock_version": 1,
            }
        )
        for j in range(4):
            roll = rng.random()
            state = "completed" if roll < 0.7 else "open" if roll < 0.9 else "cancelled"
            tasks.append(
                {
                    "id": str(uuid.UUID(int=(i + 1) * 8 + j)),
                    "instance_id": instance_id,
                    "process_key": "complaint_handling",
                    "element_id": ELEMENTS[(i + j) % len(ELEMENTS)],
                    "name": "任务",
                    "department": "customer_service",
                    "state": state,
                    "created_at": T,
                    "due_at": T + timedelta(hours=8),
                    "sla_status": "breached" if rng.random() < 0.1 else "on_track",
                    "escalation_level": 0,
                    "working_seconds": rng.randint(60, 20 * 3600) if state == "completed" else None,
                    "paused_seconds": 0,
                }
            )
    with unit_of_work() as s:
        for start in range(0, len(instances), 5000):
            s.execute(insert(Instance), instances[start : start + 5000])
        for start in range(0, len(tasks), 5000):
            s.execute(insert(Task), tasks[start : start + 5000])


def _timed(call, requests: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    took = []
    for _ in range(requests):
        started = time.perf_counter()
        call()
        took.append((time.perf_counter() - started) * 1000)
    took.sort()
    return statistics.median(took), took[max(0, round(0.95 * len(took)) - 1)]


def run(url: str, tasks: int, requests: int) -> None:
    """Fill a fresh database at `url` and print the figures' read times."""
    from engine import version_stats as vs
    from engine.db import get_engine, unit_of_work
    from engine.definitions import get_version
    from engine.identity import SYSTEM

    fresh_database(url) if url.startswith("postgresql") else _fresh_sqlite(url)
    started = time.perf_counter()
    _populate(tasks)
    print(f"  {tasks} tasks written in {time.perf_counter() - started:.1f} s")
    if url.startswith("postgresql"):
        with get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")

    def figures() -> None:
        with unit_of_work(write=False) as s:
            stats = vs.version_stats(s, actor=SYSTEM, key="complaint_handling", version=1)
            assert len(stats.elements) == len(ELEMENTS)

    figures()  # warm: the version's parsed spec is cached after the first read
    median, p95 = _timed(figures, requests)
    print(f"  version_stats: median {median:.1f} ms, p95 {p95:.1f} ms")
    if url.startswith("postgresql"):
        with unit_of_work(write=False) as s:
            version_id = get_version(s, "complaint_handling", 1).id

        def pg_median() -> None:
            with unit_of_work(write=False) as s:
                vs.element_figures(s, version_id, median_in_database=True)

        def python_median() -> None:
            with unit_of_work(write=False) as s:
                vs.element_figures(s, version_id, median_in_database=False)

        for label, call in (("the database's histogram", pg_median), ("Python", python_median)):
            median, p95 = _timed(call, requests)
            print(f"  element figures, median by {label}: median {median:.1f} ms, p95 {p95:.1f} ms")


def _fresh_sqlite(url: str) -> None:
    from engine.config import get_settings
    from engine.db import dispose_engines
    from engine.migrations import upgrade_database

    os.environ["FLOWDESK_DATABASE_URL"] = url
    get_settings.cache_clear()
    dispose_engines()
    upgrade_database(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    if args.backend in ("sqlite", "both"):
        folder = Path(tempfile.mkdtemp(prefix="flowdesk-bench-"))
        url = f"sqlite:///{folder / 'flowdesk.db'}"
        print(f"version stats on SQLite ({args.tasks} tasks)")
        run(url, args.tasks, args.requests)
    if args.backend in ("postgresql", "both"):
        url = os.environ.get("FLOWDESK_BENCH_DATABASE_URL", DEFAULT_URL)
        print(
            f"version stats on {make_url(url).render_as_string(hide_password=True)} "
            f"({args.tasks} tasks)"
        )
        run(url, args.tasks, args.requests)


if __name__ == "__main__":
    main()
