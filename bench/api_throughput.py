"""API throughput: starts and completions per second through real HTTP, SQL per operation,
the database's own single-row commit rate beside it, and the same after growth.

    python -m bench.api_throughput                      # SQLite and PostgreSQL, 500 instances
    python -m bench.api_throughput --backend sqlite --instances 2000
    python -m bench.api_throughput --growth 100000      # add 100k done + 100k open first

Prints figures; asserts nothing. PostgreSQL runs need a server (FLOWDESK_BENCH_PG_URL,
default postgresql+psycopg://postgres@127.0.0.1:5432/flowdesk_bench).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

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


def percentile(values: list[float], q: float) -> float:
    """Return the q-quantile (0..1) of values, in milliseconds."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index] * 1000


# ---------------------------------------------------------------- set-up


def fresh_database(backend: str, workdir: Path) -> str:
    """Create an empty database for the run and return its URL."""
    if backend == "sqlite":
        return f"sqlite:///{workdir / 'bench.db'}"
    url = make_url(PG_URL)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()
    return url.render_as_string(hide_password=False)


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
    with unit_of_work() as session:
        create_user(
            session,
            username="bench_cs",
            password=PASSWORD,
            roles=["staff"],
            department="customer_service",
        )
        create_user(
            session,
            username="bench_eng",
            password=PASSWORD,
            roles=["staff"],
            department="engineering",
        )
        deploy_files(session, files=[(BPMN.name, BPMN.read_bytes())], actor=SYSTEM)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`flowdesk serve` in a subprocess, with no background work."""

    def __init__(self, url: str, workers: int) -> None:
        self.port = free_port()
        env = dict(
            os.environ,
            FLOWDESK_DATABASE_URL=url,
            FLOWDESK_EMBEDDED_BACKGROUND="0",
            FLOWDESK_PROCESSES_DIR=str(ROOT / "bench" / "no-processes"),
        )
        flowdesk = str(Path(sys.executable).with_name("flowdesk"))
        self.proc = subprocess.Popen(
            [flowdesk, "serve", "--port", str(self.port), "--workers", str(workers)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


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


def run_phase(base: str, instances: int, clients: int) -> Timings:
    """`clients` concurrent clients start `instances` instances, then complete all tasks."""
    pool = [Client(base) for _ in range(clients)]
    per_client = instances // clients
    timings = Timings()
    timings.start_wall = _in_threads([lambda c=c: c.start(per_client) for c in pool])
    timings.complete_wall = _in_threads([c.complete_all for c in pool])
    for c in pool:
        timings.starts.extend(c.starts)
        timings.completions.extend(c.completions)
        c.http.close()
    return timings


def report(label: str, t: Timings) -> dict[str, float]:
    out = {
        "starts_per_s": len(t.starts) / t.start_wall if t.start_wall else 0.0,
        "completions_per_s": len(t.completions) / t.complete_wall if t.complete_wall else 0.0,
        "start_p50_ms": percentile(t.starts, 0.5),
        "start_p95_ms": percentile(t.starts, 0.95),
        "start_p99_ms": percentile(t.starts, 0.99),
        "complete_p50_ms": percentile(t.completions, 0.5),
        "complete_p95_ms": percentile(t.completions, 0.95),
        "complete_p99_ms": percentile(t.completions, 0.99),
    }
    print(
        f"  {label}: {out['starts_per_s']:.0f} starts/s, {out['completions_per_s']:.0f} "
        f"completions/s; start p50/p95/p99 {out['start_p50_ms']:.1f}/"
        f"{out['start_p95_ms']:.1f}/{out['start_p99_ms']:.1f} ms; complete p50/p95/p99 "
        f"{out['complete_p50_ms']:.1f}/{out['complete_p95_ms']:.1f}/"
        f"{out['complete_p99_ms']:.1f} ms"
    )
    return out


# ---------------------------------------------------------------- SQL per operation


def count_sql(url: str) -> dict[str, int]:
    """Count statements of one start and one completion through the API, in-process."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from engine.db import get_engine

    engine = get_engine(url)
    statements: list[str] = []

    def on_execute(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    client = TestClient(create_app())
    cs = token(client, "bench_cs")  # type: ignore[arg-type]
    client.post("/api/v1/processes/bench_two_lane/instances", headers=cs, json={"variables": {}})
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        r = client.post(
            "/api/v1/processes/bench_two_lane/instances", headers=cs, json={"variables": {"n": 1}}
        )
        start_count = len(statements)
        start_sql = list(statements)
        statements.clear()
        client.post(
            f"/api/v1/tasks/{r.json()['open_tasks'][0]['id']}/complete",
            headers=cs,
            json={"variables": {"a": 1}},
        )
        complete_count = len(statements)
        complete_sql = list(statements)
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
    if os.environ.get("FLOWDESK_BENCH_SHOW_SQL"):
        for s in start_sql + ["----"] + complete_sql:
            print("    " + " ".join(s.split())[:150])
    return {"sql_per_start": start_count, "sql_per_completion": complete_count}


# ---------------------------------------------------------------- the database's own limit


def sqlite_commit_rate(workdir: Path, seconds: float = 3.0) -> float:
    """Single-row INSERT + COMMIT per second with flowdesk's pragmas (WAL, synchronous=NORMAL)."""
    path = workdir / "limit.db"
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


def pg_commit_rate(url: str, clients: int, seconds: int = 5) -> float | None:
    """pgbench: single-row INSERT transactions per second (durable commits)."""
    if shutil.which("pgbench") is None:
        print("  pgbench not found (apt-get install postgresql-client); limit not measured")
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
            str(seconds),
            "-f",
            script.name,
            u.database or "postgres",
        ],
        capture_output=True,
        text=True,
    )
    for line in out.stdout.splitlines():
        if line.startswith("tps"):
            return float(line.split("=")[1].split()[0])
    print("  pgbench failed:", out.stderr.strip()[:200])
    return None


