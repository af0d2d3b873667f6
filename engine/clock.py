"""The one clock of flowdesk.

Everything that needs "now" asks `now()`. Tests and `flowdesk tick --at` move
time with `frozen_at()`; SpiffWorkflow's timer module, which reads
`datetime.now(timezone.utc)` itself, is pointed at this clock too.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import lru_cache

_local = threading.local()
_global_override: datetime | None = None


def now() -> datetime:
    """Return the current instant, timezone-aware UTC."""
    frozen = getattr(_local, "frozen", None) or _global_override
    if frozen is not None:
        return frozen
    return datetime.now(UTC)


def to_utc(value: datetime) -> datetime:
    """Return `value` as aware UTC; a naive value is taken to be UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


@lru_cache(maxsize=4096)
def utc_text(value: datetime, timespec: str = "auto") -> str:
    """An aware instant's ISO text in UTC (`value.astimezone(UTC).isoformat(timespec)`),
    remembered: a round's thousands of rows share a few instants (the round's own, the
    due times a working calendar gives). Equal instants give the same text whatever
    their zone, so what was remembered first cannot change it."""
    return value.astimezone(UTC).isoformat(timespec=timespec)


@contextlib.contextmanager
def frozen_at(instant: datetime) -> Iterator[datetime]:
    """Make `now()` return `instant` in this thread until the block ends."""
    previous = getattr(_local, "frozen", None)
    _local.frozen = to_utc(instant)
    try:
        yield _local.frozen
    finally:
        _local.frozen = previous


def set_global_time(instant: datetime | None) -> None:
    """Freeze (or with None, release) the clock for every thread; for tests and simulations."""
    global _global_override
    _global_override = to_utc(instant) if instant is not None else None


class _ClockDatetime(datetime):
    """A datetime class whose now() reads the flowdesk clock.

    Its other constructors return plain datetimes, so that values stored in
    workflow state serialize like any other datetime.
    """

    fromisoformat = staticmethod(datetime.fromisoformat)  # type: ignore[assignment]
    fromisocalendar = staticmethod(datetime.fromisocalendar)  # type: ignore[assignment]
    combine = staticmethod(datetime.combine)  # type: ignore[assignment]

    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        current = now()
        return current.astimezone(tz) if tz is not None else current.replace(tzinfo=None)


def install_spiff_clock() -> None:
    """Point SpiffWorkflow's timer event definitions at this clock."""
    from SpiffWorkflow.bpmn.specs.event_definitions import timer

    timer.datetime = _ClockDatetime  # type: ignore[attr-defined, misc]
