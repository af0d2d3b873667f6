"""Pausing Python's cyclic garbage collector while a background batch builds its rows,
and keeping a server's startup heap out of its collections.

A sweep batch makes tens of thousands of small dicts and lists (rows, events,
notifications) that all live until the batch's statements are sent. Each 700 new
containers start a collection that walks them again, and every tenth of those
walks the older ones too: about a third of the batch's own CPU. The batch's data
holds no reference cycles, so reference counting frees it; the collector runs
again as soon as the last batch (of any thread) is done.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger("flowdesk.gc")

_lock = threading.Lock()
_holders = 0
_resume = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """Hold the cyclic collector off for the block; the last holder (of any thread)
    to leave turns it back on, if it was on when the first came."""
    global _holders, _resume
    with _lock:
        if _holders == 0:
            _resume = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _resume:
                gc.enable()


def freeze_startup_heap() -> int:
    """Move every object alive now (the modules, routes, schemas and caches a started
    server holds: ~190 000 objects) out of the collector's reach, after one collection
    so that no garbage is kept. Without this, each full collection walks them all: a
    page or a completion that sets one off took 60-90 ms more (the inbox's p95 at a
    million tasks was that pause, its median 40 ms). `flowdesk serve` does it once
    per API process at startup. Returns the objects frozen."""
    started = time.perf_counter()
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.info(
        "startup heap frozen: %d objects in %.0f ms", frozen, (time.perf_counter() - started) * 1000
    )
    return frozen
