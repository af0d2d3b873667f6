"""Case numbers people read out on the phone: TS-2026-000123 for a complaint, XS-2026-000045
for a lead, numbered one after another within the year the case was registered.

Every complaint and lead gets one when it starts without a business key (the start
pages, the demo, an API client that sends none); a key the client sends is kept. The
step hook `number_new_case` gives the number in the start step's transaction. Two
starts at once never get the same number: on PostgreSQL a transaction-scoped advisory
lock per prefix and year queues them (READ COMMITTED: the next one reads the number the
first committed); SQLite's write transactions are serialized by `BEGIN IMMEDIATE`.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from engine import calendar
from engine.audit import PendingEvent
from engine.db import is_sqlite
from engine.models import Instance

PREFIXES = {"complaint_handling": "TS", "lead_follow_up": "XS"}
DIGITS = 6
# How many of the highest keys of a year are read to find the last number (keys an API
# client chose, like TS-2026-ABC, sort above the numbered ones and are skipped).
SCANNED = 100


def case_number(prefix: str, year: int, number: int) -> str:
    """Return the case number `number` of a prefix and year: TS-2026-000123."""
    return f"{prefix}-{year}-{number:0{DIGITS}d}"


def next_case_number(session: Session, *, prefix: str, year: int) -> str:
    """Return the next free case number of a prefix and year, holding it until the
    transaction ends (see the module's note on concurrency)."""
    head = f"{prefix}-{year}-"
    if not is_sqlite(session):
        lock = zlib.crc32(f"flowdesk case number {head}".encode())
        session.execute(text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": lock})
    session.flush()  # the numbers this transaction gave already count
    keys = session.execute(
        select(Instance.business_key)
        .where(Instance.business_key.like(f"{head}%"))
        .order_by(func.length(Instance.business_key).desc(), Instance.business_key.desc())
        .limit(SCANNED)
    ).scalars()
    tails = (key[len(head) :] for key in keys if key)
    last = next((int(tail) for tail in tails if tail.isdigit()), 0)
    return case_number(prefix, year, last + 1)


def number_new_case(
    session: Session, *, instance: Instance, events: Sequence[PendingEvent]
) -> None:
    """Give a complaint or lead that starts without a business key its case number (a
    step hook: engine/hooks.py); the start event records it."""
    prefix = PREFIXES.get(instance.process_key)
    if prefix is None or instance.business_key is not None:
        return
    started = next((e for e in events if e.type == "instance_started"), None)
    if started is None:
        return
    year = instance.started_at.astimezone(calendar.timezone()).year
    instance.business_key = next_case_number(session, prefix=prefix, year=year)
    if started.data is not None:
        started.data["business_key"] = instance.business_key
