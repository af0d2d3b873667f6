"""API throughput side by side: completions per second through real HTTP, every SQL
statement a completion sends (by kind and table), and in the same run the floors and
peers: raw SpiffWorkflow in-process, the database's single-row commit rate (pgbench on
PostgreSQL), a spiff-arena figure when given, and the cost growth with open tasks.

    python -m bench.api_throughput --runs 3                     # SQLite and PostgreSQL
    python -m bench.api_throughput --backend postgresql --runs 3 --peer-spiff-arena 23.7
    python -m bench.api_throughput --backend postgresql --growth 10000,100000,1000000 --reuse

What it does, per backend:

1. statements: a server with a statement counter inside (`bench.counted_app`, one API
   process) serves the two-lane workload; every statement of the measured completions is
   counted by kind (SELECT/INSERT/UPDATE/DELETE/BEGIN/COMMIT/ROLLBACK/other) and table,
   from PostgreSQL's own log (`log_statement = 'all'` on the bench database only, reset
   afterwards) and from a SQLAlchemy engine event in the server process; printed per
   completion. The log also sees the pool's ping and psycopg's BEGIN.
2. the floors: raw SpiffWorkflow (load state → complete the user task → serialize → save
   the row → commit, `bench/spiff_floor.py`) with SpiffWorkflow's stock serializer and
   with the state-only one; the database's single-row commit rate (pgbench with 1 and 4
   clients; SQLite: sqlite3 INSERT+COMMIT).
3. flowdesk through `flowdesk serve`: SQLite 1 client on 1 API process; PostgreSQL 1, 2
   and 4 clients on 2 API processes. Beside each figure: the CPU the API processes, all
   `postgres` processes and the whole machine used over the measured window (cores).
4. `--growth`: grow the database to each number of open tasks in turn (bulk copies of a
   running instance) and measure 1 client again; prints the change from step to step.

Every figure is min / median / max over `--runs`. Prints; asserts nothing.
PostgreSQL runs need a server: FLOWDESK_BENCH_PG_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/flowdesk_bench).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from bench import spiff_floor
from bench.cpu import CpuUse, CpuWindow, connections_by_process
from bench.sql_count import PgStatementLog, Tally, print_per_completion

ROOT = Path(__file__).resolve().parents[1]
BPMN = ROOT / "bench" / "bench_two_lane.bpmn"
PG_URL = os.environ.get(
    "FLOWDESK_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/flowdesk_bench"
)
PASSWORD = "bench-pw-1"


@dataclass
class Timings:
    starts: list[float] = field(default_factory=list)
    completions: list[float] = field(default_factory=list)
    start_wall: float = 0.0
    complete_wall: float = 0.0
    cpu: CpuUse | None = None
    # the clients' connections held by each API process, largest first (e.g. [3, 1])
    split: list[int] = field(default_factory=list)

    @property
    def completions_per_s(self) -> float:
        return len(self.completions) / self.complete_wall if self.complete_wall else 0.0


def percentile(values: list[float], q: float) -> float:
    """Return the q-quantile (0..1) of values, in milliseconds."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index] * 1000


def spread(values: list[float]) -> tuple[float, float, float]:
    return min(values), statistics.median(values), max(values)


def fmt_spread(values: list[float], digits: int = 0) -> str:
    lo, mid, hi = spread(values)
    return f"{lo:.{digits}f} / {mid:.{digits}f} / {hi:.{digits}f}"


# ---------------------------------------------------------------- set-up


def database_url(backend: str, workdir: Path, *, reuse: bool) -> str:
    """Return the run's database URL; a fresh empty one unless `reuse`."""
    if backend == "sqlite":
        path = workdir / "bench.db"
        if not reuse:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    url = make_url(PG_URL)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": url.database}
        ).scalar()
        if not (reuse and exists):
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()
    return url.render_as_string(hide_password=False)


def prepared(url: str) -> bool:
    """Tell whether the database already holds the benchmark's users and process."""
    engine = create_engine(url)
    try:
        if "app_user" not in inspect(engine).get_table_names():
            return False
        with engine.connect() as conn:
            return bool(
                conn.execute(text("SELECT 1 FROM app_user WHERE username = 'bench_eng'")).scalar()
            )
    finally:
        engine.dispose()


