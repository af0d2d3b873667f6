"""SQLite's write-ahead log copied back into the database off the request path.

SQLite checkpoints by default inside the commit that takes the log past 1 000
pages: that commit copies the pages back and syncs the file twice, and the request
that made it waits. Measured in-process on the two-lane workload: a completion's
commit took 0.55–0.70 ms with those checkpoints and 0.29–0.46 ms without.

`flowdesk serve` sets FLOWDESK_SQLITE_CHECKPOINT=background. Then each connection
checkpoints only past `BACKSTOP_PAGES` (a bound on the log should the thread fall
behind), and a thread of each API process runs a PASSIVE checkpoint every
`INTERVAL_SECONDS`: it copies what no reader still needs and never waits for a lock,
so writers go on meanwhile. Other commands (`tick`, `audit`, the tests) keep SQLite's
default.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

log = logging.getLogger("flowdesk.wal")

ENV = "FLOWDESK_SQLITE_CHECKPOINT"
BACKSTOP_PAGES = 10_000  # about 40 MB of log
INTERVAL_SECONDS = 0.25
DEFAULT_PAGES = 1_000  # SQLite's own


def background_checkpoints() -> bool:
    """Whether this process copies the log back in a thread of its own."""
    return os.environ.get(ENV) == "background"


def configure_connection(cursor: Any) -> None:
    """Set a new SQLite connection's automatic checkpoint: the backstop in a process
    whose thread checkpoints, SQLite's default elsewhere."""
    pages = BACKSTOP_PAGES if background_checkpoints() else DEFAULT_PAGES
    cursor.execute(f"PRAGMA wal_autocheckpoint={pages}")


@dataclass(frozen=True)
class Checkpoint:
    """What one PASSIVE checkpoint reported: pages in the log, and copied back."""

    busy: bool
    log_pages: int
    copied_pages: int


def checkpoint(engine: Engine) -> Checkpoint:
    """Copy back what the log holds that no reader still needs; never wait for a lock.

    `engine` must run each statement outside a transaction (`single_statement_engine`):
    SQLite refuses a checkpoint inside one."""
    with engine.connect() as conn:
        row = conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
    return Checkpoint(busy=bool(row[0]), log_pages=int(row[1]), copied_pages=int(row[2]))


class Checkpointer:
    """The thread that checkpoints one database every `interval` seconds."""

    def __init__(self, engine: Engine, interval: float = INTERVAL_SECONDS) -> None:
        self.engine, self.interval = engine, interval
        self.rounds = 0
        # What the newest round reported (a log already copied back reports its pages
        # again until a writer starts it over, so the rounds' figures are not summed).
        self.last: Checkpoint | None = None
        self._stop = threading.Event()
        self.thread = threading.Thread(
            target=self._run, name="flowdesk-sqlite-checkpoint", daemon=True
        )

    def start(self) -> Checkpointer:
        """Start the thread."""
        self.thread.start()
        return self

    def stop(self) -> None:
        """End the thread after its current checkpoint."""
        self._stop.set()
        self.thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                done = checkpoint(self.engine)
            except OperationalError:  # another process's checkpoint runs: the next round
                continue
            except Exception:  # keep checkpointing; the backstop bounds the log meanwhile
                log.exception("SQLite checkpoint failed")
                continue
            self.rounds += 1
            self.last = done


_started: dict[str, Checkpointer] = {}
_lock = threading.Lock()


def start_checkpointer(engine: Engine) -> Checkpointer | None:
    """Start this process's checkpoint thread for `engine` (once per database), when
    the process checkpoints in the background and the database is SQLite."""
    if not background_checkpoints() or engine.dialect.name != "sqlite":
        return None
    key = str(engine.url)
    with _lock:
        running = _started.get(key)
        if running is None or not running.thread.is_alive():
            running = _started[key] = Checkpointer(engine).start()
        return running
