"""The throughput bench at a tiny size on SQLite: it runs end to end and prints the
statements per completion by kind (issue 18)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_bench_prints_statements_per_completion_by_kind(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("FLOWDESK_DATABASE_URL", None)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.api_throughput",
            "--backend",
            "sqlite",
            "--instances",
            "4",
            "--runs",
            "1",
            "--count-instances",
            "3",
            "--floor-instances",
            "3",
            "--db-seconds",
            "0.3",
            "--workdir",
            str(tmp_path),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    text = out.stdout
    assert "statements per completion (from the engine event in the server, 6 completions)" in text
    [totals] = [line for line in text.splitlines() if line.strip().startswith("total ")]
    for kind in ("SELECT", "INSERT", "UPDATE", "BEGIN", "COMMIT"):
        assert f"{kind} " in totals, totals
    assert "SELECT by table: " in text and "UPDATE by table: " in text
    assert "raw SpiffWorkflow in-process" in text
    assert "flowdesk, 1 client, 1 API process: completions/s" in text
    assert "flowdesk / raw SpiffWorkflow" in text
