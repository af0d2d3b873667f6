"""Pausing Python's cyclic garbage collector while a background batch builds its rows.

A sweep batch makes tens of thousands of small dicts and lists (rows, events,
notifications) that all live until the batch's statements are sent. Each 700 new
containers start a collection that walks them again, and every tenth of those
walks the older ones too: about a third of the batch's own CPU. The batch's data
holds no reference cycles, so reference counting frees it; the collector runs
again as soon as the last batch (of any thread) is done.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

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
