"""The ranges of the integers flowdesk stores: an id beyond them names nothing, an
offset or cursor beyond them is refused (PostgreSQL would answer "out of range",
SQLite an OverflowError)."""

from __future__ import annotations

import math
from datetime import datetime

# PostgreSQL's `integer`: the largest id a row of flowdesk can have.
ROW_ID_MAX = 2**31 - 1
# PostgreSQL's `bigint`: the largest offset or cursor a query can take.
QUERY_INT_MAX = 2**63 - 1


def row_id_exists(value: int) -> bool:
    """Tell whether `value` can be the id (or version number) of a stored row."""
    return 1 <= value <= ROW_ID_MAX


def text_problem(value: str) -> str | None:
    """Return why `value` cannot be stored as text (a NUL character, which PostgreSQL
    refuses, or a lone surrogate, which has no UTF-8), or None when it can."""
    if "\x00" in value:
        return "a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "a lone surrogate"
    return None


def unstorable_at(value: object, name: str, *, max_depth: int = 64) -> tuple[str, str] | None:
    """Return (where, why) when `value` holds what JSON storage refuses: a NaN or
    infinite float, or text with a NUL character or a lone surrogate (in a value or a
    key); `where` is `name`, `name.key` or `name.0`. None when all of it can be stored."""
    stack: list[tuple[object, str, int]] = [(value, name, 0)]
    while stack:
        item, at, depth = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return at, "not a finite number (NaN or Infinity)"
        if isinstance(item, str):
            problem = text_problem(item)
            if problem:
                return at, f"text with {problem}"
        if depth >= max_depth:
            continue
        if isinstance(item, dict):
            for k, v in item.items():
                problem = text_problem(k) if isinstance(k, str) else None
                if problem:
                    return at, f"a key with {problem}"
                stack.append((v, f"{at}.{k}", depth + 1))
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend((v, f"{at}.{i}", depth + 1) for i, v in enumerate(item))
    return None


# The instants a filter may name: far enough apart for any business, near enough that
# converting between time zones (±14 h) and adding a day cannot leave Python's range.
EARLIEST_YEAR = 1900
LATEST_YEAR = 9000


def instant_in_range(value: datetime) -> bool:
    """Tell whether `value` lies between EARLIEST_YEAR and LATEST_YEAR."""
    return EARLIEST_YEAR <= value.year <= LATEST_YEAR
