"""The auditor's history at scale on PostgreSQL: search pages deep into a million
events, streamed CSV / JSON Lines exports (time and the server's memory), and the
full chain verification.

    python -m bench.audit_history [--events 1000000] [--requests 20]

A fresh database (`flowdesk_bench`, or FLOWDESK_BENCH_DATABASE_URL) gets N
hash-chained events (valid chain, ~10 per case over two processes and five
departments, Chinese text and phone numbers in the data) written with COPY.
Then `flowdesk serve` runs as its own process; the bench calls the API like an
auditor would and samples the server's resident memory (/proc) while an export
streams.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
from sqlalchemy.engine import make_url

from bench.sla_sweep import DEFAULT_URL, ROOT, fresh_database

START = datetime(2024, 1, 1, 1, 0, tzinfo=UTC)
STEP = timedelta(seconds=30)
DEPARTMENTS = ("customer_service", "engineering", "property", "sales", "cost_contracts")
LIFE = (
    ("instance_started", None),
    ("task_created", "acknowledge_complaint"),
    ("task_claimed", "acknowledge_complaint"),
    ("task_completed", "acknowledge_complaint"),
    ("task_created", "site_survey"),
    ("sla_warning", "site_survey"),
    ("sla_breached", "site_survey"),
    ("task_escalated", "site_survey"),
    ("task_commented", "site_survey"),
    ("task_completed", "site_survey"),
)


def _event(n: int) -> dict:
    """The n-th event (0-based): deterministic, realistic payloads."""
    case, step = divmod(n, len(LIFE))
    kind, element = LIFE[step]
    process = "complaint_handling" if case % 3 else "lead_follow_up"
    dept = DEPARTMENTS[case % len(DEPARTMENTS)] if element else None
    phone = f"139{case % 100_000_000:08d}"
    data: dict = {}
    if kind == "instance_started":
        variables = {"customer_name": f"客户{case}", "phone": phone, "project": "滨江壹号"}
        data = {
            "process_key": process,
            "version": 1,
            "variables": variables,
            "changes": [{"name": k, "before": None, "after": v} for k, v in variables.items()],
        }
    elif kind == "task_completed":
        data = {
            "name": element,
            "department": dept,
            "variables": {"notes": f"已回电 {phone}"},
            "changes": [{"name": "notes", "before": None, "after": f"已回电 {phone}"}],
            "working_seconds": 3600 + case % 7200,
        }
    elif kind in ("sla_warning", "sla_breached", "task_escalated"):
        data = {"name": element, "recipients": [f"{dept}_sup"], "due_at": "2024-01-02T10:00:00"}
        if kind == "task_escalated":
            data["level"] = 1
    elif kind == "task_commented":
        data = {"name": element, "text": "客户要求下午上门"}
    else:
        data = {"name": element, "department": dept}
    return {
        "at": START + STEP * n,
        "actor": "system"
        if kind.startswith("sla") or kind == "task_escalated"
        else f"user{case % 50}",
        "type": kind,
        "instance_id": f"{case:08d}-0000-4000-8000-000000000000",
        "task_id": f"{case:08d}-{step:04d}-4000-8000-000000000000" if element else None,
        "element_id": element,
        "process_key": process,
        "department": dept,
        "data": data,
    }


def _populate(url: str, count: int) -> None:
    from engine.audit import GENESIS_HASH, event_hash

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    prev = GENESIS_HASH
    columns = (
        "seq, at, actor, type, instance_id, task_id, element_id, process_key, department, "
        "data, prev_hash, hash"
    )
    with psycopg.connect(dsn) as conn:
        with conn.cursor() as cur, cur.copy(f"COPY history_event ({columns}) FROM STDIN") as copy:
            for n in range(count):
                ev = _event(n)
                seq = n + 1
                digest = event_hash(seq=seq, prev_hash=prev, **ev)
                copy.write_row(
                    (
                        seq,
                        ev["at"],
                        ev["actor"],
                        ev["type"],
                        ev["instance_id"],
                        ev["task_id"],
                        ev["element_id"],
                        ev["process_key"],
                        ev["department"],
                        json.dumps(ev["data"], ensure_ascii=False),
                        prev,
                        digest,
                    )
                )
                prev = digest
        conn.execute(
            "UPDATE history_head SET last_seq = %s, last_hash = %s WHERE id = 1", (count, prev)
        )
        # As a running install would be: the scheduled check is up to date.
        conn.execute(
            "UPDATE audit_check SET verified_seq = %s, verified_hash = %s, checked_at = now()",
            (count, prev),
        )
        conn.execute("ANALYZE history_event")


class MemorySampler:
    """Samples a process's resident memory every 50 ms."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, int(self.rss_mb()))
            time.sleep(0.05)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _serve(url: str, port: int, var_dir: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWDESK_")}
    env.update(
        FLOWDESK_DATABASE_URL=url,
        FLOWDESK_PROCESSES_DIR=str(ROOT / "processes"),
        FLOWDESK_ROUND_SECONDS="36000",
        FLOWDESK_VAR_DIR=str(var_dir),
    )
    flowdesk = str(Path(sys.executable).with_name("flowdesk"))
    proc = subprocess.Popen(
        [flowdesk, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return proc
        except httpx.HTTPError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("flowdesk serve did not start") from None
            time.sleep(0.3)


def _timed(
    client: httpx.Client, path: str, params: dict, requests: int
) -> tuple[float, float, int]:
    times, found = [], 0
    for _ in range(requests):
        t0 = time.perf_counter()
        r = client.get(path, params=params)
        times.append((time.perf_counter() - t0) * 1000)
        r.raise_for_status()
        found = len(r.json()["items"])
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)], found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    url = os.environ.get("FLOWDESK_BENCH_DATABASE_URL", DEFAULT_URL)
    fresh_database(url)
    from engine.db import unit_of_work
    from engine.identity import create_user

    with unit_of_work() as s:
        create_user(s, username="auditor", password="bench-pass", roles=["auditor"])
    t0 = time.perf_counter()
    _populate(url, args.events)
    print(
        f"history on {make_url(url).render_as_string(hide_password=True)}: "
        f"{args.events:,} chained events written in {time.perf_counter() - t0:.1f} s"
    )
    var_dir = Path(os.environ.get("TMPDIR", "/tmp")) / "flowdesk-bench-audit"
    var_dir.mkdir(exist_ok=True)
    proc = _serve(url, args.port, var_dir)
    base = f"http://127.0.0.1:{args.port}/api/v1"
    try:
        token = httpx.post(
            f"{base}/auth/token", data={"username": "auditor", "password": "bench-pass"}
        ).json()["access_token"]
        client = httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=600
        )
        half, deep = args.events // 2, args.events - 200
        middle = (START + STEP * half).isoformat()
        middle_end = (START + STEP * (half + 2880)).isoformat()  # one day of events
        searches = [
            ("first page, oldest first", {}),
            ("first page, newest first", {"order": "desc"}),
            ("cursor at the middle", {"after": half}),
            ("cursor near the end", {"after": deep}),
            ("newest first, cursor at the middle", {"order": "desc", "after": half}),
            ("process, middle", {"process_key": "lead_follow_up", "after": half}),
            ("department, middle", {"department": "engineering", "after": half}),
            ("type escalated, middle", {"type": "task_escalated", "after": half}),
            ("actor, middle", {"actor": "user7", "after": half}),
            ("element + department", {"element_id": "site_survey", "department": "sales"}),
            ("one case", {"instance_id": f"{half // 10:08d}-0000-4000-8000-000000000000"}),
            ("one day, deep in time", {"since": middle, "until": middle_end}),
            ("rare type, none after cursor", {"type": "history_exported"}),
        ]
        print(f"  search pages of 100 ({args.requests} requests each):")
        for name, params in searches:
            median, p95, found = _timed(
                client, "/audit/events", {"limit": 100, **params}, args.requests
            )
            print(f"    {name:38} median {median:6.1f} ms  p95 {p95:6.1f} ms  ({found} items)")
        sampler = MemorySampler(proc.pid)
        for fmt in ("csv", "jsonl"):
            client.get("/audit/events", params={"limit": 10}).raise_for_status()  # warm
            before = sampler.rss_mb()
            t0 = time.perf_counter()
            size = rows = 0
            with MemorySampler(proc.pid) as during:
                with client.stream("GET", "/audit/export", params={"format": fmt}) as r:
                    r.raise_for_status()
                    for chunk in r.iter_bytes():
                        size += len(chunk)
                        rows += chunk.count(b"\n")
            took = time.perf_counter() - t0
            print(
                f"  export {fmt:5}: {rows:,} lines, {size / 1e6:,.0f} MB in {took:.1f} s "
                f"({rows / took:,.0f} events/s); server RSS {before:.0f} MB before, "
                f"peak {during.peak} MB during"
            )
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    from engine.audit import verify_chain

    with unit_of_work(write=False) as s:
        t0 = time.perf_counter()
        result = verify_chain(s)
    print(
        f"  full verification (flowdesk audit verify): {result.events:,} events in "
        f"{time.perf_counter() - t0:.1f} s, ok={result.ok}"
    )


if __name__ == "__main__":
    main()
