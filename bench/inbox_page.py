"""Inbox pages and the list APIs with many open tasks on PostgreSQL.

    python -m bench.inbox_page [--tasks 10000 100000 1000000] [--requests 30] [--reuse]
                               [--one-size-at-a-time]

For each size N, a database (`flowdesk_bench_<N>`, or FLOWDESK_BENCH_DATABASE_URL with
`_<N>` appended to its name) with the shipped processes, the demo-sized organisation
and N open tasks (one per case, spread over the five departments, 10% breached and
escalated one to three levels, 5% at risk, 1% of them a rarer step; customers,
complaints and case facts linked; N/10 completed tasks besides), then every inbox
view — each tab, filter and search of the page, through the whole app (session cookie,
templates) — and `GET /api/v1/tasks` (every scope and filter of CONTRACT.md) and
`GET /api/v1/customers?q=` (whole phone, last four digits, name), through the API
with a bearer token: median and p95 per view, and the change of the p95 from the
second-largest size to the largest.

Each view's first request is timed and printed apart ("first"): it reads what no
earlier view read, from the disk when other databases have since filled the page
cache (seen: 260 ms, then 207, 122, 84 for the next ones, then 40). Two more
requests warm it untimed; the median and p95 are of the `--requests` after them,
the steady state a user of a running server sees.

With several sizes, each size's database gets a process of its own with the app
started on it, and each view's requests go in turns — one on each size, the order
turning every round — so the machine's changes of speed fall on every size alike and
the growth printed is the data's, not the minute's (`--one-size-at-a-time`: every
view on one size, then the next, in this process).

`--reuse` keeps a database that already holds N open tasks (built by an earlier run)
and only migrates it to the newest revision: a million rows are written once.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import statistics
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, text
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
        create_user(s, username="gm", password="bench-pass", roles=["executive"])
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
        # One open task per case: 1% at a rarer step (a filter that finds few), 10%
        # breached and escalated one to three levels, 5% at risk; every 7th claimed.
        conn.execute(
            text("""
            INSERT INTO task (id, instance_id, process_key, element_id, name, department,
                assignee, state, created_at, due_at, sla_status, escalation_level,
                sla_calendar, escalation_ladder, warn_at, next_sla_at)
            SELECT md5('t' || g)::uuid::text, md5('i' || g)::uuid::text,
                'complaint_handling',
                CASE WHEN g % 100 = 1 THEN 'return_visit' ELSE 'site_survey' END,
                CASE WHEN g % 100 = 1 THEN '回访' ELSE '现场勘查' END,
                (ARRAY['sales','customer_service','property','engineering','cost_contracts'])
                    [1 + g % 5],
                CASE WHEN g % 7 = 0 THEN (ARRAY['sales','customer_service','property',
                    'engineering','cost_contracts'])[1 + g % 5] || '_1' END,
                'open', :t - interval '3 days',
                :t + ((g % 200) - 20) * interval '1 hour',
                CASE WHEN g % 10 = 0 THEN 'breached' WHEN g % 20 = 3 THEN 'at_risk'
                    ELSE 'on_track' END,
                CASE WHEN g % 10 = 0 THEN 1 + (g / 10) % 3 ELSE 0 END,
                'standard', 'complaint', :t, NULL
            FROM generate_series(1, :n) AS g"""),
            params,
        )
        # N/10 completed tasks: the first step of the first tenth of the cases.
        conn.execute(
            text("""
            INSERT INTO task (id, instance_id, process_key, element_id, name, department,
                assignee, state, created_at, due_at, sla_status, escalation_level,
                sla_calendar, escalation_ladder, completed_at, completed_by, working_seconds)
            SELECT md5('c' || g)::uuid::text, md5('i' || g)::uuid::text,
                'complaint_handling', 'acknowledge_complaint', '首次响应',
                'customer_service', 'customer_service_1', 'completed',
                :t - interval '4 days', :t - interval '3 days' - (g % 48) * interval '1 hour',
                'on_track', 0, 'standard', 'complaint', :t - interval '3 days',
                'customer_service_1', 3600
            FROM generate_series(1, :n / 10) AS g"""),
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


def _token(client, username: str) -> str:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/auth/token", data={"username": username, "password": "bench-pass"})
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def _database_for(url: str, n: int) -> str:
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{n}").render_as_string(hide_password=False)


def _open_tasks(url: str) -> int | None:
    """Return the open tasks of the bench database at `url` (None: no such database)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(text("SELECT count(*) FROM task WHERE state = 'open'")).scalar_one()
            )
    except Exception:  # noqa: BLE001 - missing database or tables: build it
        return None
    finally:
        engine.dispose()


