"""Celery tasks: thin calls into the engine's background round."""

from __future__ import annotations

import logging
from datetime import datetime

from engine import clock
from engine.rounds import run_round
from worker.app import app

log = logging.getLogger("flowdesk.worker")


@app.task(name="flowdesk.round")
def round_task(at: str | None = None) -> dict[str, int]:
    """Run one round of background work as of `at` (ISO-8601, default now)."""
    instant = datetime.fromisoformat(at) if at else clock.now()
    with clock.frozen_at(instant):
        result = run_round(instant)
    counts = result.as_dict()
    if any(counts.values()):
        log.info("round %s: %s", instant.isoformat(), counts)
    return counts
