"""Scaled out for real: two Celery workers and beat on the machine's Redis and
PostgreSQL run the background rounds (every second here), with extra rounds
sent on top; every timer, warning, breach and escalation happens exactly once.

Runs when PostgreSQL is tested and Redis answers; under CI=true a missing Redis
fails the run instead of skipping it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import clock
from engine.db import unit_of_work
from engine.models import HistoryEvent
from tests.conftest import TEST_SECRET_KEY
from tests.fixtures.factories import deploy_fixture
from tests.fixtures.shipped import Case, setup_shipped

FLOWDESK = str(Path(sys.executable).with_name("flowdesk"))
BROKERS = {
    "redis": os.environ.get("FLOWDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/14"),
    "rabbitmq": os.environ.get("FLOWDESK_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//"),
}
IN_CI = os.environ.get("CI") == "true"


def _up(broker_url: str) -> bool:
    from urllib.parse import urlparse

    url = urlparse(broker_url)
    try:
        socket.create_connection((url.hostname or "127.0.0.1", url.port or 0), 1).close()
        return True
    except OSError:
        return False


@pytest.fixture(params=list(BROKERS))
def broker(request: pytest.FixtureRequest) -> str:
    url = BROKERS[request.param]
    if not _up(url):
        if IN_CI:
            pytest.fail(f"{request.param} at {url} is unreachable; under CI=true it must run")
        pytest.skip(f"Celery tests need {request.param} at {url} (set CI=true to require it)")
    if request.param == "redis":
        import redis

        redis.Redis.from_url(url).flushdb()
    else:
        import kombu

        with kombu.Connection(url) as conn:
            try:
                conn.default_channel.queue_purge("flowdesk")
            except Exception:  # noqa: BLE001 - the queue does not exist yet
                pass
    return url


def _events() -> Counter[tuple[str | None, str, object]]:
    with unit_of_work(write=False) as s:
        rows = s.execute(
            select(
                HistoryEvent.task_id, HistoryEvent.type, HistoryEvent.data, HistoryEvent.element_id
            ).where(
                HistoryEvent.type.in_(
                    ["sla_warning", "sla_breached", "task_escalated", "timer_fired"]
                )
            )
        ).all()
    return Counter(
        (task_id or element_id, type_, (data or {}).get("level"))
        for task_id, type_, data, element_id in rows
    )


def test_two_workers_and_beat_do_each_step_once(db_url: str, broker: str, tmp_path: Path) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("scaled-out installs run on PostgreSQL; the SQLite case is the embedded mode")
    api = setup_shipped()
    deploy_fixture("timers.bpmn")
    long_ago = clock.now() - timedelta(days=60)
    clock.set_global_time(long_ago)
    surveys = []
    for _ in range(4):
        case = Case(
            api,
            "cs1",
            "complaint_handling",
            {
                "customer_name": "张伟",
                "phone": "13800138000",
                "category": "quality",
                "description": "漏水",
            },
        )
        state = case.do("acknowledge_complaint", "cs1", {"contacted": True})
        surveys.append(state["open_tasks"][0]["id"])
    acks = [
        Case(
            api,
            "cs2",
            "complaint_handling",
            {
                "customer_name": "李娜",
                "phone": "13900139000",
                "category": "other",
                "description": "噪音",
            },
        ).open()[0]["id"]
        for _ in range(3)
    ]
    timer_case = api.start("prop1", "timers", {})
    assert timer_case.status_code == 201, timer_case.text
    clock.set_global_time(None)

    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWDESK_")}
    env.update(
        FLOWDESK_DATABASE_URL=db_url,
        FLOWDESK_BROKER_URL=broker,
        FLOWDESK_ROUND_SECONDS="1",
        FLOWDESK_VAR_DIR=str(tmp_path),
        FLOWDESK_SECRET_KEY=TEST_SECRET_KEY,
    )
    logs = {name: open(tmp_path / f"{name}.log", "w") for name in ("w1", "w2", "beat")}
    procs = [
        subprocess.Popen(
            [FLOWDESK, "worker", "--concurrency", "2", "-n", f"{name}@%h"],
            env=env,
            stdout=logs[name],
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for name in ("w1", "w2")
    ]
    procs.append(
        subprocess.Popen(
            [FLOWDESK, "beat"],
            env=env,
            stdout=logs["beat"],
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    )
    expected: Counter[tuple[str | None, str, object]] = Counter()
    for task_id in surveys + acks:
        expected[(task_id, "sla_warning", None)] = 1
        expected[(task_id, "sla_breached", None)] = 1
        for level in (1, 2, 3):
            expected[(task_id, "task_escalated", level)] = 1
    expected[("too_late", "timer_fired", None)] = 1  # the boundary timer
    try:
        # More rounds than beat sends, at once, to both workers.
        from celery import Celery

        sender = Celery(broker=broker)
        sender.conf.task_default_queue = "flowdesk"
        for _ in range(12):
            sender.send_task("flowdesk.round")
        deadline = time.monotonic() + 90
        seen = _events()
        while time.monotonic() < deadline and seen != expected:
            assert all(p.poll() is None for p in procs), _logs(tmp_path)
            time.sleep(1)
            seen = _events()
        assert seen == expected, _logs(tmp_path)
        time.sleep(4)  # several more beats: still nothing doubled
        assert _events() == expected
        assert all(p.poll() is None for p in procs), _logs(tmp_path)
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
        for f in logs.values():
            f.close()
    worked = [
        name for name in ("w1", "w2") if "flowdesk.round" in (tmp_path / f"{name}.log").read_text()
    ]
    assert worked == ["w1", "w2"], _logs(tmp_path)


def _logs(tmp_path: Path) -> str:
    return "\n".join(
        f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(tmp_path.glob("*.log"))
    )