# ---------------------------------------------------------------- growth


def grow(url: str, completed: int, open_: int) -> None:
    """Add `completed` finished and `open_` running instances (with their task rows and
    history) by copying the rows of real instances in bulk: a bigger database, fast."""
    from engine.db import unit_of_work
    from engine.identity import actor_for, get_user
    from engine.models import HistoryEvent, Instance, Task
    from engine.runtime import complete_task, start_instance

    with unit_of_work() as s:
        cs = actor_for(get_user(s, "bench_cs"))
        eng = actor_for(get_user(s, "bench_eng"))
    with unit_of_work() as s:
        done = start_instance(
            s, process_key="bench_two_lane", variables={"n": 0}, actor=cs
        ).instance
    for actor in (cs, eng):
        with unit_of_work() as s:
            task = s.query(Task).filter_by(instance_id=done.id, state="open").one()
            complete_task(s, task_id=task.id, variables={"x": 1}, actor=actor)
    with unit_of_work() as s:
        running = start_instance(
            s, process_key="bench_two_lane", variables={"n": 1}, actor=cs
        ).instance
    engine = create_engine(url)
    batch = 10_000
    with engine.begin() as conn:
        rows = {}
        for template in (done.id, running.id):
            rows[template] = (
                conn.execute(Instance.__table__.select().where(Instance.id == template))
                .mappings()
                .one(),
                conn.execute(Task.__table__.select().where(Task.instance_id == template))
                .mappings()
                .all(),
                conn.execute(
                    HistoryEvent.__table__.select().where(HistoryEvent.instance_id == template)
                )
                .mappings()
                .all(),
            )
        seq = conn.execute(text("SELECT max(seq) FROM history_event")).scalar() or 0
    t0 = time.perf_counter()
    for template, count in ((done.id, completed), (running.id, open_)):
        inst, tasks, events = rows[template]
        made = 0
        while made < count:
            n = min(batch, count - made)
            inst_rows, task_rows, event_rows = [], [], []
            for _ in range(n):
                new_id = str(uuid.uuid4())
                inst_rows.append({**inst, "id": new_id})
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
        # Keep the chain head past the copies so that new events append after them.
        conn.execute(text("UPDATE history_head SET last_seq = :s"), {"s": seq})
        if engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE"))
    engine.dispose()
    print(
        f"  grew by {completed} completed + {open_} open instances in "
        f"{time.perf_counter() - t0:.0f} s (bulk copy; the history chain of the copies is "
        "not valid, it is a benchmark database)"
    )


def workflow_sizes(url: str) -> None:
    """Print the stored workflow state size of a finished bench instance."""
    engine = create_engine(url)
    with engine.connect() as conn:
        size = conn.execute(
            text("SELECT length(workflow_state) FROM instance WHERE status = 'completed' LIMIT 1")
        ).scalar()
    engine.dispose()
    print(
        f"  serialized state of a completed two-task instance: {size} bytes "
        "(spec stored once per version)"
    )


# ---------------------------------------------------------------- main


def bench_backend(backend: str, args: argparse.Namespace) -> dict:
    print(f"\n== {backend} ==")
    workdir = Path(tempfile.mkdtemp(prefix=f"flowdesk-bench-{backend}-"))
    url = fresh_database(backend, workdir)
    prepare(url)
    results: dict = {"backend": backend}
    results.update(count_sql(url))
    print(
        f"  SQL statements: {results['sql_per_start']} per start (the token's user is cached), "
        f"{results['sql_per_completion']} per completion"
    )
    server = Server(url, workers=1)
    try:
        run_phase(server.base, max(20, args.instances // 10), 1)  # warm-up
        results["single"] = report(
            f"1 client, 1 API process, {args.instances} instances",
            run_phase(server.base, args.instances, 1),
        )
    finally:
        server.stop()
    if backend == "sqlite":
        limit = sqlite_commit_rate(workdir)
    else:
        limit = pg_commit_rate(url, clients=1)
    results["db_commit_rate"] = limit
    if limit:
        ratio = results["single"]["completions_per_s"] / limit
        print(
            f"  database limit: {limit:.0f} single-row commits/s; completions/s = {ratio:.1%} of it"
        )
    if backend == "postgresql" and args.concurrent:
        server = Server(url, workers=2)
        try:
            run_phase(server.base, 40, 4)
            results["concurrent"] = report(
                f"4 clients, 2 API processes, {args.instances} instances",
                run_phase(server.base, args.instances, 4),
            )
        finally:
            server.stop()
        limit4 = pg_commit_rate(url, clients=4)
        if limit4:
            print(f"  database limit with 4 clients: {limit4:.0f} commits/s")
            results["db_commit_rate_4"] = limit4
    workflow_sizes(url)
    if args.growth:
        grow(url, args.growth, args.growth)
        server = Server(url, workers=1)
        try:
            run_phase(server.base, 20, 1)
            results["after_growth"] = report(
                f"after +{args.growth} completed/+{args.growth} open, 1 client",
                run_phase(server.base, args.instances, 1),
            )
        finally:
            server.stop()
        before = results["single"]["completions_per_s"]
        after = results["after_growth"]["completions_per_s"]
        print(f"  completions/s change with growth: {(after - before) / before:+.1%}")
    shutil.rmtree(workdir, ignore_errors=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--instances", type=int, default=500)
    parser.add_argument(
        "--growth",
        type=int,
        default=0,
        help="add this many completed and this many open instances, then rerun",
    )
    parser.add_argument("--no-concurrent", dest="concurrent", action="store_false")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results = [bench_backend(b, args) for b in backends]
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
