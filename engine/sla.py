"""Where a task's due time is decided.

The SLA clock (working calendar, per-severity targets from the BPMN, warnings
and escalations) plugs in here; until a task declares an SLA it has no due time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any


def due_at_for(
    *,
    process_key: str,
    element_id: str,
    extensions: dict[str, Any],
    data: dict[str, Any],
    created_at: datetime,
) -> datetime | None:
    """Return the due time of a task created at `created_at`, or None when it has no SLA."""
    return None