def prepare(url: str) -> None:
    """Migrate, add the two users and deploy the benchmark process (in-process)."""
    os.environ["FLOWDESK_DATABASE_URL"] = url
    from engine.config import get_settings

    get_settings.cache_clear()
    from engine.db import unit_of_work
    from engine.definitions import deploy_files
    from engine.identity import SYSTEM, create_user
    from engine.migrations import upgrade_database

    upgrade_database(url)
    if prepared(url):
        return
    with unit_of_work() as session:
        for username, department in (
            ("bench_cs", "customer_service"),
            ("bench_eng", "engineering"),
        ):
            create_user(
                session,
                username=username,
                password=PASSWORD,
                roles=["staff"],
                department=department,
            )
        deploy_files(session, files=[(BPMN.name, BPMN.read_bytes())], actor=SYSTEM)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`flowdesk serve` in a subprocess, with no background work; `counted` runs the
    same app with the statement counter (`bench.counted_app`, one process). `root` is
    the checkout whose code it runs (`bench.paired_ab` starts two)."""

    def __init__(self, url: str, workers: int, *, counted: bool = False, root: Path = ROOT) -> None:
        self.port = free_port()
        env = dict(
            os.environ,
            FLOWDESK_DATABASE_URL=url,
            FLOWDESK_EMBEDDED_BACKGROUND="0",
            FLOWDESK_PROCESSES_DIR=str(root / "bench" / "no-processes"),
            PYTHONPATH=os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
        )
        if counted:
            command = [sys.executable, "-m", "bench.counted_app", "--port", str(self.port)]
        else:
            flowdesk = str(Path(sys.executable).with_name("flowdesk"))
            command = [flowdesk, "serve", "--port", str(self.port), "--workers", str(workers)]
        self.proc = subprocess.Popen(
            command, env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ---------------------------------------------------------------- the measured phase


def token(client: httpx.Client, username: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


class Client:
    """One keep-alive HTTP client acting as both users of the benchmark process."""

    def __init__(self, base: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=60)
        self.cs, self.eng = token(self.http, "bench_cs"), token(self.http, "bench_eng")
        self.first: list[str] = []
        self.starts: list[float] = []
        self.completions: list[float] = []

    def start(self, count: int) -> None:
        for i in range(count):
            t0 = time.perf_counter()
            r = self.http.post(
                "/api/v1/processes/bench_two_lane/instances",
                headers=self.cs,
                json={"variables": {"n": i, "customer": "客户" + str(i)}},
            )
            self.starts.append(time.perf_counter() - t0)
            r.raise_for_status()
            self.first.append(r.json()["open_tasks"][0]["id"])

    def complete_all(self) -> None:
        second = []
        for task_id in self.first:
            t0 = time.perf_counter()
            r = self.http.post(
                f"/api/v1/tasks/{task_id}/complete",
                headers=self.cs,
                json={"variables": {"a": "done"}},
            )
            self.completions.append(time.perf_counter() - t0)
            r.raise_for_status()
            second.append(r.json()["instance"]["open_tasks"][0]["id"])
        for task_id in second:
            t0 = time.perf_counter()
            r = self.http.post(
                f"/api/v1/tasks/{task_id}/complete",
                headers=self.eng,
                json={"variables": {"b": "done"}},
            )
            self.completions.append(time.perf_counter() - t0)
            r.raise_for_status()
        self.first = []


def _in_threads(work: list) -> float:  # type: ignore[type-arg]
    threads = [threading.Thread(target=w) for w in work]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0


def run_phase(server: Server, instances: int, clients: int) -> Timings:
    """`clients` concurrent clients start `instances` instances, then complete all their
    tasks; the CPU is measured over the completions."""
    pool = [Client(server.base) for _ in range(clients)]
    per_client = max(1, instances // clients)
    timings = Timings()
    timings.start_wall = _in_threads([lambda c=c: c.start(per_client) for c in pool])
    timings.split = connections_by_process(server.proc.pid, server.port)
    window = CpuWindow([server.proc.pid])
    timings.complete_wall = _in_threads([c.complete_all for c in pool])
    timings.cpu = window.stop()
    for c in pool:
        timings.starts.extend(c.starts)
        timings.completions.extend(c.completions)
        c.http.close()
    return timings


def measure(label: str, server: Server, args: argparse.Namespace, clients: int) -> dict:
    """Warm up, then `--runs` measured phases: min/median/max and the mean CPU use."""
    run_phase(server, max(2 * clients, args.instances // 10), clients)
    runs = [run_phase(server, args.instances, clients) for _ in range(args.runs)]
    rates = [r.completions_per_s for r in runs]
    starts = [len(r.starts) / r.start_wall for r in runs if r.start_wall]
    cpus = [r.cpu for r in runs if r.cpu is not None]
    cpu = CpuUse(
        api=statistics.mean(c.api for c in cpus),
        postgres=statistics.mean(c.postgres for c in cpus),
        machine=statistics.mean(c.machine for c in cpus),
        cores=cpus[0].cores,
    )
    middle = sorted(runs, key=lambda r: r.completions_per_s)[len(runs) // 2]
    print(
        f"  {label}: completions/s {fmt_spread(rates)} (min/median/max of {args.runs}); "
        f"complete p50/p95 {percentile(middle.completions, 0.5):.1f}/"
        f"{percentile(middle.completions, 0.95):.1f} ms; starts/s {fmt_spread(starts)}"
    )
    print(f"      {cpu.describe()}")
    if clients > 1 and any(r.split for r in runs):
        # A process serves its connections' requests one core's worth at a time: a run
        # whose clients the kernel gave mostly to one process is slower (printed, not
        # hidden in the median).
        print(
            "      runs by the clients' connections per API process: "
            + ", ".join(
                f"{r.completions_per_s:.0f}/s ({'+'.join(map(str, r.split)) or '?'})" for r in runs
            )
        )
    return {
        "completions_per_s": spread(rates),
        "starts_per_s": spread(starts),
        "complete_p50_ms": percentile(middle.completions, 0.5),
        "complete_p95_ms": percentile(middle.completions, 0.95),
        "cpu": cpu.__dict__,
        "connections_per_process": [r.split for r in runs],
    }


# ---------------------------------------------------------------- statements


def count_statements(backend: str, url: str, instances: int) -> dict:
    """Count every statement of 2×`instances` completions through the API (one counted
    API process): from PostgreSQL's log and from the in-process engine event."""
    pg_log = PgStatementLog(url) if backend == "postgresql" else None
    try:
        log_ok = pg_log.enable() if pg_log is not None else False
        # Started after the setting, so that every session of the server logs.
        with Server(url, 1, counted=True) as server:
            warm = Client(server.base)
            warm.start(3)
            warm.complete_all()
            warm.http.close()
            client = Client(server.base)
            client.start(instances)
            httpx.delete(f"{server.base}/__bench/statements").raise_for_status()
            offset = pg_log.offset() if pg_log is not None and log_ok else 0
            client.complete_all()
            in_process = Tally.from_dict(httpx.get(f"{server.base}/__bench/statements").json())
            from_log = pg_log.read(offset) if pg_log is not None and log_ok else None
            client.http.close()
    finally:
        if pg_log is not None:
            pg_log.restore()
    completions = 2 * instances
    out: dict[str, Any] = {"completions": completions}
    if from_log is not None:
        out["postgresql_log"] = print_per_completion("from PostgreSQL's log", from_log, completions)
    out["engine_event"] = print_per_completion(
        "from the engine event in the server"
        + ("; psycopg's BEGIN/COMMIT from the connection events" if pg_log else ""),
        in_process,
        completions,
    )
    return out


