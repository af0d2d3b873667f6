"""bench/inbox_page.py at two tiny sizes on PostgreSQL: a process per size's database,
every view timed on both in turns, and the growth printed per view."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.inbox_page import VIEWS

ROOT = Path(__file__).resolve().parents[2]
PG_URL = os.environ.get("FLOWDESK_TEST_DATABASE_URL")

pytestmark = pytest.mark.skipif(
    not PG_URL,
    reason="PostgreSQL not tested: FLOWDESK_TEST_DATABASE_URL is not set "
    "(make test sets it when a server answers on 127.0.0.1:5432)",
)


def test_the_bench_times_every_view_on_every_size_in_turns() -> None:
    assert PG_URL
    base = make_url(PG_URL).set(database=f"flowdesk_inbox_bench_{uuid.uuid4().hex[:8]}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWDESK_")}
    env["PYTHONPATH"] = str(ROOT)
    env["FLOWDESK_BENCH_DATABASE_URL"] = base.render_as_string(hide_password=False)
    try:
        out = subprocess.run(
            [sys.executable, "-m", "bench.inbox_page", "--tasks", "60", "120", "--requests", "2"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for n in (60, 120):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{base.database}_{n}" WITH (FORCE)'))
        admin.dispose()
    assert out.returncode == 0, out.stderr[-3000:]
    assert "each view's requests in turns across the sizes" in out.stdout
    timed = [line.split() for line in out.stdout.splitlines() if " median " in line]
    for n in ("60", "120"):  # every view, on each size, in the views' order
        assert [(t[1], t[2]) for t in timed if t[0] == n] == [(u, p) for u, p in VIEWS]
    table = out.stdout.split("change of the p95 60 → 120", 1)[1]
    rows = [line for line in table.splitlines() if line.startswith("  ")]
    assert len(rows) == len(VIEWS) and all(row.rstrip().endswith("%") for row in rows)
    assert f"of {len(VIEWS)} views over +20%" in out.stdout
