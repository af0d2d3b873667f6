"""The ranges of the integers flowdesk stores: an id beyond them names nothing, an
offset or cursor beyond them is refused (PostgreSQL would answer "out of range",
SQLite an OverflowError)."""

from __future__ import annotations

# PostgreSQL's `integer`: the largest id a row of flowdesk can have.
ROW_ID_MAX = 2**31 - 1
# PostgreSQL's `bigint`: the largest offset or cursor a query can take.
QUERY_INT_MAX = 2**63 - 1


def row_id_exists(value: int) -> bool:
    """Tell whether `value` can be the id (or version number) of a stored row."""
    return 1 <= value <= ROW_ID_MAX