# ---------------------------------------------------------------- the database's own limit


def sqlite_commit_rate(workdir: Path, seconds: float = 3.0) -> float:
    """Single-row INSERT + COMMIT per second with flowdesk's pragmas (WAL, synchronous=NORMAL)."""
    path = workdir / "limit.db"
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t (v) VALUES (?)", ("x" * 100,))
        conn.execute("COMMIT")
        n += 1
    rate = n / (time.perf_counter() - t0)
    conn.close()
    return rate


def pg_commit_rate(url: str, clients: int, seconds: float = 3) -> float | None:
    """pgbench: single-row INSERT transactions per second (durable commits)."""
    if shutil.which("pgbench") is None:
        print("  pgbench not found (it comes with PostgreSQL's client package); not measured")
        return None
    u = make_url(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text("CREATE TABLE IF NOT EXISTS bench_limit (id bigserial primary key, v text)")
        )
    engine.dispose()
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
        script.write("INSERT INTO bench_limit (v) VALUES (repeat('x', 100));\n")
    out = subprocess.run(
        [
            "pgbench",
            "-n",
            "-h",
            u.host or "127.0.0.1",
            "-p",
            str(u.port or 5432),
            "-U",
            u.username or "postgres",
            "-c",
            str(clients),
            "-j",
            str(clients),
            "-T",
            str(max(1, round(seconds))),
            "-f",
            script.name,
            u.database or "postgres",
        ],
        capture_output=True,
        text=True,
        env=dict(os.environ, PGPASSWORD=u.password or ""),
    )
    os.unlink(script.name)
    for line in out.stdout.splitlines():
        if line.startswith("tps"):
            return float(line.split("=")[1].split()[0])
    print("  pgbench failed:", out.stderr.strip()[:200])
    return None


