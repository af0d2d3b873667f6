"""bench/paired_ab.py on this tree against itself, tiny: both servers answer in turns,
every request is counted on its side, and the differences are printed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_bench_takes_both_sides_requests_in_turns() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWDESK_")}
    env["PYTHONPATH"] = str(ROOT)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.paired_ab",
            str(ROOT),
            str(ROOT),
            "--rounds",
            "2",
            "--instances",
            "5",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "after round 1",
        "after round 2",
        "start",
        "complete",
    ]
    assert "old: start" in lines[0] and "new: start" in lines[0]
    assert lines[2].endswith("10 requests each")  # 2 rounds of 5 starts on each side
    assert lines[3].endswith("20 requests each")  # and of 10 completions
