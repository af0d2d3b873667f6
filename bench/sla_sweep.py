"""SLA sweep time with many open tasks on PostgreSQL, 1% of them due in the round.

    python -m bench.sla_sweep [--sizes 100000 1000000] [--due-percent 1]
    FLOWDESK_SWEEP_THREADS=1 python -m bench.sla_sweep   # one connection

For each size: a fresh database (`flowdesk_bench` on the local server, or
FLOWDESK_BENCH_DATABASE_URL), the shipped processes deployed, an organisation of
5 staff and a supervisor per department, and N open tasks (10 per instance)
written in bulk; `due-percent` of them have their 80% warning due at the
round's instant, the rest are due in the weeks ahead. Prints the time of the
SLA sweep, of a whole round (timers, SLA, outbox, calendar check) with the
same load, and of an idle round, with the events and notifications written.
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/flowdesk_bench"
T = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def fresh_database(url: str) -> None:
    """Drop and recreate the bench database, point flowdesk at it and migrate it."""
    from engine.config import get_settings
    from engine.db import dispose_engines
    from engine.migrations import upgrade_database

    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()
    os.environ["FLOWDESK_DATABASE_URL"] = url
    get_settings.cache_clear()
    dispose_engines()
    upgrade_database()


def _populate(size: int, due_percent: float) -> None:
    from engine.db import get_engine, unit_of_work
    from engine.definitions import deploy_folder
    from engine.departments import department_codes
    from engine.identity import SYSTEM, create_user

    with unit_of_work() as s:
        deploy_folder(s, folder=ROOT / "processes", actor=SYSTEM)
        for dept in department_codes():
            for i in range(5):
                create_user(
                    s,
                    username=f"{dept}_{i}",
                    password="bench-pass",
                    roles=["staff"],
                    department=dept,
                )
            create_user(
                s,
                username=f"{dept}_sup",
                password="bench-pass",
                roles=["supervisor"],
                department=dept,
            )
        create_user(s, username="gm", password="bench-pass", roles=["executive"])
    every = max(1, round(100 / due_percent))
    with get_engine().begin() as conn:
        version_id = conn.execute(
            text("SELECT id FROM process_version ORDER BY id LIMIT 1")
        ).scalar_one()
        conn.execute(
            text(
                """
                INSERT INTO instance (id, process_key, version_id, version, status, variables,
                    workflow_state, serializer_version, started_at, started_by, lock_version)
                SELECT md5('i' || g)::uuid::text, 'complaint_handling', :v, 1, 'running', '{}',
                    '', '1.5', :t - interval '20 days', 'bench', 1
                FROM generate_series(0, :n - 1) AS g
                """
            ),
            {"v": version_id, "t": T, "n": (size + 9) // 10},
        )
        conn.execute(
            text(
                """
                INSERT INTO task (id, instance_id, process_key, element_id, name, department,
                    state, created_at, due_at, sla_status, escalation_level, sla_calendar,
                    escalation_ladder, warn_at, next_sla_at)
                SELECT md5('t' || g)::uuid::text, md5('i' || (g / 10))::uuid::text,
                    'complaint_handling', 'site_survey', '现场勘查',
                    (ARRAY['sales','customer_service','property','engineering',
                           'cost_contracts'])[1 + g % 5],
                    'open', :t - interval '1 day',
                    CASE WHEN g % :every = 0 THEN :t + interval '4 hours'
                         ELSE :t + (1 + g % 20) * interval '1 day' END,
                    'on_track', 0, 'standard', 'complaint',
                    CASE WHEN g % :every = 0 THEN :t - interval '1 minute'
                         ELSE :t + (g % 20) * interval '1 day' + interval '1 hour' END,
                    CASE WHEN g % :every = 0 THEN :t - interval '1 minute'
                         ELSE :t + (g % 20) * interval '1 day' + interval '1 hour' END
                FROM generate_series(0, :n - 1) AS g
                """
            ),
            {"t": T, "n": size, "every": every},
        )
    with get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def _count(sql: str) -> int:
    from engine.db import get_engine

    with get_engine().connect() as conn:
        return int(conn.execute(text(sql)).scalar_one())


def run(size: int, due_percent: float, url: str) -> None:
    from engine import clock
    from engine.config import get_settings
    from engine.rounds import run_round
    from engine.sla.sweep import sweep_due_steps

    fresh_database(url)
    started = time.perf_counter()
    _populate(size, due_percent)
    fill = time.perf_counter() - started
    due = _count(
        f"SELECT count(*) FROM task WHERE state = 'open' AND next_sla_at <= '{T.isoformat()}'"
    )
    print(f"\n{size:,} open tasks ({due:,} due), written in {fill:.1f} s")

    threads = get_settings().sweep_threads
    with clock.frozen_at(T):
        t0 = time.perf_counter()
        counts = sweep_due_steps(T)
        sweep_s = time.perf_counter() - t0
    events = _count("SELECT count(*) FROM history_event")
    notes = _count("SELECT count(*) FROM notification")
    print(
        f"  SLA sweep, {threads} thread(s): {sweep_s:6.2f} s  ({counts.warnings:,} warnings, "
        f"{events:,} events, {notes:,} notifications; {due / sweep_s:,.0f} tasks/s)"
    )
    # The same load again, through a whole round: push the warned tasks' next step back.
    with create_engine(url).begin() as conn:
        conn.execute(text("DELETE FROM notification"))
        conn.execute(
            text(
                "UPDATE task SET sla_status = 'on_track', next_sla_at = warn_at "
                "WHERE sla_status = 'at_risk'"
            )
        )
        conn.execute(text("ANALYZE task"))
    with clock.frozen_at(T):
        t0 = time.perf_counter()
        result = run_round(T)
        round_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        idle = run_round(T)
        idle_s = time.perf_counter() - t0
    print(f"  whole round (due):    {round_s:6.2f} s  {result.as_dict()}")
    print(f"  idle round (nothing): {idle_s * 1000:6.1f} ms  warnings={idle.warnings}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--due-percent", type=float, default=1.0)
    args = parser.parse_args()
    url = os.environ.get("FLOWDESK_BENCH_DATABASE_URL", DEFAULT_URL)
    print(f"SLA sweep on {make_url(url).render_as_string(hide_password=True)}")
    for size in args.sizes:
        run(size, args.due_percent, url)


if __name__ == "__main__":
    main()