def _use_database(url: str) -> None:
    """Point flowdesk at an existing bench database and migrate it to the newest revision."""
    from engine.config import get_settings
    from engine.db import dispose_engines
    from engine.migrations import upgrade_database

    os.environ["FLOWDESK_DATABASE_URL"] = url
    get_settings.cache_clear()
    dispose_engines()
    upgrade_database()
    with contextlib.closing(create_engine(url).connect()) as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))


# (who, path): each tab, filter and search of the inbox page.
PAGES = [
    ("engineering_1", "/inbox"),
    ("engineering_1", "/inbox?tab=department"),
    ("engineering_1", "/inbox?tab=mine"),
    ("engineering_sup", "/inbox?tab=escalated"),
    ("customer_service_sup", "/inbox?tab=escalated"),
    ("gm", "/inbox?tab=escalated"),
    ("engineering_sup", "/inbox?tab=all"),
    ("engineering_sup", "/inbox?tab=all&page_no=200"),
    ("engineering_1", "/inbox?tab=department&sla=breached"),
    ("engineering_1", "/inbox?tab=department&sla=at_risk"),
    ("engineering_1", "/inbox?tab=department&project=云山府"),
    ("engineering_1", "/inbox?tab=department&process=lead_follow_up"),
    ("engineering_1", "/inbox?tab=department&element=return_visit"),
    ("engineering_1", "/inbox?tab=department&sla=breached&project=云山府"),
    # the same filters where they find thousands (the breached tasks are the sales
    # department's): the bounded count reads until its limit
    ("sales_1", "/inbox?tab=department&sla=breached&project=云山府"),
    ("engineering_1", "/inbox?tab=department&q=13900012348"),
    ("engineering_1", "/inbox?tab=department&q=2348"),
    ("engineering_1", "/inbox?tab=department&q=客户4243"),
    ("engineering_1", "/inbox?tab=department&q=TS-0004243"),
    ("engineering_sup", "/inbox?tab=all&q=客户4243"),
    ("engineering_sup", "/inbox?tab=all&sla=breached"),
    ("engineering_sup", "/inbox?tab=all&project=湖畔花园"),
]

# (who, path): every scope and filter of GET /tasks, and GET /customers?q=.
API = [
    ("engineering_1", "/api/v1/tasks"),
    ("engineering_1", "/api/v1/tasks?scope=department"),
    ("engineering_1", "/api/v1/tasks?scope=department&overdue=true"),
    ("engineering_1", "/api/v1/tasks?scope=department&state=completed"),
    ("engineering_1", "/api/v1/tasks?scope=department&state=any"),
    ("engineering_1", "/api/v1/tasks?scope=department&process_key=lead_follow_up"),
    ("engineering_1", "/api/v1/tasks?scope=department&element_id=return_visit"),
    ("engineering_1", "/api/v1/tasks?scope=department&instance_id=INSTANCE"),
    ("engineering_1", "/api/v1/tasks?scope=department&offset=5000"),
    ("engineering_1", "/api/v1/tasks?scope=mine&overdue=true"),
    ("engineering_sup", "/api/v1/tasks?scope=escalated"),
    ("customer_service_sup", "/api/v1/tasks?scope=escalated"),
    ("gm", "/api/v1/tasks?scope=escalated"),
    ("engineering_sup", "/api/v1/tasks?scope=all"),
    ("engineering_sup", "/api/v1/tasks?scope=all&overdue=true"),
    ("engineering_sup", "/api/v1/tasks?scope=all&state=completed"),
    ("engineering_sup", "/api/v1/tasks?scope=all&state=any"),
    ("engineering_sup", "/api/v1/tasks?scope=all&process_key=lead_follow_up"),
    ("engineering_sup", "/api/v1/tasks?scope=all&element_id=return_visit"),
    ("engineering_sup", "/api/v1/tasks?scope=all&instance_id=INSTANCE"),
    ("customer_service_1", "/api/v1/customers?q=13900012348"),
    ("customer_service_1", "/api/v1/customers?q=%2B86%20139%200001%202348"),
    ("customer_service_1", "/api/v1/customers?q=2348"),
    ("customer_service_1", "/api/v1/customers?q=客户4243"),
    ("customer_service_1", "/api/v1/customers?q=客户42"),
    ("customer_service_1", "/api/v1/customers?q=TS-0004243"),
]


