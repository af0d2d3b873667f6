"""Inbox page render time with many open tasks on PostgreSQL.

    python -m bench.inbox_page [--tasks 100000] [--requests 30]

A fresh database (`flowdesk_bench`, or FLOWDESK_BENCH_DATABASE_URL) with the
shipped processes, the demo-sized organisation and N open tasks (one per case,
spread over the five departments, 10% breached, customers, complaints and
case facts linked), then the inbox pages requested through the whole app (session
cookie, templates) by a staff member and a supervisor: median and p95 per view.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.sla_sweep import DEFAULT_URL, ROOT, fresh_database

T = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def _populate(n: int) -> None:
    from engine.db import get_engine, unit_of_work
    from engine.definitions import deploy_folder
    from engine.departments import department_codes
    from engine.identity import SYSTEM, create_user

    with unit_of_work() as s:
        deploy_folder(s, folder=ROOT / "processes", actor=SYSTEM)
        for dept in department_codes():
            create_user(
                s, username=f"{dept}_1", password="bench-pass", roles=["staff"], department=dept
            )
            create_user(
                s,
                username=f"{dept}_sup",
                password="bench-pass",
                roles=["supervisor"],
                department=dept,
            )
    with get_engine().begin() as conn:
        version_id = conn.execute(
            text(
                "SELECT v.id FROM process_version v JOIN process_definition d "
                "ON d.id = v.definition_id WHERE d.key = 'complaint_handling'"
            )
        ).scalar_one()
        params = {"v": version_id, "t": T, "n": n}
        conn.execute(
            text("""
            INSERT INTO customer (id, name, phone, created_at, updated_at)
            SELECT g, '客户' || g, '139' || lpad(g::text, 8, '0'), :t, :t
            FROM generate_series(1, :n) AS g"""),
            params,
        )
        conn.execute(
            text("""
            INSERT INTO instance (id, process_key, version_id, version, business_key, status,
                variables, workflow_state, serializer_version, started_at, started_by,
                lock_version)
            SELECT md5('i' || g)::uuid::text, 'complaint_handling', :v, 1,
                'TS-' || lpad(g::text, 7, '0'), 'running',
                json_build_object('customer_name', '客户' || g,
                    'phone', '139' || lpad(g::text, 8, '0'),
                    'project', (ARRAY['滨江壹号','云山府','湖畔花园'])[1 + g % 3],
                    'unit', (g % 30) || '栋' || (g % 2000)),
                '', '1.5', :t - interval '3 days', 'bench', 1
            FROM generate_series(1, :n) AS g"""),
            params,
        )
        conn.execute(
            text("""
            INSERT INTO complaint (instance_id, customer_id, project, unit, category, severity,
                description, status, reopen_count, created_at)
            SELECT md5('i' || g)::uuid::text, g,
                (ARRAY['滨江壹号','云山府','湖畔花园'])[1 + g % 3], (g % 30) || '栋',
                'quality', 'normal', '漏水', 'open', 0, :t - interval '3 days'
            FROM generate_series(1, :n) AS g"""),
            params,
        )
        conn.execute(
            text("""
            INSERT INTO case_fact (instance_id, customer_name, phone, project, unit, customer_ref)
            SELECT md5('i' || g)::uuid::text, '客户' || g, '139' || lpad(g::text, 8, '0'),
                (ARRAY['滨江壹号','云山府','湖畔花园'])[1 + g % 3], (g % 30) || '栋' || (g % 2000),
                g::text
            FROM generate_series(1, :n) AS g"""),
            params,
        )
        conn.execute(
            text("""
            INSERT INTO task (id, instance_id, process_key, element_id, name, department,
                assignee, state, created_at, due_at, sla_status, escalation_level,
                sla_calendar, escalation_ladder, warn_at, next_sla_at)
            SELECT md5('t' || g)::uuid::text, md5('i' || g)::uuid::text,
                'complaint_handling', 'site_survey', '现场勘查',
                (ARRAY['sales','customer_service','property','engineering','cost_contracts'])
                    [1 + g % 5],
                CASE WHEN g % 7 = 0 THEN (ARRAY['sales','customer_service','property',
                    'engineering','cost_contracts'])[1 + g % 5] || '_1' END,
                'open', :t - interval '3 days',
                :t + ((g % 200) - 20) * interval '1 hour',
                CASE WHEN g % 10 = 0 THEN 'breached' ELSE 'on_track' END,
                CASE WHEN g % 10 = 0 THEN 1 ELSE 0 END,
                'standard', 'complaint', :t, NULL
            FROM generate_series(1, :n) AS g"""),
            params,
        )
    with get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def _signed_in(client, username: str) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    r = client.post(
        "/login",
        data={
            "username": username,
            "password": "bench-pass",
            "csrf_token": token,
            "next": "/inbox",
        },
    )
    assert r.status_code == 303, r.text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    url = os.environ.get("FLOWDESK_BENCH_DATABASE_URL", DEFAULT_URL)
    fresh_database(url)
    from fastapi.testclient import TestClient

    from api.app import create_app
    from engine import clock

    started = time.perf_counter()
    _populate(args.tasks)
    print(
        f"inbox pages on {make_url(url).render_as_string(hide_password=True)}: "
        f"{args.tasks:,} open tasks written in {time.perf_counter() - started:.1f} s"
    )
    clock.set_global_time(T + timedelta(minutes=5))
    views = [
        ("engineering_1", "/inbox?tab=department"),
        ("engineering_1", "/inbox?tab=mine"),
        ("engineering_sup", "/inbox?tab=escalated"),
        ("engineering_sup", "/inbox?tab=all"),
        ("engineering_sup", "/inbox?tab=all&page_no=200"),
        ("engineering_1", "/inbox?tab=department&sla=breached"),
        ("engineering_1", "/inbox?tab=department&project=云山府"),
        ("engineering_1", "/inbox?tab=department&q=13900012345"),
        ("engineering_1", "/inbox?tab=department&q=客户4242"),
    ]
    with TestClient(create_app(), follow_redirects=False) as client:
        signed: set[str] = set()
        for user, path in views:
            if user not in signed:
                client.cookies.clear()
                _signed_in(client, user)
                signed = {user}
            times = []
            for _ in range(args.requests):
                t0 = time.perf_counter()
                r = client.get(path)
                times.append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 200, (path, r.status_code)
            times.sort()
            p95 = times[int(len(times) * 0.95) - 1]
            print(
                f"  {user:16} {path:48} median {statistics.median(times):6.1f} ms"
                f"  p95 {p95:6.1f} ms"
            )


if __name__ == "__main__":
    main()
