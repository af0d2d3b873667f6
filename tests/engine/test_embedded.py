"""Embedded mode: `flowdesk serve` without a broker runs the background rounds
in-process on its schedule; with a broker configured it leaves them to Celery."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from engine import clock
from engine.db import unit_of_work
from engine.models import HistoryEvent
from tests.conftest import TEST_SECRET_KEY
from tests.fixtures.shipped import PROCESSES, Case, setup_shipped

FLOWDESK = str(Path(sys.executable).with_name("flowdesk"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _sla_events() -> int:
    with unit_of_work(write=False) as s:
        return s.execute(
            select(func.count())
            .select_from(HistoryEvent)
            .where(HistoryEvent.type.in_(["sla_warning", "sla_breached", "task_escalated"]))
        ).scalar_one()


def _overdue_complaint() -> None:
    api = setup_shipped()
    clock.set_global_time(clock.now() - timedelta(days=30))
    Case(
        api,
        "cs1",
        "complaint_handling",
        {
            "customer_name": "张伟",
            "phone": "13800138000",
            "category": "other",
            "description": "噪音",
        },
    )
    clock.set_global_time(None)


def _serve(db_url: str, tmp_path: Path, **extra: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWDESK_")}
    env.update(
        FLOWDESK_DATABASE_URL=db_url,
        FLOWDESK_PROCESSES_DIR=str(PROCESSES),
        FLOWDESK_ROUND_SECONDS="1",
        FLOWDESK_VAR_DIR=str(tmp_path),
        FLOWDESK_SECRET_KEY=TEST_SECRET_KEY,
        **extra,
    )
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [FLOWDESK, "serve", "--port", str(_free_port())],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def test_serve_runs_rounds_in_process(db_url: str, tmp_path: Path) -> None:
    _overdue_complaint()
    server = _serve(db_url, tmp_path)
    try:
        deadline = time.monotonic() + 60
        # warning, breach and the three levels of the complaint ladder
        while _sla_events() < 5:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.5)
        time.sleep(2.5)  # more rounds: nothing twice
        assert _sla_events() == 5
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_serve_leaves_rounds_to_celery_when_a_broker_is_set(db_url: str, tmp_path: Path) -> None:
    _overdue_complaint()
    server = _serve(db_url, tmp_path, FLOWDESK_BROKER_URL="redis://127.0.0.1:1/0")
    try:
        time.sleep(4)  # four rounds would have run in-process
        assert server.poll() is None, (tmp_path / "serve.log").read_text()
        assert _sla_events() == 0
    finally:
        server.terminate()
        server.wait(timeout=30)
