"""Every report over a big organisation: 1M tasks and 100k cases (issue 17: under 1 s).

    python -m bench.reports [--tasks 1000000] [--cases 100000] [--requests 5] [--reuse]
    python -m bench.reports --backend sqlite --tasks 400 --cases 40 --requests 1

A database (PostgreSQL `flowdesk_bench_reports`, or FLOWDESK_BENCH_DATABASE_URL; SQLite
in a temporary file) with the shipped processes, 10 staff and a supervisor per
department, and the cases of a year (2026): half complaints of complaint_handling (its
seven user tasks, a fifth reopened once and worked again, return visits scored by
staff, a third answered by the customer on a survey link), half leads of
lead_follow_up (assignment, follow-ups, contract, onboarding; stages entered, lost
leads with their reasons), about N task rows in all: most completed with a working
time, a running case's last task open, a cancelled one's cancelled; due times of 8–48
working hours, the late ones breached and escalated up to level 3, a tenth paused
(some paused now). On PostgreSQL the task table is then put in creation order
(CLUSTER on `ix_task_created`), the order a live table writes its tasks in.
`--reuse` keeps a database already filled with the same sizes.

Then each report function and each section of the /reports page read `--requests`
times over the whole year and over one month (June), all departments, as the
executive `gm`: median and p95 in ms, and a table of them at the end.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.engine import make_url

from bench.sla_sweep import ROOT, fresh_database
from bench.version_stats import _fresh_sqlite, _timed

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/flowdesk_bench_reports"
YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)
YEAR_DAYS = 330  # cases start from January to late November 2026
PERIODS = {
    "year": (date(2026, 1, 1), date(2026, 12, 31)),
    "month": (date(2026, 6, 1), date(2026, 6, 30)),
}
PROJECTS = ("翠湖天地", "滨江一号", "云栖府", "西溪里", "湖畔花园", "望京府", "海棠湾", "锦绣城")
CATEGORIES = ("quality", "facilities", "property_service", "sales_promise", "contract", "other")
CHANNELS = ("hotline", "email", "web", "walk_in", "wechat", None)
LOST_REASONS = (
    "price",
    "layout",
    "location",
    "planning",
    "competitor",
    "financing",
    "no_response",
    "other",
)
COMPLAINT_STEPS = (  # element, name, department (None: the responsible department)
    ("acknowledge_complaint", "首次响应", "customer_service"),
    ("site_survey", "现场勘查", None),
    ("propose_solution", "提出处理方案", None),
    ("approve_solution", "方案审核", "customer_service"),
    ("execute_fix", "整改实施", None),
    ("confirm_resolution", "完工确认", "customer_service"),
    ("return_visit", "回访", "customer_service"),
)
REOPENED_STEPS = COMPLAINT_STEPS[4:]
LEAD_STEPS = {
    "assign_consultant": ("分配置业顾问", "sales"),
    "follow_up": ("跟进", "sales"),
    "sign_contract": ("签约", "sales"),
    "owner_onboarding": ("业主入住欢迎", "customer_service"),
    "referral_reward": ("推荐奖励", "customer_service"),
}
BATCH = 5000


def _users() -> dict[str, list[str]]:
    """Create 10 staff and a supervisor per department and the executive `gm`; return
    the staff's usernames by department."""
    from engine.db import unit_of_work
    from engine.departments import department_codes
    from engine.identity import create_user, use_low_cost_hashing_for_tests

    use_low_cost_hashing_for_tests()
    staff: dict[str, list[str]] = {}
    with unit_of_work() as s:
        for dept in department_codes():
            staff[dept] = []
            for i in range(10):
                name = f"{dept}_{i}"
                create_user(
                    s, username=name, password="bench-pass-1", roles=["staff"], department=dept
                )
                staff[dept].append(name)
            create_user(
                s,
                username=f"{dept}_sup",
                password="bench-pass-1",
                roles=["supervisor"],
                department=dept,
            )
        create_user(s, username="gm", password="bench-pass-1", roles=["executive"])
    return staff


