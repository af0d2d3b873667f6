"""bench/reports.py at a tiny size on SQLite: it fills its database and times every
report and every section of the /reports page over both periods, and prints them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REPORTS = (
    "sla_report",
    "bottleneck_tasks",
    "scorecards per person",
    "scorecards per department",
    "funnel_report",
    "satisfaction by project",
    "satisfaction by department",
    "satisfaction by category",
    "page: sla section",
    "page: funnel section",
    "page: lost leads section",
    "page: complaints section",
    "page: satisfaction section",
)
HEAT_MAPS = ("version_stats complaint_handling", "version_stats lead_follow_up")


def test_the_bench_prints_every_report(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWDESK_")}
    env["PYTHONPATH"] = str(ROOT)
    args = ["--backend", "sqlite", "--tasks", "600", "--cases", "60", "--requests", "1"]
    database = ["--sqlite-file", str(tmp_path / "bench.db")]
    out = subprocess.run(
        [sys.executable, "-m", "bench.reports", *args, *database],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    table = out.stdout.split("reads each (ms):", 1)[1].splitlines()
    rows = {tuple(line.split()[:-2]) for line in table[2:] if line.strip()}
    expected = {(*name.split(), period) for name in REPORTS for period in ("year", "month")}
    expected |= {(*name.split(), "-") for name in HEAT_MAPS}
    assert rows == expected, out.stdout
    # --reuse keeps the database it finds filled with the same sizes.
    again = subprocess.run(
        [sys.executable, "-m", "bench.reports", *args, *database, "--reuse"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert again.returncode == 0, again.stderr
    assert "reusing the 60 cases already there" in again.stdout