class _Views:
    """The views of one database, timed one request at a time on a whole app
    (TestClient: session cookie, templates), signed in as each view's user."""

    def __init__(self, n: int) -> None:
        from fastapi.testclient import TestClient

        from api.app import create_app
        from engine import clock

        clock.set_global_time(T + timedelta(minutes=5))
        self.instance = md5_uuid(f"i{min(n, 4243)}")
        self.client = TestClient(create_app(), follow_redirects=False)
        self.client.__enter__()
        self.tokens: dict[str, str] = {}
        self.signed = ""
        self.view: tuple[str, dict[str, str]] = ("", {})

    def open(self, index: int) -> float:
        """Make `VIEWS[index]` the current view: sign its user in, time its first
        request (printed apart, see above) and warm it with two more."""
        user, path = VIEWS[index]
        path = path.replace("INSTANCE", self.instance)
        headers = {}
        if path.startswith("/api/"):
            if user not in self.tokens:
                self.tokens[user] = _token(self.client, user)
            headers = {"Authorization": f"Bearer {self.tokens[user]}"}
        elif user != self.signed:
            self.client.cookies.clear()
            _signed_in(self.client, user)
            self.signed = user
        self.view = (path, headers)
        first = self.time()
        for _ in range(2):
            self.time()
        return first

    def time(self) -> float:
        """One request of the current view, in ms."""
        path, headers = self.view
        t0 = time.perf_counter()
        r = self.client.get(path, headers=headers)
        took = (time.perf_counter() - t0) * 1000
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
        return took

    def close(self) -> None:
        from engine import clock

        self.client.__exit__(None, None, None)
        clock.set_global_time(None)


VIEWS = PAGES + API