def floors(backend: str, url: str, workdir: Path, args: argparse.Namespace) -> dict:
    """Raw SpiffWorkflow and the database's commit rate, `--runs` times each."""
    target = str(workdir / "spiff_floor.db") if backend == "sqlite" else url
    out: dict[str, Any] = {}
    for key, spec_in_row, label in (
        ("spiff_stock", True, "SpiffWorkflow's stock serializer, spec in every row"),
        ("spiff_state", False, "state only, spec parsed once (as flowdesk stores)"),
    ):
        rates = [
            spiff_floor.measure(backend, target, args.floor_instances, spec_in_row=spec_in_row)
            for _ in range(args.runs)
        ]
        out[key] = spread(rates)
        print(f"  raw SpiffWorkflow in-process ({label}): completions/s {fmt_spread(rates)}")
    if backend == "sqlite":
        rates = [sqlite_commit_rate(workdir, args.db_seconds) for _ in range(args.runs)]
        out["commit_rate_1"] = spread(rates)
        print(f"  sqlite3 single-row INSERT+COMMIT/s: {fmt_spread(rates)}")
    else:
        for clients in (1, 4):
            got = [pg_commit_rate(url, clients, args.db_seconds) for _ in range(args.runs)]
            rates = [r for r in got if r is not None]
            if rates:
                out[f"commit_rate_{clients}"] = spread(rates)
                print(
                    f"  pgbench single-row INSERT commits/s, {clients} client"
                    f"{'s' if clients > 1 else ''}: {fmt_spread(rates)}"
                )
    return out


# ---------------------------------------------------------------- growth


