"""Two versions of flowdesk side by side, their requests taken in turns.

    python -m bench.paired_ab OLD_TREE NEW_TREE [--rounds 4] [--instances 200]

OLD_TREE and NEW_TREE are checkouts of flowdesk (`git worktree add /tmp/old <commit>`,
its `.venv` and `node_modules` linked from this one). Each gets a SQLite database
prepared as `bench.api_throughput` prepares its own and a `flowdesk serve` of its own
code (one API process); one client then starts an instance on the old server, one on
the new, and so on, and completes the tasks the same way. Every request of the one
comes a moment after the same request of the other, so a change of the machine's speed
(a third from one minute to the next, seen on the 2-core machine) falls on both alike:
the per-request difference shows where back-to-back runs of `bench.api_throughput`
differ by more than it.

Prints each round's medians and, at the end, the median and mean latency of a start
and of a completion on each side, and their difference.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.api_throughput import Client, Server, prepare

KINDS = ("start", "complete")


class _Side:
    """One tree's server, its database and its client."""

    def __init__(self, name: str, root: Path, workdir: Path) -> None:
        self.name = name
        url = f"sqlite:///{workdir / name}.db"
        prepare(url)
        self.server = Server(url, 1, root=root)
        self.client = Client(self.server.base)
        self.times: dict[str, list[float]] = {kind: [] for kind in KINDS}

    def timed(
        self, kind: str, path: str, headers: dict[str, str], body: dict[str, Any]
    ) -> httpx.Response:
        """POST `body` to `path`, timed as a `kind`."""
        t0 = time.perf_counter()
        r = self.client.http.post(path, headers=headers, json=body)
        self.times[kind].append(time.perf_counter() - t0)
        r.raise_for_status()
        return r

    def stop(self) -> None:
        self.client.http.close()
        self.server.stop()


def _round(sides: list[_Side], instances: int) -> None:
    """Start `instances` cases on each side in turns, then complete their two tasks."""
    first: dict[str, list[str]] = {s.name: [] for s in sides}
    for i in range(instances):
        for s in sides:
            body = {"variables": {"n": i, "customer": "客户" + str(i)}}
            r = s.timed("start", "/api/v1/processes/bench_two_lane/instances", s.client.cs, body)
            first[s.name].append(r.json()["open_tasks"][0]["id"])
    second: dict[str, list[str]] = {s.name: [] for s in sides}
    for i in range(instances):
        for s in sides:
            path = f"/api/v1/tasks/{first[s.name][i]}/complete"
            r = s.timed("complete", path, s.client.cs, {"variables": {"a": "done"}})
            second[s.name].append(r.json()["instance"]["open_tasks"][0]["id"])
    for i in range(instances):
        for s in sides:
            path = f"/api/v1/tasks/{second[s.name][i]}/complete"
            s.timed("complete", path, s.client.eng, {"variables": {"b": "done"}})


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path, help="the tree of the version before")
    parser.add_argument("new", type=Path, help="the tree of the version after")
    parser.add_argument("--rounds", type=int, default=4, help="measured rounds (after one warm-up)")
    parser.add_argument("--instances", type=int, default=200, help="instances per side and round")
    args = parser.parse_args(argv)
    os.environ.setdefault("FLOWDESK_SECRET_KEY", "bench-paired-" + "k" * 40)
    workdir = Path(tempfile.mkdtemp(prefix="flowdesk-paired-"))
    sides: list[_Side] = []
    try:
        for name, root in (("old", args.old), ("new", args.new)):
            sides.append(_Side(name, root.resolve(), workdir))
        _round(sides, max(10, args.instances // 5))  # warm-up, not counted
        for s in sides:
            s.times = {kind: [] for kind in KINDS}
        for number in range(1, args.rounds + 1):
            _round(sides, args.instances)
            cells = " | ".join(
                f"{s.name}: start {statistics.median(s.times['start']) * 1e3:.2f} ms, "
                f"complete {statistics.median(s.times['complete']) * 1e3:.2f} ms"
                for s in sides
            )
            print(f"after round {number}: {cells}", flush=True)
    finally:
        for s in sides:
            s.stop()
    old, new = sides
    out: dict[str, dict[str, float]] = {}
    for kind in KINDS:
        o, n = statistics.median(old.times[kind]), statistics.median(new.times[kind])
        mo, mn = statistics.mean(old.times[kind]), statistics.mean(new.times[kind])
        out[kind] = {"old_median": o, "new_median": n, "old_mean": mo, "new_mean": mn}
        print(
            f"{kind}: median {o * 1e3:.3f} → {n * 1e3:.3f} ms ({(n / o - 1) * 100:+.1f}%), "
            f"mean {mo * 1e3:.3f} → {mn * 1e3:.3f} ms ({(mn / mo - 1) * 100:+.1f}%), "
            f"{len(old.times[kind])} requests each"
        )
    return out


if __name__ == "__main__":
    main()