def _summary(times: list[float]) -> tuple[float, float]:
    """Median and p95 of `times` (ms)."""
    ordered = sorted(times)
    return statistics.median(ordered), ordered[max(0, -(-len(ordered) * 95 // 100) - 1)]


def _print_view(n: int, index: int, got: tuple[float, float], first: float) -> None:
    user, path = VIEWS[index]
    print(
        f"  {n:>9,}  {user:20} {path:58} median {got[0]:7.1f} ms"
        f"  p95 {got[1]:7.1f} ms  first {first:7.1f} ms",
        flush=True,
    )


def _time_views(n: int, requests: int) -> dict[str, tuple[float, float]]:
    """Every view of the one database flowdesk points at, one view after the other."""
    views = _Views(n)
    out: dict[str, tuple[float, float]] = {}
    try:
        for index, (user, path) in enumerate(VIEWS):
            first = views.open(index)
            out[f"{user} {path}"] = got = _summary([views.time() for _ in range(requests)])
            _print_view(n, index, got, first)
    finally:
        views.close()
    return out


def _serve_views(n: int) -> None:
    """The child of `_time_interleaved` for one database: `open I` makes view I current
    and answers its first request's ms, `time` answers one more request's ms."""
    import sys

    views = _Views(n)
    try:
        for line in sys.stdin:
            word, *rest = line.split()
            if word == "open":
                answer = views.open(int(rest[0]))
            elif word == "time":
                answer = views.time()
            else:
                break
            print(f"{answer:.3f}", flush=True)
    finally:
        views.close()


class _Child:
    """A process serving the views of one size's database (`--serve-views`)."""

    def __init__(self, n: int, url: str) -> None:
        import subprocess
        import sys

        env = dict(os.environ, FLOWDESK_DATABASE_URL=url)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.inbox_page", "--serve-views", str(n)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )

    def ask(self, line: str) -> float:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        if not answer:
            raise RuntimeError(f"the views' process ended ({self.proc.wait()})")
        return float(answer)

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def _time_interleaved(
    urls: dict[int, str], requests: int
) -> dict[int, dict[str, tuple[float, float]]]:
    """Every view on every size at once: one process per database, and each view's
    requests taken in turns — one on each size, the next round in the next order — so
    that a change of the machine's speed (seen here: a third from one minute to the
    next) falls on every size alike instead of on whichever was measured then."""
    children = {n: _Child(n, url) for n, url in urls.items()}
    sizes = list(children)
    out: dict[int, dict[str, tuple[float, float]]] = {n: {} for n in sizes}
    try:
        for index, (user, path) in enumerate(VIEWS):
            firsts = {n: children[n].ask(f"open {index}") for n in sizes}
            times: dict[int, list[float]] = {n: [] for n in sizes}
            for round_ in range(requests):
                shift = round_ % len(sizes)
                for n in sizes[shift:] + sizes[:shift]:
                    times[n].append(children[n].ask("time"))
            for n in sizes:
                out[n][f"{user} {path}"] = got = _summary(times[n])
                _print_view(n, index, got, firsts[n])
    finally:
        for child in children.values():
            child.close()
    return out


def md5_uuid(value: str) -> str:
    """The bench's ids: md5(value)::uuid::text, as the SQL writes them."""
    import hashlib
    import uuid

    return str(uuid.UUID(hashlib.md5(value.encode()).hexdigest()))


def _ready(url: str, n: int, *, reuse: bool) -> None:
    """Build the database of size `n` at `url` (or, with `reuse`, keep one that holds
    it) and point flowdesk at it."""
    shown = make_url(url).render_as_string(hide_password=True)
    if reuse and _open_tasks(url) == n:
        _use_database(url)
        print(f"inbox views on {shown}: {n:,} open tasks, reused", flush=True)
        return
    fresh_database(url)
    started = time.perf_counter()
    _populate(n)
    print(
        f"inbox views on {shown}: {n:,} open tasks written in "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )


def main(argv: list[str] | None = None) -> dict[int, dict[str, tuple[float, float]]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, nargs="+", default=[100_000])
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument(
        "--reuse", action="store_true", help="keep a database already holding N open tasks"
    )
    parser.add_argument(
        "--one-size-at-a-time",
        action="store_true",
        help="time every view on one size, then on the next (default with several "
        "sizes: each view's requests in turns across the sizes)",
    )
    parser.add_argument("--serve-views", type=int, help=argparse.SUPPRESS)  # the child
    args = parser.parse_args(argv)
    # A database server needs the key every process signs sessions and tokens with.
    os.environ.setdefault("FLOWDESK_SECRET_KEY", "bench-inbox-" + "k" * 40)
    os.environ.setdefault("FLOWDESK_GC_FREEZE", "1")  # the app starts as `flowdesk serve` starts it
    if args.serve_views is not None:
        _serve_views(args.serve_views)
        return {}
    base = os.environ.get("FLOWDESK_BENCH_DATABASE_URL", DEFAULT_URL)
    urls = {n: _database_for(base, n) for n in args.tasks}
    results: dict[int, dict[str, tuple[float, float]]] = {}
    if args.one_size_at_a_time or len(urls) == 1:
        for n, url in urls.items():
            _ready(url, n, reuse=args.reuse)
            results[n] = _time_views(n, args.requests)
    else:
        for n, url in urls.items():
            _ready(url, n, reuse=args.reuse)
        print("each view's requests in turns across the sizes", flush=True)
        results = _time_interleaved(urls, args.requests)
    _print_growth(results)
    return results


def _print_growth(results: dict[int, dict[str, tuple[float, float]]]) -> None:
    sizes = sorted(results)
    print(
        "\nmedian / p95 in ms per size"
        + (f"; change of the p95 {sizes[-2]:,} → {sizes[-1]:,}" if len(sizes) > 1 else "")
    )
    growths: list[float] = []
    for view in results[sizes[0]]:
        cells = "  ".join(f"{results[n][view][0]:6.1f} /{results[n][view][1]:6.1f}" for n in sizes)
        change = ""
        if len(sizes) > 1:
            before, after = results[sizes[-2]][view][1], results[sizes[-1]][view][1]
            growths.append(pct := (after - before) / before * 100)
            change = f"  {pct:+6.0f}%"
        print(f"  {view:80} {cells}{change}")
    slowest = max(results[sizes[-1]].items(), key=lambda item: item[1][1])
    print(f"slowest p95 at {sizes[-1]:,}: {slowest[1][1]:.1f} ms ({slowest[0]})")
    if growths:
        over = sum(1 for g in growths if g > 20)
        print(
            f"p95 growth {sizes[-2]:,} → {sizes[-1]:,}: largest {max(growths):+.0f}%, "
            f"median {statistics.median(growths):+.0f}%; {over} of {len(growths)} views over +20%"
        )


if __name__ == "__main__":
    main()
