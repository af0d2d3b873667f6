"""SLA round time with many open tasks on PostgreSQL, 1% of them due in the round.

    python -m bench.sla_sweep [--sizes 100000 1000000] [--due-percent 1] [--runs 3] [--reuse]
    FLOWDESK_SWEEP_THREADS=1 python -m bench.sla_sweep   # one connection

For each size: a database (`flowdesk_bench` on the local server, or
FLOWDESK_BENCH_DATABASE_URL), the shipped processes deployed, an organisation of
5 staff and a supervisor per department, and N open tasks (10 per instance)
written in bulk; `due-percent` of them have their 80% warning due at the
round's instant, the rest are due in the weeks ahead. `--reuse` keeps a
database that already holds N open tasks (built by an earlier run) and only
puts the due tasks back before each run.

Each run times a whole round with that load (timers, SLA sweep, outbox,
calendar check, history check, checkpoint seal, witness), then an idle round (nothing due),
and prints the time and the statements of each part of the round; the last
lines give min/median/max over the runs. Within the SLA sweep, the time in
the database is split by statement (summed over the sweep's threads) and the
history append (engine/audit.py) is timed as a whole.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from bench.sql_count import autocommit

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/flowdesk_bench"
T = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
PARTS = ("timers", "sla", "outbox", "calendar", "history_check", "seal", "witness")


def fresh_database(url: str) -> None:
    """Drop and recreate the bench database, point flowdesk at it and migrate it."""
    use_database(url, fresh=True)


def use_database(url: str, *, fresh: bool) -> None:
    """Point flowdesk at the bench database and migrate it; with `fresh`, drop and
    recreate it first (a kept database is brought to the newest revision)."""
    from engine.config import get_settings
    from engine.db import dispose_engines
    from engine.migrations import upgrade_database

    parsed = make_url(url)
    if fresh:
        admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
        admin.dispose()
    os.environ["FLOWDESK_DATABASE_URL"] = url
    get_settings.cache_clear()
    dispose_engines()
    if fresh or _has_schema(url):
        upgrade_database()


def _has_schema(url: str) -> bool:
    """Whether the database exists and holds flowdesk's tables."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return bool(conn.execute(text("SELECT to_regclass('alembic_version')")).scalar())
    except Exception:  # noqa: BLE001 - no such database: nothing to migrate
        return False
    finally:
        engine.dispose()


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
    _vacuum("VACUUM ANALYZE")


def _vacuum(sql: str) -> None:
    from engine.db import get_engine

    with get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(sql))


def _put_back_due(url: str) -> None:
    """Make the warned tasks due again, as the population left them, and drop their notes."""
    with create_engine(url).begin() as conn:
        conn.execute(text("DELETE FROM notification"))
        conn.execute(text("DELETE FROM email_outbox"))
        conn.execute(
            text(
                "UPDATE task SET sla_status = 'on_track', next_sla_at = warn_at "
                "WHERE state = 'open' AND next_sla_at IS NOT NULL AND sla_status = 'at_risk'"
            )
        )
    _vacuum("VACUUM ANALYZE task")
    _vacuum("VACUUM ANALYZE notification")


def _count(sql: str) -> int:
    from engine.db import get_engine

    with get_engine().connect() as conn:
        return int(conn.execute(text(sql)).scalar_one())