def open_tasks(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM task WHERE state = 'open'")).scalar()
    engine.dispose()
    return int(count or 0)


def grow(url: str, open_: int) -> None:
    """Add `open_` running instances (each with its open task and its history) by copying
    the rows of a real one in bulk: a bigger database, fast."""
    from engine.db import unit_of_work
    from engine.identity import actor_for, get_user
    from engine.models import HistoryEvent, Instance, Task
    from engine.runtime import start_instance

    with unit_of_work() as s:
        cs = actor_for(get_user(s, "bench_cs"))
    with unit_of_work() as s:
        running = start_instance(
            s, process_key="bench_two_lane", variables={"n": 1}, actor=cs
        ).instance
    engine = create_engine(url)
    if engine.dialect.name == "postgresql":
        t0 = time.perf_counter()
        _grow_in_postgresql(engine, running.id, open_)
        engine.dispose()
        print(
            f"  grew by {open_} open instances in {time.perf_counter() - t0:.0f} s (copies made "
            "inside PostgreSQL; their history chain is not valid: a benchmark database)"
        )
        return
    batch = 10_000
    with engine.begin() as conn:
        inst = conn.execute(Instance.__table__.select().where(Instance.id == running.id))
        inst_row = inst.mappings().one()
        tasks = (
            conn.execute(Task.__table__.select().where(Task.instance_id == running.id))
            .mappings()
            .all()
        )
        events = (
            conn.execute(
                HistoryEvent.__table__.select().where(HistoryEvent.instance_id == running.id)
            )
            .mappings()
            .all()
        )
        seq = conn.execute(text("SELECT max(seq) FROM history_event")).scalar() or 0
    t0 = time.perf_counter()
    made = 0
    while made < open_:
        n = min(batch, open_ - made)
        inst_rows, task_rows, event_rows = [], [], []
        for _ in range(n):
            new_id = str(uuid.uuid4())
            inst_rows.append({**inst_row, "id": new_id})
            for t in tasks:
                task_rows.append({**t, "id": str(uuid.uuid4()), "instance_id": new_id})
            for e in events:
                seq += 1
                event_rows.append({**e, "seq": seq, "instance_id": new_id})
        with engine.begin() as conn:
            conn.execute(Instance.__table__.insert(), inst_rows)
            conn.execute(Task.__table__.insert(), task_rows)
            conn.execute(HistoryEvent.__table__.insert(), event_rows)
        made += n
    with engine.begin() as conn:
        if "history_head" in inspect(conn).get_table_names():
            # Keep a global chain head past the copies so that new events append after them.
            conn.execute(
                text("UPDATE history_head SET last_seq = :s WHERE last_seq < :s"), {"s": seq}
            )
        if engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE"))
    engine.dispose()
    print(
        f"  grew by {open_} open instances in {time.perf_counter() - t0:.0f} s (bulk copy; "
        "the history chain of the copies is not valid: a benchmark database)"
    )


def _grow_in_postgresql(engine: Any, template: str, count: int) -> None:
    """Copy one running instance `count` times with INSERT … SELECT (no rows through
    Python): its instance row, its task rows and its history events."""
    from engine.models import HistoryEvent, Instance, Task

    def columns(table: Any, replaced: dict[str, str], alias: str) -> tuple[str, str]:
        names = [c.name for c in table.columns]
        values = [replaced.get(n, f"{alias}.{n}") for n in names]
        return ", ".join(names), ", ".join(values)

    inst_cols, inst_vals = columns(Instance.__table__, {"id": "g.id"}, "i")
    task_cols, task_vals = columns(
        Task.__table__, {"id": "gen_random_uuid()::text", "instance_id": "g.id"}, "t"
    )
    event_cols, event_vals = columns(
        HistoryEvent.__table__,
        {"seq": ":base + (g.n - 1) * :per + e.rank", "instance_id": "g.id"},
        "e",
    )
    batch = 100_000
    made = 0
    while made < count:
        n = min(batch, count - made)
        with engine.begin() as conn:
            base = conn.execute(text("SELECT coalesce(max(seq), 0) FROM history_event")).scalar()
            per = conn.execute(
                text("SELECT count(*) FROM history_event WHERE instance_id = :t"), {"t": template}
            ).scalar()
            conn.execute(
                text(
                    "CREATE TEMP TABLE grow_ids ON COMMIT DROP AS SELECT gen_random_uuid()::text "
                    "AS id, row_number() OVER () AS n FROM generate_series(1, :n)"
                ),
                {"n": n},
            )
            conn.execute(
                text(
                    f"INSERT INTO instance ({inst_cols}) SELECT {inst_vals} FROM grow_ids g "
                    "CROSS JOIN instance i WHERE i.id = :t"
                ),
                {"t": template},
            )
            conn.execute(
                text(
                    f"INSERT INTO task ({task_cols}) SELECT {task_vals} FROM grow_ids g "
                    "CROSS JOIN task t WHERE t.instance_id = :t"
                ),
                {"t": template},
            )
            conn.execute(
                text(
                    f"INSERT INTO history_event ({event_cols}) SELECT {event_vals} FROM grow_ids g "
                    "CROSS JOIN (SELECT *, row_number() OVER (ORDER BY seq) AS rank "
                    "FROM history_event WHERE instance_id = :t) e"
                ),
                {"t": template, "base": base, "per": per},
            )
            if "history_head" in inspect(conn).get_table_names():
                conn.execute(
                    text("UPDATE history_head SET last_seq = (SELECT max(seq) FROM history_event)")
                )
            # New events take their seqs from the sequence: past the copies.
            conn.execute(
                text("SELECT setval('history_event_seq_seq', (SELECT max(seq) FROM history_event))")
            )
        made += n
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))


def growth(url: str, args: argparse.Namespace) -> dict:
    """Measure 1 client at each number of pre-existing open tasks."""
    results: dict[int, tuple[float, float, float]] = {}
    for target in args.growth:
        have = open_tasks(url)
        if have < target:
            grow(url, target - have)
        with Server(url, workers=1) as server:
            got = measure(f"{open_tasks(url)} open tasks, 1 client, 1 API process", server, args, 1)
        results[target] = got["completions_per_s"]
    steps = sorted(results)
    for a, b in zip(steps, steps[1:], strict=False):
        change = (results[b][1] - results[a][1]) / results[a][1]
        print(f"  median completions/s {a} → {b} open tasks: {change:+.1%}")
    return {str(k): v for k, v in results.items()}


