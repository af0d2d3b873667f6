"""The Celery app of scaled-out installs: `flowdesk worker` and `flowdesk beat`.

The broker is FLOWDESK_BROKER_URL (Redis or RabbitMQ). Beat sends one round
every FLOWDESK_ROUND_SECONDS (default 60); any worker runs it. The tasks are
thin: they call the engine, whose rounds claim rows with
`FOR UPDATE SKIP LOCKED`, so several workers (and a round sent twice) never
do the same work twice.
"""

from __future__ import annotations

from pathlib import Path

from celery import Celery

import crm
from engine.config import get_settings


def make_app() -> Celery:
    crm.install()  # the real-estate vertical: its records follow every step a round runs
    settings = get_settings()
    app = Celery("flowdesk", broker=settings.broker_url or "memory://", include=["worker.tasks"])
    app.conf.update(
        task_ignore_result=True,
        task_acks_late=True,  # a worker that dies mid-round leaves the round to another
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        timezone="UTC",
        enable_utc=True,
        task_default_queue="flowdesk",
        beat_schedule={
            "flowdesk-round": {
                "task": "flowdesk.round",
                "schedule": settings.round_seconds,
                # A round not picked up before the next one is due is redundant.
                "options": {"expires": max(settings.round_seconds * 2, 5)},
            }
        },
    )
    return app


def beat_schedule_file() -> str:
    """Where beat keeps its last-run times (beside the embedded database)."""
    import os

    var_dir = Path(os.environ.get("FLOWDESK_VAR_DIR", "var")).resolve()
    var_dir.mkdir(parents=True, exist_ok=True)
    return str(var_dir / "celerybeat-schedule")


app = make_app()