class _Writer:
    """Rows in batches: when one table has BATCH rows waiting, every table's rows are
    inserted in one transaction, parents first (the order tables were first added)."""

    def __init__(self) -> None:
        self.rows: dict[Any, list[dict[str, Any]]] = {}
        self.counts: dict[str, int] = {}

    def add(self, table: Any, row: dict[str, Any]) -> None:
        rows = self.rows.setdefault(table, [])
        rows.append(row)
        if len(rows) >= BATCH:
            self.flush()

    def flush(self) -> None:
        from engine.db import unit_of_work

        with unit_of_work() as s:
            for table, rows in self.rows.items():
                if rows:
                    s.execute(insert(table), rows)
                    name = table.__tablename__
                    self.counts[name] = self.counts.get(name, 0) + len(rows)
                    self.rows[table] = []


class _Clock:
    """A task's times: created, due after 8–48 working hours, done after its duration."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def task(self, started: datetime) -> dict[str, Any]:
        rng = self.rng
        hours = rng.expovariate(1 / 14) + 0.2
        sla = rng.choice((8, 16, 24, 48))
        done = started + timedelta(hours=hours)
        late = hours > sla
        level = 0
        if late:
            roll = rng.random()
            level = 1 if roll < 0.6 else 2 if roll < 0.9 else 3
        paused = int(rng.expovariate(1 / 7200)) if rng.random() < 0.1 else 0
        return {
            "created_at": started,
            "due_at": started + timedelta(hours=sla),
            "completed_at": done,
            "working_seconds": int(hours * 3600),
            "sla_status": "breached" if late else "on_track",
            "escalation_level": level,
            "paused_seconds": paused,
            "sla_calendar": "standard",
        }


def _task(
    rows: _Writer,
    rng: random.Random,
    times: dict[str, Any],
    *,
    instance_id: str,
    n: int,
    process_key: str,
    element: str,
    name: str,
    department: str,
    who: str,
    state: str,
    submitted: dict[str, Any] | None = None,
) -> None:
    from engine.models import Task

    row = {
        "id": str(uuid.UUID(int=(int(uuid.UUID(instance_id)) << 8) + n)),
        "instance_id": instance_id,
        "process_key": process_key,
        "element_id": element,
        "name": name,
        "department": department,
        "assignee": who,
        "state": state,
        "submitted": submitted,
        "paused_at": None,
        **times,
    }
    if state == "completed":
        row["completed_by"] = who
    else:
        row["completed_at"] = None
        row["working_seconds"] = None
        row["completed_by"] = None
        if state == "open":  # still running: breached only when due already
            row["sla_status"] = "on_track" if rng.random() < 0.7 else "breached"
            row["escalation_level"] = 0 if row["sla_status"] == "on_track" else 1
            row["paused_at"] = times["created_at"] + timedelta(hours=1) if n % 10 == 3 else None
    rows.add(Task, row)


def _populate(tasks: int, cases: int) -> None:
    import crm
    from crm.models import Customer
    from engine.db import unit_of_work
    from engine.definitions import deploy_folder, get_version
    from engine.identity import SYSTEM
    from engine.models import Instance
    from engine.scorecards import rebuild_credits

    with unit_of_work() as s:
        deploy_folder(s, folder=ROOT / "processes", actor=SYSTEM)
        keys = ("complaint_handling", "lead_follow_up")
        versions = {key: get_version(s, key, 1).id for key in keys}
    staff = _users()
    departments = list(staff)
    rng = random.Random(17)
    clock = _Clock(rng)
    rows = _Writer()
    n_customers = max(1, cases * 6 // 10)
    for i in range(n_customers):
        at = YEAR_START - timedelta(days=rng.randint(1, 900))
        rows.add(
            Customer,
            {"name": f"客户{i}", "phone": f"139{i:08d}", "created_at": at, "updated_at": at},
        )
    rows.flush()
    # Complaints: 7 tasks, 10 when reopened (a fifth), fewer when still running or
    # cancelled (6.6 on average); leads make up the rest of N.
    complaints = cases // 2
    lead_tasks = max(1, (tasks - complaints * 6.6) / max(1, cases - complaints))
    for c in range(cases):
        instance_id = str(uuid.UUID(int=c + 1))
        started = YEAR_START + timedelta(minutes=rng.randint(0, YEAR_DAYS * 24 * 60))
        roll = rng.random()
        status = "completed" if roll < 0.7 else "running" if roll < 0.95 else "cancelled"
        is_complaint = c < complaints
        key = "complaint_handling" if is_complaint else "lead_follow_up"
        rows.add(
            Instance,
            {
                "id": instance_id,
                "process_key": key,
                "version_id": versions[key],
                "version": 1,
                "status": status,
                "variables": {},
                "workflow_state": "",
                "serializer_version": "1.5",
                "started_at": started,
                "lock_version": 1,
            },
        )
        customer = rng.randint(1, n_customers)
        if is_complaint:
            _complaint(rows, rng, clock, staff, departments, instance_id, started, status, customer)
        else:
            _lead(rows, rng, clock, staff, instance_id, started, status, customer, lead_tasks)
    rows.flush()
    crm.install()  # its rating sources: the credits of the scorecards, as the steps write them
    with unit_of_work() as s:
        rows.counts["rating_credit"] = rebuild_credits(s)
    print("  rows: " + ", ".join(f"{n} {t}" for t, n in sorted(rows.counts.items())))


def _complaint(
    rows: _Writer,
    rng: random.Random,
    clock: _Clock,
    staff: dict[str, list[str]],
    departments: list[str],
    instance_id: str,
    started: datetime,
    status: str,
    customer: int,
) -> None:
    from crm.models import Complaint, SurveyLink

    responsible = rng.choice(("engineering", "engineering", "property", *departments))
    reopened = rng.random() < 0.2
    steps = list(COMPLAINT_STEPS) + (list(REOPENED_STEPS) if reopened else [])
    if status != "completed":  # stopped at some step
        steps = steps[: rng.randint(1, len(steps))]
    at = started
    last_score = None
    visited = None
    for n, (element, name, dept) in enumerate(steps):
        dept = dept or responsible
        last = n == len(steps) - 1
        state = "completed"
        if last and status == "running":
            state = "open"
        elif last and status == "cancelled":
            state = "cancelled"
        times = clock.task(at)
        submitted: dict[str, Any] = {}
        if element == "return_visit" and state == "completed":
            if rng.random() < 0.95:  # a few visits recorded no score
                last_score = rng.choices((1, 2, 3, 4, 5), (4, 6, 15, 35, 40))[0]
                submitted = {"satisfaction": last_score}
            visited = times["completed_at"]
        _task(
            rows,
            rng,
            times,
            instance_id=instance_id,
            n=n,
            process_key="complaint_handling",
            element=element,
            name=name,
            department=dept,
            who=rng.choice(staff[dept]),
            state=state,
            submitted=submitted,
        )
        at = times["completed_at"]
    closed = status == "completed"
    rows.add(
        Complaint,
        {
            "instance_id": instance_id,
            "customer_id": customer,
            # A few (one in 180) without a project.
            "project": rng.choice((*PROJECTS, None) if rng.random() < 0.05 else PROJECTS),
            "unit": f"{rng.randint(1, 30)}-{rng.randint(101, 3202)}",
            "category": rng.choice(CATEGORIES),
            "severity": rng.choice(("urgent", "high", "normal", "normal")),
            "channel": rng.choice(CHANNELS),
            "description": "漏水",
            "responsible_department": responsible if rng.random() < 0.97 else None,
            "status": {"completed": "closed", "running": "open"}.get(status, "cancelled"),
            "satisfaction": last_score,
            "reopen_count": 1 if reopened and len(steps) > len(COMPLAINT_STEPS) else 0,
            "created_at": started,
            "closed_at": at if closed else None,
        },
    )
    if visited is not None and rng.random() < 0.45:
        answered = rng.random() < 0.75
        rows.add(
            SurveyLink,
            {
                "token_hash": uuid.UUID(instance_id).hex * 2,
                "instance_id": instance_id,
                "created_by": staff["customer_service"][0],
                "created_at": visited,
                "expires_at": visited + timedelta(days=14),
                "answered_at": visited + timedelta(hours=rng.randint(1, 72)) if answered else None,
                "score": rng.choices((1, 2, 3, 4, 5), (5, 5, 15, 30, 45))[0] if answered else None,
            },
        )


def _lead(
    rows: _Writer,
    rng: random.Random,
    clock: _Clock,
    staff: dict[str, list[str]],
    instance_id: str,
    started: datetime,
    status: str,
    customer: int,
    mean_tasks: float,
) -> None:
    from crm.models import Lead, LeadStage

    consultant = rng.choice(staff["sales"])
    # How far it got: visitor → prospect → near_close → won → owner, or lost on the way.
    furthest = rng.choices((0, 1, 2, 3, 4), (40, 25, 15, 8, 12))[0]
    lost = status == "completed" and furthest < 3
    outcome = {"running": "open", "cancelled": "cancelled"}.get(status, "lost" if lost else "won")
    if outcome == "won":
        furthest = max(furthest, 3)
    tail = ["sign_contract"] if furthest >= 3 else []
    tail += ["owner_onboarding", "referral_reward"] if furthest >= 4 else []
    follow_ups = max(1, round(rng.uniform(0.4, 1.6) * (mean_tasks - 1 - len(tail))))
    steps = ["assign_consultant", *["follow_up"] * follow_ups, *tail]
    stage_times: list[datetime] = []
    at = started
    for n, element in enumerate(steps):
        last = n == len(steps) - 1
        state = "completed"
        if last and status == "running":
            state = "open"
        elif last and status == "cancelled":
            state = "cancelled"
        times = clock.task(at)
        name, dept = LEAD_STEPS[element]
        _task(
            rows,
            rng,
            times,
            instance_id=instance_id,
            n=n,
            process_key="lead_follow_up",
            element=element,
            name=name,
            department=dept,
            who=consultant if dept == "sales" else rng.choice(staff[dept]),
            state=state,
        )
        stage_times.append(times["created_at"])
        at = times["completed_at"]
    stages = ["visitor", "prospect", "near_close", "won", "owner"][: furthest + 1]
    if lost:
        stages.append("lost")
    lead_id = int(uuid.UUID(instance_id))  # the instance number: ids unique
    # The stages entered at task starts spread over the lead's tasks.
    last = len(stage_times) - 1
    spaced = [stage_times[min(last, k * len(steps) // len(stages))] for k in range(len(stages))]
    rows.add(
        Lead,
        {
            "id": lead_id,
            "instance_id": instance_id,
            "customer_id": customer,
            "project": rng.choice(PROJECTS),
            "source": rng.choice(("walk_in", "phone", "web", "referral", "event")),
            "stage": stages[-1],
            "consultant": consultant if rng.random() < 0.97 else None,
            "lost_reason": rng.choice(LOST_REASONS) if lost and rng.random() < 0.95 else None,
            "outcome": outcome,
            "created_at": started,
            "closed_at": at if status == "completed" else None,
        },
    )
    for stage, entered in zip(stages, spaced, strict=True):
        rows.add(LeadStage, {"lead_id": lead_id, "stage": stage, "at": entered, "by": consultant})


# ---------------------------------------------------------------- the readings


def _page(session: Any, actor: Any) -> Any:
    """A /reports page of `gm` in Chinese, without a request of the web server."""
    from starlette.requests import Request

    from api.web.kit import Page
    from api.web.session import PageSession

    request = Request({"type": "http", "method": "GET", "path": "/reports", "headers": []})
    return Page(
        request=request,
        language="zh-CN",
        csrf="",
        session=session,
        actor=actor,
        signed_in=PageSession(user_id=0, session_id="", csrf=""),
    )


def readings() -> dict[str, Callable[[Any, Any, Any], Any]]:
    """Each report, as a call of (session, actor, filters of the page)."""
    import crm
    import crm.web.reports_sections as crm_sections
    from api.web import reports as page_reports
    from crm import funnel, satisfaction
    from engine import reports, scorecards, version_stats

    crm.install()

    def period(filters: Any) -> dict[str, Any]:
        return {"since": filters.start(), "until": filters.end()}

    def section(maker: Callable[..., Any]) -> Callable[[Any, Any, Any], Any]:
        return lambda s, actor, filters: maker(_page(s, actor), filters)

    found: dict[str, Callable[[Any, Any, Any], Any]] = {
        "sla_report": lambda s, a, f: reports.sla_report(s, actor=a, **period(f)),
        "bottleneck_tasks": lambda s, a, f: reports.bottleneck_tasks(s, actor=a, **period(f)),
        "scorecards per person": lambda s, a, f: scorecards.scorecards(s, actor=a, **period(f)),
        "scorecards per department": lambda s, a, f: scorecards.scorecards(
            s, actor=a, group_by="department", **period(f)
        ),
        "funnel_report": lambda s, a, f: funnel.funnel_report(s, actor=a, **period(f)),
    }
    for group in ("project", "department", "category"):
        found[f"satisfaction by {group}"] = lambda s, a, f, g=group: (
            satisfaction.satisfaction_report(s, actor=a, group_by=g, **period(f))
        )
    for key in ("complaint_handling", "lead_follow_up"):
        found[f"version_stats {key}"] = lambda s, a, f, k=key: version_stats.version_stats(
            s, actor=a, key=k, version=1
        )
    found |= {
        "page: sla section": section(page_reports.sla_section),
        "page: funnel section": section(crm_sections.funnel_section),
        "page: lost leads section": section(crm_sections.lost_leads_section),
        "page: complaints section": section(crm_sections.complaints_section),
        "page: satisfaction section": section(crm_sections.satisfaction_section),
    }
    return found


def measure(requests: int) -> list[tuple[str, str, float, float]]:
    """Time every reading over each period; print and return (report, period, median, p95)."""
    from api.web.reports import Filters
    from engine.db import unit_of_work
    from engine.identity import Actor

    gm = Actor("gm", frozenset({"executive"}))
    results = []
    for name, call in readings().items():
        for label, (since, until) in PERIODS.items():
            if name.startswith("version_stats") and label == "month":
                continue  # the heat map has no period: a version's instances
            filters = Filters(since=since, until=until)

            def read(call: Callable[[Any, Any, Any], Any] = call, filters: Any = filters) -> None:
                with unit_of_work(write=False) as s:
                    assert call(s, gm, filters) is not None

            read()  # warm: parsed versions and forms are cached after the first read
            median, p95 = _timed(read, requests)
            print(f"  {name:<34} {label:<6} median {median:8.1f} ms   p95 {p95:8.1f} ms")
            results.append((name, label if not name.startswith("version") else "-", median, p95))
    return results


def _filled(tasks: int, cases: int) -> bool:
    """Tell whether the database holds a dataset of these sizes already (--reuse)."""
    from engine.db import unit_of_work
    from engine.models import Instance, Task

    try:
        with unit_of_work(write=False) as s:
            found = s.scalar(select(func.count()).select_from(Instance))
            task_rows = s.scalar(select(func.count()).select_from(Task)) or 0
    except Exception:  # noqa: BLE001 - no schema yet
        return False
    return found == cases and abs(task_rows - tasks) < max(50, tasks // 20)


def _point_at(url: str) -> None:
    from engine.config import get_settings
    from engine.db import dispose_engines

    os.environ["FLOWDESK_DATABASE_URL"] = url
    get_settings.cache_clear()
    dispose_engines()


def run(url: str, tasks: int, cases: int, requests: int, *, reuse: bool) -> list[Any]:
    """Fill the database at `url` (unless --reuse finds it filled) and time the reports."""
    from engine.db import get_engine
    from engine.migrations import upgrade_database

    postgres = url.startswith("postgresql")
    _point_at(url)
    if reuse and _filled(tasks, cases):
        upgrade_database()  # the indexes of newer migrations, on the data kept
        print(f"  reusing the {cases} cases already there")
    else:
        fresh_database(url) if postgres else _fresh_sqlite(url)
        started = time.perf_counter()
        _populate(tasks, cases)
        print(f"  written in {time.perf_counter() - started:.1f} s")
        if postgres:  # in creation order, as a live table has them (written case by case here)
            with get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.exec_driver_sql("CLUSTER task USING ix_task_created")
    if postgres:
        with get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    return measure(requests)


def _table(results: list[Any]) -> Iterator[str]:
    yield f"  {'report':<34} {'period':<6} {'median ms':>10} {'p95 ms':>10}"
    for name, label, median, p95 in results:
        yield f"  {name:<34} {label:<6} {median:>10.0f} {p95:>10.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=5)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--reuse", action="store_true", help="keep a database already filled")
    parser.add_argument("--sqlite-file", help="the SQLite file (default: a temporary one)")
    args = parser.parse_args()
    if args.backend == "sqlite":
        path = args.sqlite_file or Path(tempfile.mkdtemp(prefix="flowdesk-bench-")) / "flowdesk.db"
        url = f"sqlite:///{path}"
    else:
        url = os.environ.get("FLOWDESK_BENCH_DATABASE_URL", DEFAULT_URL)
    where = make_url(url).render_as_string(hide_password=True)
    print(f"reports on {where} ({args.tasks} tasks, {args.cases} cases)")
    results = run(url, args.tasks, args.cases, args.requests, reuse=args.reuse)
    print(f"reports, {args.requests} reads each (ms):")
    for line in _table(results):
        print(line)


if __name__ == "__main__":
    main()
