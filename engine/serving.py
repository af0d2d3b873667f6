"""What `flowdesk serve` does before it answers requests."""

from __future__ import annotations

import logging
import threading
import time

from engine.config import get_settings
from engine.db import unit_of_work
from engine.definitions import deploy_folder
from engine.identity import SYSTEM
from engine.migrations import upgrade_database

log = logging.getLogger("flowdesk.serve")


def prepare_for_serving() -> None:
    """Migrate the database and deploy the processes folder's changed files."""
    settings = get_settings()
    upgrade_database()
    if settings.processes_dir.is_dir():
        with unit_of_work() as session:
            for result in deploy_folder(session, folder=settings.processes_dir, actor=SYSTEM):
                if result.created:
                    log.warning("deployed %s version %s", result.key, result.version)


def start_embedded_background(interval_seconds: float = 60.0) -> threading.Thread:
    """Run background rounds in this process every `interval_seconds` (no broker configured)."""
    from engine.rounds import run_round

    def loop() -> None:
        while True:
            try:
                run_round()
            except Exception:  # keep the loop alive; the next round retries
                log.exception("background round failed")
            time.sleep(interval_seconds)

    thread = threading.Thread(target=loop, name="flowdesk-background", daemon=True)
    thread.start()
    return thread