class Probe:
    """Times the parts of a round and counts the statements each sends."""

    def __init__(self) -> None:
        self.part = "outside"
        self.seconds: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)  # this process's, all threads
        self.statements: dict[str, list[str]] = defaultdict(list)
        self.db_seconds: dict[str, float] = defaultdict(float)  # by statement kind, in the sweep
        self._local = threading.local()
        self.gc = [0.0, 0]
        self.gc_by_generation = [0, 0, 0]
        self._gc_started = 0.0
        self._patched: list[tuple[Any, str, Any]] = []

    def reset(self) -> None:
        """Forget the figures of the previous round."""
        self.gc = [0.0, 0]
        self.gc_by_generation = [0, 0, 0]
        self.seconds.clear()
        self.cpu.clear()
        self.statements.clear()
        self.db_seconds.clear()

    def install(self) -> None:
        """Wrap the parts of `run_round` and listen to the engine's statements."""
        from engine import notifications, rounds, witness
        from engine.db import get_engine
        from engine.sla import sweep

        wrap = self._wrap
        wrap(rounds, "fire_due_timers", "timers")
        wrap(rounds, "sweep_due_steps", "sla")
        wrap(notifications, "deliver_outbox", "outbox")
        wrap(rounds, "check_calendar_years", "calendar")
        wrap(rounds, "verify_history", "history_check")
        wrap(rounds, "seal_history", "seal")
        wrap(witness, "witness_current_head", "witness")
        if hasattr(sweep, "append_events"):
            self._time_only(sweep, "append_events", "sla: history append (audit.py)")
        gc.callbacks.append(self._gc)
        engine = get_engine()
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        # a transaction's ends are round trips too (a pool checkout sends nothing: no
        # ping on a healthy connection, engine/db.py), except on a connection of single
        # reads, whose driver sends none
        for what in ("begin", "commit", "rollback"):
            event.listen(engine, what, lambda conn, w=what.upper(): self._end(conn, w))

    def _gc(self, phase: str, info: dict[str, int]) -> None:
        # the collector's pauses stop every thread: part of the round's time
        if phase == "start":
            self._gc_started = time.perf_counter()
        elif self.part != "outside":
            self.gc[0] += time.perf_counter() - self._gc_started
            self.gc[1] += 1
            self.gc_by_generation[info["generation"]] += 1

    def _end(self, conn: Any, what: str) -> None:
        if not autocommit(conn):
            self._note(what)

    def _note(self, what: str) -> None:
        self.statements[self.part].append(what)

    def _wrap(self, module: Any, name: str, part: str) -> None:
        original = getattr(module, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            outer, self.part = self.part, part
            started, cpu = time.perf_counter(), time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[part] += time.perf_counter() - started
                self.cpu[part] += time.process_time() - cpu
                self.part = outer

        self._patched.append((module, name, original))
        setattr(module, name, timed)

    def _time_only(self, module: Any, name: str, label: str) -> None:
        original = getattr(module, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.db_seconds[label] += time.perf_counter() - started

        self._patched.append((module, name, original))
        setattr(module, name, timed)

    def _before(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self._local.started = time.perf_counter()
        self.statements[self.part].append(" ".join(statement.split()))

    def _after(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if self.part == "sla":
            took = time.perf_counter() - getattr(self._local, "started", time.perf_counter())
            self.db_seconds[f"sla db: {_kind(statement)}"] += took


def _kind(statement: str) -> str:
    """A statement's kind as the report groups them: verb and table."""
    words = " ".join(statement.split()).split(" ")
    verb = words[0].upper()
    upper = [w.upper() for w in words]
    table = ""
    for marker in ("INTO", "FROM"):
        if marker in upper:
            i = upper.index(marker)
            if i + 1 < len(words):
                table = words[i + 1].strip('"(')
                break
    if verb in ("UPDATE", "COPY"):
        table = words[1]
    extra = " FOR UPDATE" if "FOR UPDATE" in " ".join(upper) else ""
    return f"{verb} {table}{extra}".strip()


@contextmanager
def _timed() -> Iterator[Callable[[], float]]:
    started = time.perf_counter()
    box = [0.0]
    yield lambda: box[0]
    box[0] = time.perf_counter() - started


def _spread(values: list[float], unit: str = "s", scale: float = 1.0) -> str:
    v = [x * scale for x in values]
    fmt = "{:.1f}" if unit == "ms" else "{:.2f}"
    return (
        f"{fmt.format(min(v))} / {fmt.format(statistics.median(v))} / {fmt.format(max(v))} {unit}"
    )


def run(size: int, due_percent: float, url: str, *, runs: int, reuse: bool) -> None:
    from engine import clock
    from engine.config import get_settings
    from engine.rounds import run_round

    # the round witnesses the history head: into a file of the bench's own
    os.environ.setdefault(
        "FLOWDESK_WITNESS_FILE",
        str(Path(tempfile.gettempdir()) / f"{make_url(url).database}.witness.jsonl"),
    )
    kept = False
    if reuse:
        use_database(url, fresh=False)
        try:
            kept = _count("SELECT count(*) FROM task WHERE state = 'open'") == size
        except Exception:  # no such database or schema yet
            kept = False
    if not kept:
        use_database(url, fresh=True)
        started = time.perf_counter()
        _populate(size, due_percent)
        print(f"\n{size:,} open tasks written in {time.perf_counter() - started:.1f} s")
    else:
        print(f"\n{size:,} open tasks kept from an earlier run (--reuse)")
    probe = Probe()
    probe.install()
    threads = get_settings().sweep_threads
    whole: list[float] = []
    idle: list[float] = []
    parts: dict[str, list[float]] = defaultdict(list)
    idle_parts: dict[str, list[float]] = defaultdict(list)
    details: dict[str, list[float]] = defaultdict(list)
    cpu: dict[str, list[float]] = defaultdict(list)
    for number in range(1, runs + 1):
        _put_back_due(url)
        due = _count(
            f"SELECT count(*) FROM task WHERE state = 'open' AND next_sla_at <= '{T.isoformat()}'"
        )
        events_before = _count("SELECT count(*) FROM history_event")
        probe.reset()
        with clock.frozen_at(T):
            started = time.perf_counter()
            result = run_round(T)
            whole.append(time.perf_counter() - started)
        events = _count("SELECT count(*) FROM history_event") - events_before
        notes = _count("SELECT count(*) FROM notification")
        print(
            f"  run {number}: {due:,} due; whole round {whole[-1]:6.2f} s, sweep on "
            f"{threads} thread(s): {result.warnings:,} warnings, {events:,} events, "
            f"{notes:,} notifications, {result.events_verified:,} events verified"
        )
        for part in PARTS:
            parts[part].append(probe.seconds.get(part, 0.0))
            cpu[part].append(probe.cpu.get(part, 0.0))
            print(
                f"      {part:14} {probe.seconds.get(part, 0.0) * 1000:8.1f} ms  "
                f"(flowdesk CPU {probe.cpu.get(part, 0.0) * 1000:7.1f} ms)  "
                f"{len(probe.statements.get(part, [])):5} statements"
            )
        probe.db_seconds["garbage collector (all threads stop)"] = probe.gc[0]
        print(
            f"      garbage collections by generation (0, 1, 2): {probe.gc_by_generation}, "
            f"{gc.get_count()} pending, {len(gc.get_objects()):,} objects tracked"
        )
        for label, seconds in sorted(probe.db_seconds.items(), key=lambda kv: -kv[1]):
            details[label].append(seconds)
            print(f"        {label:48} {seconds * 1000:8.1f} ms (summed over threads)")
        probe.reset()
        # a minute later, as the next round of a worker: nothing more is due, and the
        # history check records the new instant it checked at (a write, as in service)
        later = T + timedelta(minutes=1)
        with clock.frozen_at(later):
            started = time.perf_counter()
            nothing = run_round(later)
            idle.append(time.perf_counter() - started)
        assert nothing.warnings == nothing.breaches == nothing.escalations == 0
        print(f"  run {number}: idle round {idle[-1] * 1000:6.1f} ms")
        for part in PARTS:
            idle_parts[part].append(probe.seconds.get(part, 0.0))
            sent = probe.statements.get(part, [])
            took = probe.seconds.get(part, 0.0) * 1000
            print(f"      {part:14} {took:8.2f} ms  {len(sent)} statements")
            for statement in sent:
                print(f"          {statement[:150]}")
    print(f"\n  {size:,} open tasks, {runs} run(s), min / median / max:")
    print(f"    whole round (due):  {_spread(whole)}")
    for part in PARTS:
        print(
            f"      {part:14}    {_spread(parts[part], 'ms', 1000)}   "
            f"(flowdesk CPU {_spread(cpu[part], 'ms', 1000)})"
        )
    for label, values in sorted(details.items(), key=lambda kv: -statistics.median(kv[1])):
        if len(values) == runs:
            print(f"        {label:46} {_spread(values, 'ms', 1000)}")
    print(f"    idle round:         {_spread(idle, 'ms', 1000)}")
    for part in PARTS:
        print(f"      {part:14}    {_spread(idle_parts[part], 'ms', 1000)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--due-percent", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument(
        "--sweep-batch", type=int, default=0, help="the sweep's batch size (default its own)"
    )
    parser.add_argument(
        "--reuse", action="store_true", help="keep a database that holds the tasks already"
    )
    args = parser.parse_args()
    url = os.environ.get("FLOWDESK_BENCH_DATABASE_URL", DEFAULT_URL)
    print(f"SLA round on {make_url(url).render_as_string(hide_password=True)}")
    if args.sweep_batch:
        from engine import rounds
        from engine.sla.sweep import sweep_due_steps

        def batched(at: datetime) -> Any:
            return sweep_due_steps(at, batch_size=args.sweep_batch)

        rounds.sweep_due_steps = batched  # type: ignore[assignment]
        print(f"SLA sweep batches of {args.sweep_batch}")
    for size in args.sizes:
        run(size, args.due_percent, url, runs=args.runs, reuse=args.reuse)


if __name__ == "__main__":
    main()