# ---------------------------------------------------------------- main


def ratio_line(label: str, ours: float, theirs: tuple[float, float, float] | float | None) -> None:
    if theirs is None:
        return
    value = theirs[1] if isinstance(theirs, tuple) else theirs
    if value:
        print(f"  flowdesk / {label}: {ours / value:.3f}× ({ours:.0f} vs {value:.0f}/s, medians)")


def bench_backend(backend: str, args: argparse.Namespace) -> dict:
    print(f"\n== {backend} ==")
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix=f"flowdesk-bench-{backend}-"))
    workdir.mkdir(parents=True, exist_ok=True)
    url = database_url(backend, workdir, reuse=args.reuse)
    prepare(url)
    results: dict[str, Any] = {"backend": backend}
    if args.growth_only:
        results["growth"] = growth(url, args)
        return results
    if not args.no_statements:
        results["statements"] = count_statements(backend, url, args.count_instances)
    if args.statements_only:
        return results
    if not args.no_floors:
        results["floors"] = floors(backend, url, workdir, args)
    figures: dict[str, Any] = {}
    if backend == "sqlite":
        with Server(url, workers=1) as server:
            figures["1"] = measure("flowdesk, 1 client, 1 API process", server, args, 1)
    else:
        with Server(url, workers=2) as server:
            for clients in args.clients:
                figures[str(clients)] = measure(
                    f"flowdesk, {clients} client{'s' if clients > 1 else ''}, 2 API processes",
                    server,
                    args,
                    clients,
                )
    results["flowdesk"] = figures
    one = figures[next(iter(figures))]["completions_per_s"][1]
    floor = results.get("floors", {})
    if backend == "sqlite":
        ratio_line("spiff-arena (--peer-spiff-arena)", one, args.peer_spiff_arena)
    ratio_line("raw SpiffWorkflow, stock serializer", one, floor.get("spiff_stock"))
    ratio_line("raw SpiffWorkflow, state only", one, floor.get("spiff_state"))
    ratio_line(
        "sqlite3 commits" if backend == "sqlite" else "pgbench 1 client",
        one,
        floor.get("commit_rate_1"),
    )
    if "4" in figures:
        ratio_line(
            "pgbench 4 clients (4 clients)",
            figures["4"]["completions_per_s"][1],
            floor.get("commit_rate_4"),
        )
    if args.growth:
        results["growth"] = growth(url, args)
    if not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    return results


def _ints(value: str) -> list[int]:
    return [int(v.replace("_", "")) for v in value.split(",") if v.strip()]


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--instances", type=int, default=200, help="instances per run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--clients", type=_ints, default=[1, 2, 4], help="PostgreSQL client counts (1,2,4)"
    )
    parser.add_argument(
        "--count-instances", type=int, default=50, help="instances of the statement count"
    )
    parser.add_argument("--floor-instances", type=int, default=200)
    parser.add_argument(
        "--db-seconds", type=float, default=3.0, help="length of each commit-rate run"
    )
    parser.add_argument(
        "--peer-spiff-arena",
        type=float,
        default=None,
        help="spiff-arena's completions/s on this machine (SQLite, 1 client): prints the ratio",
    )
    parser.add_argument(
        "--growth",
        type=_ints,
        default=[],
        help="comma-separated numbers of open tasks to grow to and measure at, e.g. "
        "10000,100000,1000000",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the database of an earlier run (with --workdir for SQLite): grown data "
        "is built once",
    )
    parser.add_argument("--workdir", help="where SQLite files go (kept); default a temp dir")
    parser.add_argument("--no-statements", action="store_true")
    parser.add_argument(
        "--growth-only", action="store_true", help="only the --growth steps (with --reuse)"
    )
    parser.add_argument("--statements-only", action="store_true", help="count, then stop")
    parser.add_argument("--no-floors", action="store_true")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    # A server process refuses to start without a shared secret key (a benchmark one).
    os.environ.setdefault("FLOWDESK_SECRET_KEY", "flowdesk-bench-only-" + "k" * 40)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0, 0, 0)
    print(
        f"api_throughput: {os.cpu_count()} cores, load average {load[0]:.2f} at start; "
        f"{args.instances} instances (= {2 * args.instances} completions) per run, "
        f"{args.runs} runs"
    )
    results = [bench_backend(b, args) for b in backends]
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))
    return results


if __name__ == "__main__":
    main()
